"""Reading and writing the lakehouse's Delta tables: the one place that does it.

Two engines touch the tables, each where it is best:
- Spark (Sail by default, any Spark Connect endpoint at scale) for transforms:
  `read`, `write` (append, overwrite, replaceWhere) and `merge` (SQL `MERGE INTO`;
  `delta.tables.DeltaTable` does not work over Spark Connect).
- delta-rs (`deltalake`) for Arrow-native writes from ingestion, and for
  maintenance: `optimize`, `vacuum`, `history`, `version`.

Every commit made here is followed by the kill point `commit:<layer>/<table>`
(`bakehouse.killpoints`), so crash tests can stop a run right after any table's commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
from deltalake import DeltaTable, write_deltalake

from bakehouse.config import LAYERS, Settings
from bakehouse.killpoints import commit_point

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession


class LakeError(RuntimeError):
    """A table operation that cannot proceed, with a message saying why."""


@dataclass
class Lake:
    """The Delta tables under `settings.lake`, addressed as (layer, table)."""

    settings: Settings
    spark: SparkSession | None = None

    # -- addressing ---------------------------------------------------------------
    def path(self, layer: str, table: str) -> str:
        if not table or "`" in table or "/" in table:
            raise LakeError(f"invalid table name {table!r}")
        return str(self.settings.table_path(layer, table))

    def exists(self, layer: str, table: str) -> bool:
        return DeltaTable.is_deltatable(self.path(layer, table))

    def tables(self, layer: str) -> list[str]:
        """The Delta tables of a layer, by name."""
        root = self.settings.layer(layer)
        if not root.exists():
            return []
        return sorted(p.name for p in root.iterdir() if DeltaTable.is_deltatable(str(p)))

    def all_tables(self) -> dict[str, list[str]]:
        return {layer: self.tables(layer) for layer in LAYERS}

    def _spark(self) -> SparkSession:
        if self.spark is None:
            raise LakeError("this Lake was created without a Spark session")
        return self.spark

    # -- Spark ---------------------------------------------------------------------
    def read(self, layer: str, table: str, *, version: int | None = None) -> DataFrame:
        if not self.exists(layer, table):
            raise LakeError(f"{layer}.{table} does not exist at {self.path(layer, table)}")
        reader = self._spark().read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(layer, table))

    def write(
        self,
        df: DataFrame,
        layer: str,
        table: str,
        *,
        mode: str = "overwrite",
        partition_by: Sequence[str] = (),
        replace_where: str | None = None,
    ) -> None:
        """Write a frame: `append`, `overwrite`, or replace only the `replace_where` rows.

        Replacing is one atomic commit (readers see the old rows or the new ones). It is
        a key-less `MERGE ... ON false` that inserts every source row and deletes the
        target rows matching the predicate: Delta's replaceWhere semantics, without
        Sail 0.7's replaceWhere, which fails on timestamp columns when the session time
        zone is not UTC.
        """
        if mode not in {"append", "overwrite"}:
            raise LakeError(f"unsupported write mode {mode!r}")
        if replace_where is not None:
            if mode != "overwrite":
                raise LakeError("replace_where needs mode='overwrite'")
            if self.exists(layer, table):
                self._merge_sql(
                    df,
                    layer,
                    table,
                    "false",
                    [
                        "WHEN NOT MATCHED THEN INSERT *",
                        f"WHEN NOT MATCHED BY SOURCE AND ({replace_where}) THEN DELETE",
                    ],
                )
                return
        writer = df.write.format("delta").mode(mode)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(self.path(layer, table))
        commit_point(layer, table)

    def merge(
        self,
        source: DataFrame,
        layer: str,
        table: str,
        keys: Sequence[str],
        *,
        partition_by: Sequence[str] = (),
        delete_when: str | None = None,
        delete_unmatched_where: str | None = None,
    ) -> None:
        """Upsert `source` into the table on `keys` (creating it on first use).

        `delete_when` is an optional SQL condition on the source row (alias `s`) that
        deletes the matched target row instead of updating it. `delete_unmatched_where`
        deletes the target rows (alias `t`) that match it and have no source row: with
        a date predicate, the source becomes exactly those dates' rows.
        """
        if not keys:
            raise LakeError("merge needs at least one key column")
        # On Spark Connect every `columns` is a round trip to the server: ask once.
        source_columns = set(source.columns)
        missing_in_source = [k for k in keys if k not in source_columns]
        if missing_in_source:
            raise LakeError(
                f"merge into {layer}.{table}: source lacks key columns {missing_in_source}"
            )
        if not self.exists(layer, table):
            self.write(source, layer, table, mode="overwrite", partition_by=partition_by)
            return
        target_columns = {f.name for f in DeltaTable(self.path(layer, table)).schema().fields}
        missing_in_target = sorted(source_columns - target_columns)
        missing_in_source_cols = sorted(target_columns - source_columns)
        if missing_in_target or missing_in_source_cols:
            raise LakeError(
                f"merge into {layer}.{table}: columns differ; "
                f"not in target {missing_in_target}, not in source {missing_in_source_cols}"
            )
        on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
        clauses = []
        if delete_when:
            clauses.append(f"WHEN MATCHED AND ({delete_when}) THEN DELETE")
        clauses.append("WHEN MATCHED THEN UPDATE SET *")
        insert_guard = f" AND NOT ({delete_when})" if delete_when else ""
        clauses.append(f"WHEN NOT MATCHED{insert_guard} THEN INSERT *")
        if delete_unmatched_where:
            clauses.append(f"WHEN NOT MATCHED BY SOURCE AND ({delete_unmatched_where}) THEN DELETE")
        self._merge_sql(source, layer, table, on, clauses)

    def _merge_sql(
        self, source: DataFrame, layer: str, table: str, on: str, clauses: Sequence[str]
    ) -> None:
        view = f"merge_source_{uuid.uuid4().hex}"
        source.createOrReplaceTempView(view)
        try:
            self._spark().sql(
                f"MERGE INTO delta.`{self.path(layer, table)}` AS t USING {view} AS s "
                f"ON {on} " + " ".join(clauses)
            ).collect()
        finally:
            self._spark().catalog.dropTempView(view)
        commit_point(layer, table)

    # -- delta-rs (Arrow) ----------------------------------------------------------
    def read_polars(
        self, layer: str, table: str, *, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Read a table with polars' Delta reader, without Spark.

        delta-rs' own pyarrow-dataset path intermittently aborts the interpreter at
        exit in this stack ("terminate called without an active exception"); polars
        reads the Parquet files itself and does not.
        """
        if not self.exists(layer, table):
            raise LakeError(f"{layer}.{table} does not exist at {self.path(layer, table)}")
        frame = pl.scan_delta(self.path(layer, table))
        if columns is not None:
            frame = frame.select(list(columns))
        return frame.collect()

    def read_arrow(
        self, layer: str, table: str, *, columns: Sequence[str] | None = None
    ) -> pa.Table:
        return self.read_polars(layer, table, columns=columns).to_arrow()

    def row_count(self, layer: str, table: str) -> int:
        """Rows in the current version, from the Delta log's file statistics (no data read)."""
        actions = DeltaTable(self.path(layer, table)).get_add_actions(flatten=True)
        return sum(count or 0 for count in actions.column("num_records").to_pylist())

    def write_arrow(
        self,
        data: pa.Table | pa.RecordBatchReader,
        layer: str,
        table: str,
        *,
        mode: str = "append",
        predicate: str | None = None,
        partition_by: Sequence[str] = (),
    ) -> None:
        """Write Arrow data through delta-rs (a reader streams: memory stays one batch).

        With `mode="overwrite"` and a `predicate`, the rows matching the predicate are
        replaced by `data` in one atomic commit (delta-rs' replaceWhere).
        """
        exists = self.exists(layer, table)
        write_deltalake(
            self.path(layer, table),
            data,
            mode=mode if exists else "overwrite" if predicate else mode,
            predicate=predicate if exists else None,
            partition_by=list(partition_by) or None,
            schema_mode="merge" if exists and mode == "append" else None,
        )
        commit_point(layer, table)

    def delete_where(self, layer: str, table: str, predicate: str) -> int:
        """Delete matching rows (delta-rs); returns how many were deleted."""
        if not self.exists(layer, table):
            return 0
        metrics = DeltaTable(self.path(layer, table)).delete(predicate)
        commit_point(layer, table)
        return int(metrics.get("num_deleted_rows", 0))

    # -- maintenance (delta-rs) ------------------------------------------------------
    def version(self, layer: str, table: str) -> int:
        return DeltaTable(self.path(layer, table)).version()

    def history(self, layer: str, table: str, limit: int | None = None) -> list[dict[str, Any]]:
        return DeltaTable(self.path(layer, table)).history(limit)

    def optimize(self, layer: str, table: str) -> dict[str, Any]:
        """Compact small files (nightly appends leave many)."""
        metrics = DeltaTable(self.path(layer, table)).optimize.compact()
        commit_point(layer, table)
        return metrics

    def vacuum(self, layer: str, table: str, retention_hours: int = 168) -> list[str]:
        """Delete files no longer referenced and older than the retention (default 7 days)."""
        return DeltaTable(self.path(layer, table)).vacuum(
            retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
        )

    def maintain(self, layers: Iterable[str] = LAYERS, retention_hours: int = 168) -> None:
        for layer in layers:
            for table in self.tables(layer):
                self.optimize(layer, table)
                self.vacuum(layer, table, retention_hours)
