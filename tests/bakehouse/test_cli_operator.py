"""The operator's first steps: init, preflight refusals, doctor rows, sql output, ui, version."""

from __future__ import annotations

import csv
import io
import json
import stat
from contextlib import nullcontext
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from typer.testing import CliRunner

from bakehouse import cli, doctor, preflight
from bakehouse.cli import app
from bakehouse.config import Settings
from bakehouse.home import landing_contract, readable_pattern
from bakehouse.lake import Lake
from ingestion.schemas import FEEDS, SOURCES

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), catch_exceptions=False, env=env)


def one_line(text: str) -> str:
    return " ".join(text.split())


def tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


# -- init --------------------------------------------------------------------------------
def test_init_creates_a_private_home_and_lists_every_feed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BAKEHOUSE_PII_KEY", raising=False)
    home = tmp_path / "new-home"
    result = invoke("init", "--home", str(home))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    key_file = home / "pii.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text()) == 64
    for source in SOURCES:
        assert (home / "landing" / source).is_dir()
        assert stat.S_IMODE((home / "landing" / source).stat().st_mode) & 0o007 == 0
    dagster_yaml = home / "dagster_home" / "dagster.yaml"
    assert yaml.safe_load(dagster_yaml.read_text())["telemetry"] == {"enabled": False}
    assert stat.S_IMODE(dagster_yaml.stat().st_mode) == 0o640
    assert list((home / "duckdb_extensions").rglob("delta.duckdb_extension"))
    assert stat.S_IMODE((home / "warehouse.duckdb").stat().st_mode) == 0o640
    output = one_line(result.output)
    for feed in FEEDS:
        assert f"{feed.source}/ │ {readable_pattern(feed.pattern)} │ {feed.name}" in output
    assert "demo" not in output
    # A second init completes the home and keeps the key.
    key = key_file.read_text()
    assert invoke("init", "--home", str(home)).exit_code == 0
    assert key_file.read_text() == key


def test_landing_patterns_come_from_the_feed_contracts() -> None:
    patterns = {(e.folder, e.pattern) for e in landing_contract()}
    assert ("pos", "pos_sales_<store>_<yyyymmdd>.csv") in patterns
    assert ("meituan", "meituan_orders_<yyyymmdd>.xlsx") in patterns
    assert ("erp", "erp_store_costs_<yyyymm>.csv") in patterns
    assert len(patterns) == len(FEEDS)


def test_init_with_the_key_variable_set_writes_no_key_file(settings: Settings) -> None:
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert not settings.pii_key_file.exists()
    assert f"home ready: {settings.home}" in result.output


def test_init_refuses_a_new_key_for_a_lake_built_with_a_missing_one(
    tmp_path: Path, monkeypatch
) -> None:
    from bakehouse.preflight import record_fingerprint

    monkeypatch.delenv("BAKEHOUSE_PII_KEY", raising=False)
    home = tmp_path / "built"
    assert invoke("init", "--home", str(home)).exit_code == 0
    built = Settings(home=home)
    record_fingerprint(built, (home / "pii.key").read_bytes())
    (home / "pii.key").rename(tmp_path / "moved.key")
    result = invoke("init", "--home", str(home))
    assert result.exit_code == 2
    assert "was built with a key" in one_line(result.output)
    assert "restore" in one_line(result.output)
    assert not (home / "pii.key").exists()


