"""The README's first command, end to end: `bakehouse demo` on a tiny chain, then a re-run.

This is the integration proof: the simulator's faulted extracts go through the same
Dagster job the schedule runs, every file is accounted for in the ledger, silver is
built, the analyst database answers, and running the same nights again changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from bakehouse.cli import app
from bakehouse.lake import Lake

DAYS = 2


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory, request):
    home = tmp_path_factory.mktemp("demo") / "bakehouse"
    monkeypatch = pytest.MonkeyPatch()
    request.addfinalizer(monkeypatch.undo)
    monkeypatch.setenv("BAKEHOUSE_HOME", str(home))
    monkeypatch.delenv("BAKEHOUSE_PII_KEY", raising=False)
    monkeypatch.delenv("BAKEHOUSE_SPARK_REMOTE", raising=False)
    result = CliRunner().invoke(
        app, ["demo", "--days", str(DAYS), "--scale", "0.005"], catch_exceptions=False
    )
    return home, result


def _nights() -> list[date]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    start = today - timedelta(days=DAYS)
    return [start + timedelta(days=offset) for offset in range(-1, DAYS)]


def test_demo_runs_every_night_and_prints_next_steps(demo_home) -> None:
    home, result = demo_home
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "generated a key" in output
    assert "Bronze accounting" in output
    assert "Next steps" in output and "bakehouse ui dagster" in output
    assert "bakehouse sql" in output and "bakehouse init" in output
    assert "duckdb -readonly" in output
    assert (home / "pii.key").stat().st_mode & 0o777 == 0o600
    assert output.count(" ok ") >= len(_nights())


def test_every_landed_file_is_accounted_for(demo_home) -> None:
    home, _ = demo_home
    from bakehouse.config import Settings

    lake = Lake(Settings(home=home))
    ledger = pl.from_arrow(lake.read_arrow("bronze", "file_ledger"))
    landing_files = {
        str(p.relative_to(home / "landing")) for p in (home / "landing").rglob("*") if p.is_file()
    }
    assert landing_files <= set(ledger["source_file"])
    landed = ledger.filter(pl.col("status") == "landed")
    assert (landed["rows_read"] == landed["rows_landed"] + landed["rows_quarantined"]).all()
    assert set(ledger["status"]) >= {"landed", "rejected", "duplicate"}
    assert ledger.filter(pl.col("status") == "rejected")["reason"].null_count() == 0
    quarantined = sum(lake.row_count("quarantine", t) for t in lake.tables("quarantine"))
    assert quarantined == landed["rows_quarantined"].sum() > 0


def test_silver_and_the_analyst_database_are_built(demo_home) -> None:
    home, _ = demo_home
    from bakehouse import warehouse
    from bakehouse.config import Settings

    settings = Settings(home=home)
    lake = Lake(settings)
    for table in ("orders", "order_lines", "stores", "products", "identity_map", "members"):
        assert lake.exists("silver", table), table
        assert lake.row_count("silver", table) > 0, table
    con = warehouse.connect(settings, read_only=True)
    channels = {r[0] for r in con.execute("select distinct channel from silver.orders").fetchall()}
    views = {r[0] for r in con.execute("select view_name from duckdb_views()").fetchall()}
    con.close()
    assert {"pos", "miniprogram", "meituan", "eleme"} <= channels
    assert "pii_vault" not in views


def test_running_the_same_nights_again_changes_nothing_in_bronze(demo_home) -> None:
    home, _ = demo_home
    from bakehouse.config import Settings

    lake = Lake(Settings(home=home))
    before = {t: lake.version("bronze", t) for t in lake.tables("bronze")}
    nights = _nights()
    result = CliRunner().invoke(
        app, ["run", "--from", nights[0].isoformat(), "--to", nights[-1].isoformat()]
    )
    assert result.exit_code == 0, result.output
    after = {t: lake.version("bronze", t) for t in lake.tables("bronze")}
    assert after == before
