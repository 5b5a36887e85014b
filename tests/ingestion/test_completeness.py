"""Expected-feed completeness on a simulated lake, checked against the simulator's truth."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from bakehouse.config import Settings
from bakehouse.sim import simulate
from ingestion import completeness, ingest
from ingestion.report import Notice, landing_notices
from ingestion.schemas import FEEDS

START = date(2026, 10, 1)
DAYS = 5
REMOVED = "pos/pos_sales_SH002_20261003.csv"  # a store's file that never came
STORES = ("SH001", "SH002", "SH003")  # scale 0.002: the minimum of three stores
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Every feed once per date, POS once per store: 12 daily feeds + 3 stores.
PER_DATE = len([f for f in FEEDS if f.arrival == "daily"]) + len(STORES)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def sim_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(home=tmp_path_factory.mktemp("completeness") / "home")
    settings.ensure_dirs()
    simulate(settings.landing, settings.truth, scale=0.002, start=START, days=DAYS, seed=3)
    (settings.landing / REMOVED).unlink()
    ingest(settings)
    return settings


def _version(settings: Settings) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(settings.table_path("bronze", completeness.TABLE))).version()


def _truth_lateness(settings: Settings) -> dict[str, int]:
    """Days after its business date each file was last written (0 for an on-time file)."""
    lateness = {}
    for line in (settings.truth / "files.jsonl").read_text().splitlines():
        record = json.loads(line)
        written = date.fromisoformat(record["written_on"])
        lateness[record["path"]] = (written - date.fromisoformat(record["business_date"])).days
    return lateness


def test_missing_and_late_files_match_the_truth(sim_home: Settings) -> None:
    result = completeness.check(sim_home, [date(2026, 10, 5)], now=_at(date(2026, 10, 9)))
    window = [date(2026, 10, d) for d in (2, 3, 4, 5)]
    assert result.checked_dates == window
    assert result.dates_without_files == []
    assert len(result.rows) == len(window) * PER_DATE
    lateness = _truth_lateness(sim_home)
    expected_late = {
        path: days
        for path, days in lateness.items()
        if days and any(path.endswith(f"_{d:%Y%m%d}.{path.rsplit('.', 1)[1]}") for d in window)
    }
    assert {r.expected_file: r.days_late for r in result.late} == expected_late
    assert expected_late  # the seed does hold late files in the window
    assert [(r.expected_file, r.days_late, r.severity) for r in result.missing] == [
        (REMOVED, 5, "error")  # due 2026-10-04, now 2026-10-09
    ]
    on_time = [r for r in result.rows if r.status == "on_time"]
    assert len(on_time) == len(result.rows) - len(expected_late) - 1
    assert {r.days_late for r in on_time} == {0}
    notices = landing_notices(sim_home, [date(2026, 10, 5)], now=_at(date(2026, 10, 9)))
    assert notices[0] == Notice(
        "error", f"missing landing/{REMOVED}: 5 days overdue (the spec allows 3)"
    )
    assert Notice("warning", "late landing/erp/erp_inventory_20261003.csv: 1 day late") in notices


def test_a_missing_file_is_an_error_only_after_three_days(sim_home: Settings) -> None:
    def missing(now: datetime) -> list[tuple[int, str]]:
        result = completeness.check(sim_home, [date(2026, 10, 3)], now=now, write=False)
        return [(r.days_late, r.severity) for r in result.missing]

    assert missing(_at(date(2026, 10, 4))) == [(0, "warning")]
    assert missing(_at(date(2026, 10, 7))) == [(3, "warning")]
    assert missing(_at(date(2026, 10, 8))) == [(4, "error")]


def test_dates_without_files_are_warnings(sim_home: Settings) -> None:
    now = _at(date(2026, 10, 12))
    result = completeness.check(sim_home, [date(2026, 10, 8)], now=now, write=False)
    empty = [date(2026, 10, 6), date(2026, 10, 7), date(2026, 10, 8)]
    assert result.dates_without_files == empty
    assert sorted({r.business_date for r in result.missing}) == [date(2026, 10, 5), *empty][1:]
    assert result.metadata()["dates_without_files"] == "2026-10-06, 2026-10-07, 2026-10-08"
    notices = landing_notices(sim_home, [date(2026, 10, 8)], now=now)
    messages = [n.message for n in notices if n.severity == "warning"]
    assert [m for m in messages if "no landing files" in m] == [
        "2026-10-06: no landing files at all",
        "2026-10-07: no landing files at all",
        "2026-10-08: no landing files at all",
    ]
    errors = [n.message for n in notices if n.severity == "error"]
    # 2026-10-06's files were due 2026-10-07: five days overdue on 2026-10-12.
    assert (
        "missing landing/pos/pos_sales_SH001_20261006.csv: 5 days overdue (the spec allows 3)"
        in errors
    )


def test_nothing_is_checked_before_the_first_full_date(sim_home: Settings) -> None:
    # The member base is dated the day before the first simulated day: not a gap.
    result = completeness.check(sim_home, [START], now=_at(date(2026, 10, 9)), write=False)
    assert result.checked_dates == [START]
    assert result.dates_without_files == []
    onboarding = START - timedelta(days=1)  # only the member base (and the month's costs)
    result = completeness.check(sim_home, [onboarding], now=_at(date(2026, 10, 9)), write=False)
    assert (result.checked_dates, result.rows) == ([], [])


def test_the_table_holds_one_row_per_expected_file_and_date(sim_home: Settings) -> None:
    now = _at(date(2026, 10, 9))
    first = completeness.check(sim_home, [date(2026, 10, 5)], now=now)
    table = completeness.read(sim_home, first.checked_dates)  # other tests check other dates
    assert len(table) == len(first.rows)
    assert table.filter(pl.col("status") == "missing").select(
        "business_date", "feed", "store_code", "expected_file", "days_late", "severity"
    ).rows() == [(date(2026, 10, 3), "pos_sales", "SH002", REMOVED, 5, "error")]
    # The same finding again writes nothing; a changed one replaces the dates' rows.
    version_before = _version(sim_home)
    completeness.check(sim_home, [date(2026, 10, 5)], now=now + timedelta(hours=1))
    assert _version(sim_home) == version_before
    completeness.check(sim_home, [date(2026, 10, 5)], now=now + timedelta(days=1))
    again = completeness.read(sim_home, first.checked_dates)
    assert _version(sim_home) == version_before + 1
    assert len(again) == len(first.rows)
    assert again.filter(pl.col("status") == "missing")["days_late"].to_list() == [6]
    assert Path(sim_home.table_path("bronze", completeness.TABLE)).is_dir()


def test_the_dagster_asset_carries_it_as_run_metadata(
    sim_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from tests.conftest import TEST_PII_KEY

    monkeypatch.setenv("BAKEHOUSE_PII_KEY", TEST_PII_KEY)  # the run's preflight asks for a key

    from orchestration.defs.bronze.completeness import feed_completeness
    from orchestration.partitions import BUSINESS_DATES
    from orchestration.resources import LakehouseResource

    partition = date(2026, 10, 8)  # 10-06..10-08 have no files; 10-05 has late ones
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BUSINESS_DATES, [partition.isoformat()])
        result = dg.materialize(
            [feed_completeness],
            partition_key=partition.isoformat(),
            resources={"lakehouse": LakehouseResource(home=str(sim_home.home))},
            instance=instance,
        )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("bronze__feed_completeness")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    expected = completeness.check(sim_home, [partition], write=False).metadata()
    assert metadata == expected
    assert metadata["dates_without_files"] == "2026-10-06, 2026-10-07, 2026-10-08"
