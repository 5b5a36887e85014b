"""Delta tables as plain DuckDB SQL: `read_parquet` over the files of one version.

A DuckDB view written this way needs no Delta extension, so a plain `duckdb -readonly`
CLI, the dbt-duckdb project and BI tools read the same snapshot the same way. The
view pins the version it was written from: its files stay valid while the table moves
on, until VACUUM deletes them (`bakehouse.maintenance` never deletes a pinned
version's files; `bakehouse.warehouse` records the pins).

Limits, checked (a `DeltaSqlError` names the table): the reader protocol must be 1
(no deletion vectors or column mapping, which `read_parquet` cannot apply). Partition
columns come from the Hive-style directory names with the type of the Delta schema.
A version without files becomes a typed empty select, because `read_parquet([])`
fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import DeltaTable


class DeltaSqlError(RuntimeError):
    """A Delta table that cannot be read as plain Parquet files, with the reason."""


@dataclass(frozen=True)
class DeltaSnapshot:
    """One version of one Delta table, as a SELECT that plain DuckDB can run."""

    path: str
    version: int
    files: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) in the table's order
    partition_columns: tuple[str, ...]
    description: str | None

    def select_sql(self) -> str:
        """`SELECT <columns> FROM read_parquet([...])`, or a typed empty select."""
        names = ", ".join(_quote_identifier(name) for name, _ in self.columns)
        if not self.files:
            typed = ", ".join(
                f"CAST(NULL AS {type_}) AS {_quote_identifier(name)}"
                for name, type_ in self.columns
            )
            return f"SELECT {typed} WHERE false"
        files = ", ".join(_quote_literal(f) for f in self.files)
        options = ""
        if self.partition_columns:
            types = dict(self.columns)
            hive_types = ", ".join(
                f"{_quote_literal(c)}: {types[c]}" for c in self.partition_columns
            )
            options = f", hive_partitioning = true, hive_types = {{{hive_types}}}"
        else:
            options = ", hive_partitioning = false"
        return f"SELECT {names} FROM read_parquet([{files}]{options})"


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def duckdb_types(schema: pa.Schema) -> list[tuple[str, str]]:
    """DuckDB's type for every field of an Arrow schema (DuckDB maps them itself)."""
    con = duckdb.connect()
    try:
        empty = pa.Table.from_batches([], schema=schema)  # noqa: F841 (read by DuckDB)
        rows = con.execute("DESCRIBE SELECT * FROM empty").fetchall()
    finally:
        con.close()
    return [(row[0], row[1]) for row in rows]


def snapshot(path: str | Path, version: int | None = None) -> DeltaSnapshot:
    """The files and typed columns of a Delta table's version (default: the latest).

    Raises `DeltaSqlError` when the table needs reader features beyond protocol 1.
    """
    table = DeltaTable(str(path), version=version)
    protocol = table.protocol()
    if protocol.min_reader_version > 1 or protocol.reader_features:
        raise DeltaSqlError(
            f"{path}: reader protocol {protocol.min_reader_version} with features "
            f"{protocol.reader_features or []} cannot be read as plain Parquet files"
        )
    schema = pa.schema(table.schema().to_arrow())
    metadata = table.metadata()
    return DeltaSnapshot(
        path=str(path),
        version=table.version(),
        files=tuple(sorted(table.file_uris())),
        columns=tuple(duckdb_types(schema)),
        partition_columns=tuple(metadata.partition_columns),
        description=metadata.description,
    )
