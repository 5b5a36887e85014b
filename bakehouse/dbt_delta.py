"""Our dbt-duckdb plugin: silver Delta tables in, gold Delta tables out.

Configured in `profiles.yml` (`plugins: - module: bakehouse.dbt_delta`) with
`silver_root` and `gold_root`.

- **In** (`configure_connection`): every silver table except the PII vault becomes a
  view `silver.<table>` over the Parquet files of its current version
  (`bakehouse.delta_sql`), created when dbt opens its DuckDB file. The dbt sources
  (`models/staging/silver/_silver__sources.yml`) are those views; the vault is never
  one, so no model can select from it.
- **Out** (`store`): a mart with `materialized='external', plugin='bakehouse_delta'`
  is written by dbt-duckdb to a Parquet file, then `store` commits that file's rows to
  `<gold_root>/<model>` as one Delta overwrite (delta-rs), with the model's
  description as the table's description.

Empty models: dbt-duckdb's `external` materialization writes one all-NULL row when a
model is empty (so the file has a schema). A gold table's grain columns are never
null, so a file of exactly one row whose every column is null is that placeholder:
`store` publishes an empty table with the model's schema instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from dbt.adapters.duckdb.plugins import BasePlugin
from deltalake import DeltaTable, write_deltalake

from bakehouse.delta_sql import snapshot

RESTRICTED_TABLES = frozenset({"pii_vault"})


def is_placeholder_row(table: pa.Table) -> bool:
    """True for dbt-duckdb's stand-in for an empty result: one row, all columns null."""
    return table.num_rows == 1 and all(column.null_count == 1 for column in table.columns)


def publish(table: pa.Table, target: str | Path, description: str | None = None) -> int:
    """Overwrite the Delta table at `target` with `table` in one commit; returns its version.

    The schema is replaced too (a model's columns may change between runs).
    """
    if is_placeholder_row(table):
        table = table.slice(0, 0)
    write_deltalake(
        str(target),
        table,
        mode="overwrite",
        schema_mode="overwrite",
        description=description,
    )
    return DeltaTable(str(target)).version()


def delta_tables(root: Path) -> list[str]:
    """The Delta tables directly under `root`, except restricted ones (the PII vault)."""
    if not root.exists():
        return []
    return sorted(
        path.name
        for path in root.iterdir()
        if path.name not in RESTRICTED_TABLES and DeltaTable.is_deltatable(str(path))
    )


class Plugin(BasePlugin):
    """dbt-duckdb plugin (see the module docstring)."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        missing = [key for key in ("silver_root", "gold_root") if not plugin_config.get(key)]
        if missing:
            raise ValueError(f"bakehouse.dbt_delta plugin needs {missing} in profiles.yml")
        self.silver_root = Path(plugin_config["silver_root"])
        self.gold_root = Path(plugin_config["gold_root"])

    def update_connection_config(self, creds, config: dict[str, Any]) -> None:
        # dbt's DuckDB file and the external files live in folders of the home that a
        # fresh home does not have yet.
        for folder in (Path(creds.path).parent, Path(creds.external_root)):
            folder.mkdir(parents=True, exist_ok=True)

    def configure_connection(self, conn) -> None:
        conn.execute("CREATE SCHEMA IF NOT EXISTS silver")
        for table in delta_tables(self.silver_root):
            select = snapshot(self.silver_root / table).select_sql()
            conn.execute(f'CREATE OR REPLACE VIEW silver."{table}" AS {select}')
        # The gold tables as last published: member_tag_history extends its own past.
        conn.execute("CREATE SCHEMA IF NOT EXISTS gold_published")
        for table in delta_tables(self.gold_root):
            select = snapshot(self.gold_root / table).select_sql()
            conn.execute(f'CREATE OR REPLACE VIEW gold_published."{table}" AS {select}')

    def store(self, target_config) -> None:
        if target_config.location is None:
            raise ValueError(f"{target_config.relation}: the Delta store needs an external file")
        data = pq.read_table(target_config.location.path)
        model = getattr(target_config.config, "model", None)
        description = getattr(model, "description", None) or None
        self.gold_root.mkdir(parents=True, exist_ok=True)
        publish(data, self.gold_root / target_config.relation.identifier, description)
