"""A tiny chain's quiet days (no orders on a platform, no contacts added) give header-only
or empty files, and bronze lands them as files with no rows: nothing is rejected."""

from __future__ import annotations

from datetime import date

import polars as pl

from bakehouse.config import Settings
from bakehouse.sim import simulate
from ingestion import ingest
from tests.ingestion.conftest import ledger


def _data_rows(path) -> int | None:
    """Data rows of a CSV (header excluded) or JSON-lines file; None for a workbook."""
    if path.suffix == ".xlsx":
        return None
    text = path.read_bytes()
    if path.suffix == ".jsonl":
        return text.count(b"\n")
    return text.count(b"\r\n") - 1


def test_header_only_files_of_quiet_days_land_with_no_rows(settings: Settings) -> None:
    simulate(settings.landing, settings.truth, scale=0.001, start=date(2026, 9, 1), days=20, seed=2)
    ingest(settings)
    rows = ledger(settings)
    assert rows["status"].unique().to_list() == ["landed"]
    on_disk = {
        path.relative_to(settings.landing).as_posix(): _data_rows(path)
        for path in settings.landing.rglob("*")
        if path.is_file()
    }
    empty_on_disk = sorted(name for name, count in on_disk.items() if count == 0)
    empty_in_ledger = sorted(rows.filter(pl.col("rows_read") == 0)["source_file"].to_list())
    assert empty_in_ledger == empty_on_disk
    assert len(empty_on_disk) == 15  # the seed's quiet days (checked by the line above)
