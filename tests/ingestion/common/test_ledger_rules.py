"""Ledger rules: re-exports replace atomically, duplicates and unknown names, late files."""

from __future__ import annotations

import shutil
from datetime import date

import polars as pl
from deltalake import DeltaTable

from bakehouse.config import Settings
from ingestion import ingest
from tests.ingestion.conftest import (
    POS_FILE,
    POS_ROW,
    POS_ROW_2,
    assert_accounting,
    ledger,
    ledger_row,
    pos_text,
    read_table,
)


def _bronze_version(settings: Settings) -> int:
    return DeltaTable(str(settings.table_path("bronze", "pos_sales"))).version()


def test_re_export_replaces_the_old_copy_in_one_commit(settings: Settings, landing) -> None:
    bad = POS_ROW_2.replace(",8.50,现金", ",x,现金")
    landing(POS_FILE, pos_text(POS_ROW, bad).encode("gbk"))
    ingest(settings, feeds=["pos_sales"])
    version = _bronze_version(settings)
    assert len(read_table(settings, "quarantine", "pos_sales")) == 1

    landing(
        POS_FILE, pos_text(POS_ROW, POS_ROW_2, POS_ROW_2.replace("-0002", "-0003")).encode("gbk")
    )
    report = ingest(settings, feeds=["pos_sales"])
    assert _bronze_version(settings) == version + 1  # delete old + add new: one commit
    bronze = read_table(settings, "bronze", "pos_sales")
    assert len(bronze) == 3 and bronze["file_sha256"].n_unique() == 1
    assert read_table(settings, "quarantine", "pos_sales").is_empty()
    assert ledger_row(settings, POS_FILE, "superseded")["superseded_at"] is not None
    assert ledger_row(settings, POS_FILE, "landed")["rows_landed"] == 3
    assert report.summary("pos_sales").superseded == 1
    assert_accounting(settings)


def test_duplicates_under_other_names_are_not_loaded(settings: Settings, landing) -> None:
    content = pos_text(POS_ROW, POS_ROW_2).encode("gbk")
    landing(POS_FILE, content)
    ingest(settings)
    landing("pos/pos_sales_SH102_20261121.csv", content)  # valid name, same bytes
    landing("pos/pos_sales_SH101_20261121 (1).csv", content)  # copy with an unknown name
    landing("pos/readme.txt", "not an export")
    report = ingest(settings)
    dup = ledger_row(settings, "pos/pos_sales_SH102_20261121.csv")
    assert (dup["status"], dup["reason"]) == ("duplicate", f"duplicate_of:{POS_FILE}")
    copy = ledger_row(settings, "pos/pos_sales_SH101_20261121 (1).csv")
    assert copy["status"] == "duplicate"
    readme = ledger_row(settings, "pos/readme.txt")
    assert (readme["status"], readme["reason"]) == ("rejected", "unknown_file_name")
    assert len(read_table(settings, "bronze", "pos_sales")) == 2
    assert report.summary("pos_sales").duplicates == 1
    assert report.summary("pos/(unknown)").files == 2
    assert_accounting(settings)


def test_unchanged_master_snapshot_is_not_a_duplicate(sample_home: Settings) -> None:
    ingest(sample_home, feeds=["erp_stores"])
    rows = ledger(sample_home)
    assert rows["status"].to_list() == ["landed", "landed"]
    assert rows["file_sha256"].n_unique() == 1


def test_late_file_lands_in_its_own_date(settings: Settings, landing) -> None:
    landing(POS_FILE, pos_text(POS_ROW).encode("gbk"))
    ingest(settings, [date(2026, 11, 21)])
    late = "pos/pos_sales_SH101_20261118.csv"
    landing(late, pos_text(POS_ROW_2.replace("20261121", "20261118")).encode("gbk"))
    assert ingest(settings, [date(2026, 11, 21)]).totals.files == 0  # not this date's file
    ingest(settings)
    bronze = read_table(settings, "bronze", "pos_sales")
    assert bronze.filter(pl.col("source_file") == late)["business_date"].to_list() == [
        date(2026, 11, 18)
    ]
    assert ledger_row(settings, late)["business_date"] == date(2026, 11, 18)


def test_dates_and_feeds_limit_the_run(sample_home: Settings) -> None:
    report = ingest(sample_home, [date(2026, 11, 1)], feeds=["pos_sales", "erp_store_costs"])
    assert set(report.feeds) == {"pos_sales", "erp_store_costs"}
    assert report.summary("pos_sales").files == 5
    assert set(ledger(sample_home)["business_date"]) == {date(2026, 11, 1)}


def test_a_file_going_back_to_an_earlier_content_lands_again(
    settings: Settings, landing, tmp_path
) -> None:
    first = pos_text(POS_ROW).encode("gbk")
    landing(POS_FILE, first)
    ingest(settings)
    landing(POS_FILE, pos_text(POS_ROW, POS_ROW_2).encode("gbk"))
    ingest(settings)
    shutil.copy(settings.landing / POS_FILE, tmp_path / "second.csv")
    landing(POS_FILE, first)
    ingest(settings)
    assert len(read_table(settings, "bronze", "pos_sales")) == 1
    assert sorted(ledger(settings)["status"]) == ["landed", "superseded"]
