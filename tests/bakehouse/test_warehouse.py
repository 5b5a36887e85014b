"""The analyst database: plain-DuckDB views over pinned Delta versions, never blocking.

Real files and real processes: a second Python process and the `duckdb` CLI query the
warehouse in a loop while it is rebuilt and the tables change under it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from bakehouse import warehouse
from bakehouse.lake import Lake
from bakehouse.maintenance import maintain_lake

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def plain_cli(settings, sql: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The duckdb CLI, read-only, no init file, an empty HOME: no extension anywhere."""
    empty_home = tmp_path / "empty_home"
    empty_home.mkdir(exist_ok=True)
    return subprocess.run(
        [
            str(DUCKDB_CLI), "-readonly", "-csv", "-noheader",
            "-cmd", "SET autoinstall_known_extensions = false",
            "-cmd", "SET autoload_known_extensions = false",
            str(settings.warehouse), "-c", sql,
        ],
        capture_output=True, text=True, env={**os.environ, "HOME": str(empty_home)},
    )  # fmt: skip


def test_views_expose_silver_and_gold_but_not_bronze_or_the_vault(settings) -> None:
    lake = Lake(settings)
    lake.write_arrow(pa.table({"x": [1, 2]}), "silver", "orders")
    lake.write_arrow(pa.table({"y": [3]}), "gold", "mart_channel_mix")
    lake.write_arrow(pa.table({"phone": ["13812345678"]}), "silver", "pii_vault")
    lake.write_arrow(pa.table({"raw": ["x"]}), "bronze", "pos_sales")
    assert warehouse.refresh_views(settings) == ["silver.orders", "gold.mart_channel_mix"]
    con = warehouse.connect(settings)
    assert con.execute("select sum(x) from silver.orders").fetchone() == (3,)
    views = {
        r[0]
        for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()
    }
    con.close()
    assert views == {"orders", "mart_channel_mix"}


