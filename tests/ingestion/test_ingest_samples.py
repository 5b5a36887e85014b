"""Every feed's shared sample exports land whole, typed, with lineage and a ledger."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from bakehouse.config import Settings
from ingestion import ingest
from ingestion.report import summary
from ingestion.schemas import FEEDS, FEEDS_BY_NAME, LINEAGE_COLUMNS
from tests.ingestion.conftest import assert_accounting, copy_landing, ledger, read_table

ENCODING = {"gbk": "gb18030", "utf-8-sig": "utf-8-sig", "utf-8": "utf-8"}


def data_rows(path: Path, feed_name: str) -> int:
    """Count a sample's data rows independently of the code under test."""
    feed = FEEDS_BY_NAME[feed_name]
    if feed.format == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True)[feed.sheet]
        rows = [
            r
            for r in sheet.iter_rows(min_row=feed.header_row + 1, values_only=True)
            if any(v is not None for v in r)
        ]
        return len(rows)
    text = path.read_bytes().decode(ENCODING[feed.encoding])
    if feed.format == "jsonl":
        return sum(1 for line in text.splitlines() if line.strip())
    return max(0, len(list(csv.reader(io.StringIO(text)))) - 1)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, samples_landing: Path):
    """The samples ingested once for the module (the tests below only read)."""
    settings = Settings(home=tmp_path_factory.mktemp("samples") / "bakehouse")
    settings.ensure_dirs()
    copy_landing(samples_landing, settings)
    return settings, ingest(settings)


def test_every_feed_lands_with_the_samples_row_counts(ingested, samples_landing: Path) -> None:
    settings, report = ingested
    for feed in FEEDS:
        files = sorted((samples_landing / feed.source).iterdir())
        expected = sum(data_rows(p, feed.name) for p in files if feed.match(p.name))
        assert report.summary(feed.name).rows_landed == expected, feed.name
        assert report.summary(feed.name).rows_quarantined == 0, feed.name
        assert len(read_table(settings, "bronze", feed.name)) == expected, feed.name
    assert_accounting(settings)
    assert set(ledger(settings)["status"]) == {"landed"}


def test_bronze_columns_are_typed_with_lineage(ingested) -> None:
    settings, _ = ingested
    pos = read_table(settings, "bronze", "pos_sales")
    assert pos.schema["sold_at"] == pl.Datetime("us", "UTC")
    assert pos.schema["received_amount"] == pl.Decimal(18, 2)
    assert pos.schema["qty"] == pl.Decimal(12, 3)
    assert pos.schema["line_no"] == pl.Int64
    assert {name for name, _ in LINEAGE_COLUMNS} <= set(pos.columns)
    first = pos.filter(
        (pl.col("source_file") == "pos/pos_sales_SH101_20261101.csv") & (pl.col("source_row") == 1)
    ).row(0, named=True)
    # GBK decoded; POS local time 2026/11/01 07:11:22 is 23:11:22 UTC the day before.
    assert first["store_name"] == "静安寺店"
    assert first["sold_at"] == datetime(2026, 10, 31, 23, 11, 22, tzinfo=UTC)
    assert first["received_amount"] == Decimal("30.00")
    assert first["member_card_no"] is None  # empty string -> null
    assert first["business_date"] == date(2026, 11, 1)
    assert len(first["file_sha256"]) == 64


def test_bom_gbk_json_and_xlsx_specifics(ingested) -> None:
    settings, _ = ingested
    stores = read_table(settings, "bronze", "erp_stores")
    assert "SH101" in stores["store_code"].to_list()  # BOM stripped from the first header
    costs = read_table(settings, "bronze", "erp_store_costs")
    assert costs["business_date"].unique().to_list() == [date(2026, 11, 1)]  # monthly file
    meituan = read_table(settings, "bronze", "meituan_orders")
    assert not meituan["order_id"].str.contains("美团外卖订单明细").any()  # title row skipped
    assert meituan["order_id"].str.starts_with("MT").all()
    assert meituan.schema["merchant_receivable"] == pl.Decimal(18, 2)
    orders = read_table(settings, "bronze", "mp_orders")
    row = orders.row(0, named=True)
    assert isinstance(json.loads(row["items_json"]), list)
    assert row["member_id"].startswith("U")  # flattened from member.member_id
    assert row["created_at"].tzinfo is not None
    eleme = read_table(settings, "bronze", "eleme_orders")
    assert all(isinstance(json.loads(cell), list) for cell in eleme["items_raw"])


def test_header_only_and_zero_byte_jsonl_land_with_no_rows(ingested) -> None:
    settings, _ = ingested
    rows = ledger(settings)
    quiet = rows.filter(pl.col("rows_read") == 0)
    assert set(quiet["feed"]) == {"douyin_verifications", "wecom_contacts"}
    assert set(quiet["status"]) == {"landed"}
    assert read_table(settings, "bronze", "douyin_verifications").is_empty()


def test_second_run_changes_nothing(ingested) -> None:
    settings, first = ingested
    tables = [f.name for f in FEEDS] + ["file_ledger"]
    versions = {t: _version(settings, t) for t in tables}
    again = ingest(settings)
    assert {t: _version(settings, t) for t in tables} == versions
    assert again.totals.files == 0
    assert again.totals.unchanged == first.totals.files


def test_summary_from_the_ledger_matches_the_run(ingested) -> None:
    settings, report = ingested
    from_ledger = {s.feed: s for s in summary(settings)}
    for feed, run_summary in report.feeds.items():
        assert from_ledger[feed] == run_summary
    one_day = {s.feed: s for s in summary(settings, [date(2026, 11, 2)])}
    assert one_day["pos_sales"].files == 5
    assert one_day["erp_store_costs"].files == 1  # a monthly file counts for its whole month
    assert {s.feed for s in summary(settings, [date(2026, 11, 30)])} == {"erp_store_costs"}
    assert report.to_rows()[0][0] == "douyin_orders"


def _version(settings: Settings, table: str) -> int:
    from deltalake import DeltaTable

    return DeltaTable(str(settings.table_path("bronze", table))).version()
