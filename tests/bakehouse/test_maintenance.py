"""Table maintenance: compaction and vacuum shrink a table of many small appends, and
nothing a reader sees changes; a retention below the safe minimum needs saying so."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from typer.testing import CliRunner

from bakehouse.cli import app
from bakehouse.config import Settings
from bakehouse.lake import Lake
from bakehouse.maintenance import (
    MaintenanceError,
    allow_short_retention_from_env,
    maintain_lake,
    minimum_retention_hours,
    retention_from_env,
)

APPENDS = 12
DATES = (dt.date(2026, 11, 1), dt.date(2026, 11, 2))


def _small_appends(lake: Lake, layer: str = "bronze", table: str = "pos_sales") -> pl.DataFrame:
    """A table built the way nightly ingestion builds it: one small commit at a time."""
    for batch in range(APPENDS):
        rows = pa.table(
            {
                "source_file": [f"pos/file_{batch}.csv"] * 3,
                "source_row": [1, 2, 3],
                "amount": [batch * 1.5, batch * 2.5, None],
                "business_date": [DATES[batch % 2]] * 3,
            }
        )
        lake.write_arrow(rows, layer, table, partition_by=["business_date"])
    return _contents(lake, layer, table)


def _contents(lake: Lake, layer: str, table: str) -> pl.DataFrame:
    return lake.read_polars(layer, table).sort("source_file", "source_row")


def _active_files(lake: Lake, layer: str, table: str) -> int:
    return len(DeltaTable(lake.path(layer, table)).file_uris())


def test_compaction_and_vacuum_shrink_the_table_and_keep_its_rows(settings: Settings) -> None:
    lake = Lake(settings)
    before = _small_appends(lake)
    _small_appends(lake, "quarantine", "pos_sales")
    assert _active_files(lake, "bronze", "pos_sales") == APPENDS

    results = maintain_lake(lake, retention_hours=0, allow_short_retention=True)

    by_name = {r.name: r for r in results}
    assert set(by_name) == {"bronze.pos_sales", "quarantine.pos_sales"}
    bronze = by_name["bronze.pos_sales"]
    assert (bronze.files_before, bronze.files_after) == (APPENDS, len(DATES))
    assert bronze.files_compacted == APPENDS
    assert bronze.files_vacuumed == APPENDS  # the small files no version needs any more
    assert 0 < bronze.bytes_on_disk_after < bronze.bytes_on_disk_before
    assert bronze.bytes_removed == bronze.bytes_on_disk_before  # every small file is gone
    assert bronze.version_after > bronze.version_before  # OPTIMIZE, VACUUM start and end
    assert _active_files(lake, "bronze", "pos_sales") == len(DATES)
    after = _contents(lake, "bronze", "pos_sales")
    assert after.height == before.height == APPENDS * 3
    assert after.equals(before)
    assert lake.row_count("bronze", "pos_sales") == APPENDS * 3


def test_default_retention_compacts_but_keeps_recent_versions(settings: Settings) -> None:
    lake = Lake(settings)
    before = _small_appends(lake)
    [result] = maintain_lake(lake)
    assert result.files_after == len(DATES) and result.files_vacuumed == 0
    assert result.bytes_removed == 0  # nothing old enough to delete
    assert result.bytes_on_disk_after > result.bytes_on_disk_before  # compacted files added
    assert _contents(lake, "bronze", "pos_sales").equals(before)
    # Time travel to before the compaction still works: its files are still there.
    first = pl.read_delta(lake.path("bronze", "pos_sales"), version=0)
    assert first.height == 3


def test_a_retention_below_the_safe_minimum_is_refused_and_changes_nothing(
    settings: Settings,
) -> None:
    lake = Lake(settings)
    _small_appends(lake)
    version = lake.version("bronze", "pos_sales")
    with pytest.raises(MaintenanceError, match=r"24 h is shorter .*bronze\.pos_sales \(168 h\)"):
        maintain_lake(lake, retention_hours=24)
    assert lake.version("bronze", "pos_sales") == version
    assert _active_files(lake, "bronze", "pos_sales") == APPENDS


def test_a_table_with_a_shorter_configured_retention_may_be_vacuumed_sooner(
    settings: Settings,
) -> None:
    lake = Lake(settings)
    path = lake.path("silver", "pii_vault")
    write_deltalake(
        path,
        pa.table({"x": [1]}),
        configuration={"delta.deletedFileRetentionDuration": "interval 2 days"},
    )
    assert minimum_retention_hours(DeltaTable(path)) == 48
    [result] = maintain_lake(lake, retention_hours=48)
    assert result.name == "silver.pii_vault" and result.files_after == 1


def test_retention_settings_come_from_the_environment() -> None:
    assert retention_from_env({}) == 168
    assert retention_from_env({"BAKEHOUSE_VACUUM_RETENTION_HOURS": " 336 "}) == 336
    for bad in ("a week", "-1", "1.5"):
        with pytest.raises(MaintenanceError, match="BAKEHOUSE_VACUUM_RETENTION_HOURS"):
            retention_from_env({"BAKEHOUSE_VACUUM_RETENTION_HOURS": bad})
    assert not allow_short_retention_from_env({})
    assert allow_short_retention_from_env({"BAKEHOUSE_VACUUM_ALLOW_SHORT_RETENTION": "true"})


# -- bakehouse maintain ----------------------------------------------------------------
runner = CliRunner()


def _maintain(*args: str):
    result = runner.invoke(app, ["maintain", *args], catch_exceptions=False)
    return result, " ".join(result.output.split())


def test_cli_maintain_compacts_every_table_and_reports_it(settings: Settings) -> None:
    lake = Lake(settings)
    before = _small_appends(lake)
    result, output = _maintain("--retention-hours", "0", "--allow-short-retention")
    assert result.exit_code == 0, result.output
    assert "bronze.pos_sales" in output and "VACUUM keeping 0 h" in output
    assert "1 tables" in output and "MB removed" in output
    assert _active_files(lake, "bronze", "pos_sales") == len(DATES)
    assert _contents(lake, "bronze", "pos_sales").equals(before)


def test_cli_maintain_refuses_a_short_retention_and_unknown_layers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _small_appends(Lake(settings))
    result, output = _maintain("--retention-hours", "1")
    assert result.exit_code == 2 and "shorter than the tables' safe minimum" in output
    monkeypatch.setenv("BAKEHOUSE_VACUUM_RETENTION_HOURS", "2")
    result, output = _maintain()
    assert result.exit_code == 2 and "2 h is shorter" in output
    result, output = _maintain("--layer", "platinum")
    assert result.exit_code == 2 and "unknown layer platinum" in output


def test_cli_maintain_waits_for_a_running_lake_writer(
    settings: Settings, running_lake_writer: str
) -> None:
    lake = Lake(settings)
    _small_appends(lake)
    result, output = _maintain()
    assert result.exit_code == 1 and running_lake_writer[:8] in output and "--force" in output
    assert _active_files(lake, "bronze", "pos_sales") == APPENDS
    result, _ = _maintain("--force")
    assert result.exit_code == 0, result.output
    assert _active_files(lake, "bronze", "pos_sales") == len(DATES)