# -- preflight through the CLI -------------------------------------------------------------
def test_run_on_a_missing_home_fails_in_one_line_and_creates_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    home = tmp_path / "mistyped"
    monkeypatch.setenv("BAKEHOUSE_HOME", str(home))
    for args in (["run", "--date", "2026-11-01"], ["sql", "select 1"], ["maintain"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert one_line(result.output) == (
            f"error: BAKEHOUSE_HOME {home} does not exist; "
            f"run `bakehouse init --home {home}` to create it"
        )
    assert not home.exists()


def test_run_refuses_today_and_writes_nothing(settings: Settings) -> None:
    today = preflight.shanghai_today()
    before = tree(settings.home)
    result = invoke("run", "--date", today.isoformat())
    assert result.exit_code == 2
    assert one_line(result.output) == (
        f"error: business date {today} is not over yet: today is {today} in Asia/Shanghai; "
        f"the latest business date that can run is {today - timedelta(days=1)}"
    )
    assert tree(settings.home) == before


def test_run_refuses_a_missing_key_and_writes_nothing(settings: Settings, monkeypatch) -> None:
    monkeypatch.delenv("BAKEHOUSE_PII_KEY")
    before = tree(settings.home)
    result = invoke("run", "--date", "2026-11-01")
    assert result.exit_code == 2
    assert one_line(result.output).startswith("error: no PII key: set BAKEHOUSE_PII_KEY, or run")
    assert "demo" not in result.output
    assert tree(settings.home) == before


def test_run_and_maintain_refuse_a_changed_key(settings: Settings, monkeypatch) -> None:
    preflight.preflight(settings)
    monkeypatch.setenv("BAKEHOUSE_PII_KEY", "a-different-key")
    before = tree(settings.home)
    for args in (["run", "--date", "2026-11-01"], ["maintain"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert "is not the key this lake was built with" in one_line(result.output)
        assert len(result.output.strip().splitlines()) == 1
    assert tree(settings.home) == before


# -- doctor --------------------------------------------------------------------------------
def test_doctor_reports_a_missing_home_as_rows(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "nowhere"
    monkeypatch.setenv("BAKEHOUSE_HOME", str(home))
    result = invoke("doctor")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    rows = {c.name: c for c in doctor.run_checks(Settings(home=home))}
    assert rows["home"].detail == (
        f"BAKEHOUSE_HOME {home} does not exist; run `bakehouse init --home {home}` to create it"
    )
    assert [rows[n].ok for n in ("home", "pii key", "home permissions")] == [False] * 3
    assert rows["duckdb delta extension"].detail == "not checked: no home"
    assert not home.exists()


def test_doctor_reports_open_landing_permissions(settings: Settings) -> None:
    settings.landing.chmod(0o777)
    (settings.landing / "pos").mkdir()
    extract = settings.landing / "pos" / "pos_sales_SH001_20261101.csv"
    extract.write_text("header\n")
    extract.chmod(0o644)
    assert invoke("doctor").exit_code == 1
    rows = {c.name: c for c in doctor.run_checks(settings)}
    assert not rows["landing permissions"].ok
    assert rows["landing permissions"].detail == (
        f"{settings.landing} mode 777 (others may enter it: chmod o-rwx {settings.landing}); "
        "1 file(s) readable by everyone, e.g. pos_sales_SH001_20261101.csv"
    )
    assert rows["home permissions"].ok


# -- sql -----------------------------------------------------------------------------------
@pytest.fixture
def orders(settings: Settings) -> Settings:
    table = pa.table(
        {
            "channel": ["pos", "meituan"],
            "net_amount": pa.array([12.5, None], pa.float64()),
            "ordered_at": pa.array([0, 3_600_000_000], pa.timestamp("us", tz="UTC")),
        }
    )
    Lake(settings).write_arrow(table, "silver", "orders")
    return settings


QUERY = "select channel, net_amount, ordered_at from silver.orders order by channel"


def test_sql_right_aligns_numbers_and_shows_null(orders: Settings) -> None:
    result = invoke("sql", QUERY)
    assert result.exit_code == 0, result.output
    assert "┃ channel ┃ net_amount ┃ ordered_at                ┃" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    assert lines == [
        "│ meituan │       NULL │ 1970-01-01 09:00:00+08:00 │",
        "│ pos     │       12.5 │ 1970-01-01 08:00:00+08:00 │",
    ]


def test_sql_csv_and_json_write_every_row(orders: Settings) -> None:
    as_csv = invoke("sql", "--csv", QUERY)
    assert as_csv.exit_code == 0, as_csv.output
    assert list(csv.reader(io.StringIO(as_csv.output))) == [
        ["channel", "net_amount", "ordered_at"],
        ["meituan", "", "1970-01-01 09:00:00+08:00"],
        ["pos", "12.5", "1970-01-01 08:00:00+08:00"],
    ]
    as_json = invoke("sql", "--json", QUERY)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == [
        {"channel": "meituan", "net_amount": None, "ordered_at": "1970-01-01T09:00:00+08:00"},
        {"channel": "pos", "net_amount": 12.5, "ordered_at": "1970-01-01T08:00:00+08:00"},
    ]


def test_sql_on_an_empty_lake_says_to_run_a_night(settings: Settings) -> None:
    result = invoke("sql", "select * from silver.orders")
    assert result.exit_code == 2
    assert one_line(result.output).endswith(
        "has no silver or gold tables yet: run a night first, `bakehouse run --date YYYY-MM-DD`)"
    )


def test_sql_runs_in_shanghai_time(settings: Settings) -> None:
    result = invoke("sql", "--csv", "select current_setting('TimeZone') as tz")
    assert result.output.splitlines() == ["tz", "Asia/Shanghai"]


# -- ui, version, small print -----------------------------------------------------------------
def test_ui_commands_bind_to_localhost_with_telemetry_off(settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    for kind, port in (("dagster", 3000), ("mlflow", 5000)):
        command, _ = cli.ui_command(kind, settings, port)
        assert command[-4:] == ["-h", "127.0.0.1", "-p", str(port)]
    mlflow, _ = cli.ui_command("mlflow", settings, 5000)
    assert mlflow[1:4] == ["ui", "--backend-store-uri", settings.mlflow_tracking_uri]
    environ = cli._ui_environment(settings)
    assert environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert environ["DAGSTER_DISABLE_TELEMETRY"] == "true"
    assert environ["DAGSTER_HOME"] == str(settings.dagster_home)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == "bakehouse 0.1.0\n"


def test_counts_and_feed_labels_read_as_english() -> None:
    assert cli._counted(1, "quarantined rows") == "1 quarantined row"
    assert cli._counted(1_204, "quarantined rows") == "1,204 quarantined rows"
    assert cli._counted(1, "rejected file") == "1 rejected file"
    assert cli._counted(3, "rejected file") == "3 rejected files"
    assert cli._feed_display("pos/(unknown)") == "pos: unrecognised files"
    assert cli._feed_display("pos_sales") == "pos_sales"


def test_next_steps_print_each_command_on_one_line(settings: Settings, monkeypatch) -> None:
    narrow = cli.Console(width=40, file=io.StringIO())
    monkeypatch.setattr(cli, "console", narrow)
    cli._next_steps(settings)
    printed = narrow.file.getvalue()
    command = f'BAKEHOUSE_HOME={settings.home} bakehouse sql "select * from silver.orders limit 10"'
    assert f"  {command}\n" in printed
    assert "│" not in printed


def test_demo_date_range_passes_preflight(settings: Settings) -> None:
    today = preflight.shanghai_today()
    nights = [today - timedelta(days=offset) for offset in range(1, 9)]
    preflight.preflight(settings, nights, today=today)
    assert max(nights) == today - timedelta(days=1) < today
    assert isinstance(min(nights), date)


def test_verbose_leaves_library_output_alone(settings: Settings) -> None:
    assert isinstance(cli._quiet(settings, verbose=True), nullcontext)
    assert not settings.log_file.exists()
