"""The analyst database reads silver/gold Delta tables, and never the PII vault."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from bakehouse import warehouse
from bakehouse.lake import Lake


def test_views_expose_silver_and_gold_but_not_bronze_or_the_vault(settings) -> None:
    lake = Lake(settings)
    lake.write_arrow(pa.table({"x": [1, 2]}), "silver", "orders")
    lake.write_arrow(pa.table({"y": [3]}), "gold", "mart_channel_mix")
    lake.write_arrow(pa.table({"phone": ["13812345678"]}), "silver", "pii_vault")
    lake.write_arrow(pa.table({"raw": ["x"]}), "bronze", "pos_sales")
    assert warehouse.refresh_views(settings) == ["silver.orders", "gold.mart_channel_mix"]
    con = warehouse.connect(settings, read_only=True)
    assert con.execute("select sum(x) from silver.orders").fetchone() == (3,)
    views = {
        r[0]
        for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()
    }
    con.close()
    assert views == {"orders", "mart_channel_mix"}


def test_plain_duckdb_cli_opens_the_database_with_the_init_file(settings) -> None:
    Lake(settings).write_arrow(pa.table({"x": [41, 1]}), "silver", "orders")
    warehouse.refresh_views(settings)
    duckdb_cli = Path(sys.executable).with_name("duckdb")
    out = subprocess.run(
        [
            str(duckdb_cli),
            "-init",
            str(settings.home / "duckdbrc"),
            "-csv",
            str(settings.warehouse),
            "-c",
            "select sum(x) as total from silver.orders",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "42"
    assert (
        warehouse.installed_extension(settings).parent.parent.parent == settings.duckdb_extensions
    )