def test_plain_duckdb_cli_reads_gold_with_no_extension_installed(settings, tmp_path) -> None:
    day = pa.array([19662, 19662, 19663], pa.date32())  # a partitioned table, as silver's
    write_deltalake(
        str(settings.table_path("gold", "member_360")),
        pa.table({"one_id": ["a", "b", "c"], "spend_amount": [1, 2, 39], "business_date": day}),
        partition_by=["business_date"],
    )
    write_deltalake(
        str(settings.table_path("gold", "empty_mart")),
        pa.Table.from_pylist([], pa.schema([("one_id", pa.string()), ("n", pa.int64())])),
    )
    warehouse.refresh_views(settings)
    assert not list(settings.duckdb_extensions.rglob("*.duckdb_extension"))
    out = plain_cli(
        settings,
        "select count(*), sum(spend_amount), count(distinct business_date) from gold.member_360",
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3,42,2"
    empty = plain_cli(settings, "select count(*), typeof(max(n)) from gold.empty_mart", tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "0,BIGINT"


def test_views_carry_the_table_description_and_version(settings) -> None:
    write_deltalake(
        str(settings.table_path("gold", "member_tags")),
        pa.table({"one_id": ["a"]}),
        description="Current tags (会员标签).",
    )
    warehouse.refresh_views(settings)
    con = warehouse.connect(settings)
    comment = con.execute(
        "select comment from duckdb_views() where schema_name = 'gold'"
    ).fetchone()[0]
    con.close()
    path = settings.table_path("gold", "member_tags").resolve()
    assert comment == f"Current tags (会员标签). (Delta version 0 of {path})"


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, stop, out, table = sys.argv[1:5]
    ok = failed = 0
    errors = []
    import os
    while not os.path.exists(stop):
        try:
            con = duckdb.connect(path, read_only=True)
            con.execute(f"select count(*) from {table}").fetchall()
            con.close()
            ok += 1
        except Exception as error:
            failed += 1
            errors.append(str(error))
        time.sleep(0.01)
    open(out, "w").write(f"{ok} {failed}\\n" + "\\n".join(errors[:5]))
    """
)
CLI_READER = textwrap.dedent(
    """
    ok=0; failed=0
    while [ ! -e "$2" ]; do
      if "$4" -readonly -csv -noheader "$1" -c "select count(*) from $5" >/dev/null 2>>"$3.err"
      then ok=$((ok+1)); else failed=$((failed+1)); fi
    done
    echo "$ok $failed" > "$3"
    """
)


def start_readers(
    settings, tmp_path: Path, table: str = "gold.t"
) -> tuple[list[subprocess.Popen], Path, list[Path]]:
    """A Python process and a `duckdb` CLI loop, querying `table` until told to stop."""
    stop = tmp_path / "stop"
    outputs = [tmp_path / "python_reader.out", tmp_path / "cli_reader.out"]
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    readers = [
        subprocess.Popen(
            [sys.executable, str(script), str(settings.warehouse), str(stop), str(outputs[0]),
             table]
        ),
        subprocess.Popen(
            ["bash", "-c", CLI_READER, "reader", str(settings.warehouse), str(stop),
             str(outputs[1]), str(DUCKDB_CLI), table]
        ),
    ]  # fmt: skip
    return readers, stop, outputs


def stop_readers(readers, stop: Path, outputs: list[Path]) -> list[tuple[int, int, str]]:
    stop.touch()
    for reader in readers:
        reader.wait(timeout=60)
    results = []
    for output in outputs:
        counts, *errors = output.read_text(encoding="utf-8").split("\n")
        ok, failed = (int(v) for v in counts.split())
        err_file = Path(f"{output}.err")
        errors.append(err_file.read_text() if err_file.exists() else "")
        results.append((ok, failed, "\n".join(errors)))
    return results


def test_refresh_never_blocks_readers_in_other_processes(settings, tmp_path) -> None:
    table = str(settings.table_path("gold", "t"))
    write_deltalake(table, pa.table({"x": [1]}))
    warehouse.refresh_views(settings)
    readers, stop, outputs = start_readers(settings, tmp_path)
    try:
        time.sleep(1)
        for night in range(2, 12):
            write_deltalake(table, pa.table({"x": list(range(night))}), mode="overwrite")
            warehouse.refresh_views(settings)
        time.sleep(1)
    finally:
        results = stop_readers(readers, stop, outputs)
    for ok, failed, errors in results:
        assert failed == 0, errors
        assert ok > 0
    con = warehouse.connect(settings)
    assert con.execute("select count(*) from gold.t").fetchone() == (11,)
    con.close()


def test_maintenance_keeps_the_files_of_pinned_versions(settings, monkeypatch) -> None:
    table = settings.table_path("gold", "t")
    write_deltalake(str(table), pa.table({"x": [1, 2]}))
    warehouse.refresh_views(settings)  # pins version 0
    write_deltalake(str(table), pa.table({"x": [3]}), mode="overwrite")
    lake = Lake(settings)
    results = maintain_lake(lake, retention_hours=0, allow_short_retention=True, layers=["gold"])
    assert "pinned version(s) [0]" in results[0].vacuum_skipped
    con = warehouse.connect(settings)
    assert con.execute("select sum(x) from gold.t").fetchone() == (3,)  # v0 still readable
    con.close()
    # Two refreshes move both pins (current and previous) past version 0: now it goes.
    warehouse.refresh_views(settings)
    warehouse.refresh_views(settings)
    results = maintain_lake(lake, retention_hours=0, allow_short_retention=True, layers=["gold"])
    assert results[0].vacuum_skipped is None
    assert results[0].files_vacuumed == 1
    assert pl.read_delta(str(table))["x"].to_list() == [3]


@pytest.mark.parametrize("layer", ["silver", "gold"])
def test_sql_opens_the_warehouse_read_only(settings, layer) -> None:
    Lake(settings).write_arrow(pa.table({"x": [1]}), layer, "t")
    warehouse.refresh_views(settings)
    con = warehouse.connect(settings)
    with pytest.raises(Exception, match="read-only"):
        con.execute(f"create table {layer}.scratch as select 1")
    con.close()
