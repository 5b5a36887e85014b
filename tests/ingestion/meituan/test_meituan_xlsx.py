"""Meituan XLSX: title row skipped, missing sheet rejected, float noise not a decimal."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from bakehouse.config import Settings
from ingestion import ingest
from ingestion.meituan.xlsx import cell_text
from ingestion.schemas import FEEDS_BY_NAME
from tests.ingestion.conftest import assert_accounting, ledger_row, read_table

FILE = "meituan/meituan_orders_20261121.xlsx"
ROW = [
    "MT1",
    "MT880101",
    "烘焙坊(静安寺店)",
    "2026-11-21 12:01:33",
    None,
    "已取消",
    "牛角包*1",
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    0.0,
    "尾号5678",
    "上海市**路**号",
    "mt1",
    0.0,
]


def _xlsx(sheet: str = "订单明细", rows: list[list] | None = None) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(["美团外卖订单明细 2026-11-21"])
    worksheet.append(FEEDS_BY_NAME["meituan_orders"].source_headers)
    for row in rows or []:
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_missing_sheet_rejects_the_file(settings: Settings, landing) -> None:
    landing(FILE, _xlsx(sheet="Sheet1", rows=[ROW]))
    report = ingest(settings, feeds=["meituan_orders"])
    row = ledger_row(settings, FILE)
    assert (row["status"], row["reason"]) == ("rejected", "missing_sheet")
    assert report.summary("meituan_orders").rejected == 1


def test_rows_land_with_money_from_float_cells(settings: Settings, landing) -> None:
    noisy = [*ROW[:5], "已完成", "牛角包*3", 25.5, 30.5, 0.0, 0.1 + 0.2, 5.0, 25.2, *ROW[13:]]
    landing(FILE, _xlsx(rows=[ROW, noisy]))
    ingest(settings, feeds=["meituan_orders"])
    bronze = read_table(settings, "bronze", "meituan_orders").sort("source_row")
    assert bronze["order_id"].to_list() == ["MT1", "MT1"]
    assert bronze["completed_at"][0] is None  # optional, empty
    assert bronze["platform_commission"][1] == Decimal("0.30")  # 0.30000000000000004
    assert ledger_row(settings, FILE)["rows_landed"] == 2
    assert_accounting(settings)


def test_unreadable_workbook_is_rejected(settings: Settings, landing, tmp_path: Path) -> None:
    landing(FILE, b"PK\x03\x04 not really a zip")
    ingest(settings, feeds=["meituan_orders"])
    assert ledger_row(settings, FILE)["reason"] == "unreadable_xlsx"


def test_cell_text() -> None:
    assert cell_text(30.0) == "30"
    assert cell_text(21.599999999999998) == "21.6"
    assert cell_text("") is None
