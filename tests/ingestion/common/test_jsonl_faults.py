"""JSON-lines faults: malformed lines are quarantined, missing optional keys noted."""

from __future__ import annotations

import json

import polars as pl

from bakehouse.config import Settings
from ingestion import ingest
from tests.ingestion.conftest import assert_accounting, ledger_row, read_table

ORDER = {
    "order_id": "MP1",
    "created_at": "2026-11-21T09:02:11+08:00",
    "updated_at": "2026-11-21T09:12:44+08:00",
    "status": "PAID",
    "fulfillment": "PICKUP",
    "store_code": "SH001",
    "member": {"member_id": "U1", "unionid": "oUn1", "openid": "oOp1", "phone": "13812345678"},
    "items": [
        {"sku": "B0012", "name": "法式长棍", "qty": 2, "price_fen": 1200, "discount_fen": 100}
    ],
    "coupon_ids": ["CP1"],
    "freight_fen": 500,
    "pay_amount_fen": 2800,
    "refund_amount_fen": 0,
    "points_used": 0,
}
FILE = "miniprogram/mp_orders_20261121.jsonl"


def _line(**changes) -> str:
    record = {**ORDER, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...}, ensure_ascii=False)


def test_malformed_line_and_truncated_last_line(settings: Settings, landing) -> None:
    text = "\n".join(
        [
            _line(),
            '{"order_id": "MP2", "status": ',
            _line(order_id="MP3", pay_amount_fen="lots"),
            _line(order_id="MP4")[:30],
        ]
    )
    landing(FILE, text)
    ingest(settings, feeds=["mp_orders"])
    row = ledger_row(settings, FILE)
    assert (row["rows_read"], row["rows_landed"], row["rows_quarantined"]) == (4, 1, 3)
    quarantine = read_table(settings, "quarantine", "mp_orders").sort("source_row")
    assert quarantine["reason_code"].to_list() == ["bad_json", "bad_number", "truncated_row"]
    assert quarantine["raw_line"][0] == '{"order_id": "MP2", "status": '
    assert_accounting(settings)


def test_missing_keys_and_extra_keys(settings: Settings, landing) -> None:
    landing(
        FILE,
        "\n".join(
            [
                _line(points_used=..., member=None, channel="APP"),
                _line(order_id="MP2", points_used=...),
            ]
        )
        + "\n",
    )
    no_status = "miniprogram/mp_orders_20261122.jsonl"
    landing(no_status, _line(status=...) + "\n" + _line(order_id="MP2", status=...) + "\n")
    ingest(settings, feeds=["mp_orders"])
    row = ledger_row(settings, FILE)
    assert (row["rows_landed"], row["rows_quarantined"]) == (2, 0)
    assert "missing_optional_columns:points_used" in row["notes"]
    assert "extra_columns:channel" in row["notes"]
    bronze = read_table(settings, "bronze", "mp_orders").sort("source_row").row(0, named=True)
    assert bronze["member_id"] is None and bronze["points_used"] is None
    assert json.loads(bronze["extra_json"]) == {"channel": "APP"}
    # A required key absent from the whole file: its rows are quarantined, not guessed at.
    missing = ledger_row(settings, no_status)
    assert (missing["rows_landed"], missing["rows_quarantined"]) == (0, 2)
    quarantine = read_table(settings, "quarantine", "mp_orders")
    assert quarantine["reason_code"].to_list() == ["missing_column:status"] * 2
    assert_accounting(settings)


def test_zero_byte_jsonl_is_a_quiet_day(settings: Settings, landing) -> None:
    landing("wecom/wecom_contacts_20261121.jsonl", b"")
    ingest(settings, feeds=["wecom_contacts"])
    row = ledger_row(settings, "wecom/wecom_contacts_20261121.jsonl")
    assert (row["status"], row["rows_read"]) == ("landed", 0)
    assert read_table(settings, "bronze", "wecom_contacts").schema["added_at"] == pl.Datetime(
        "us", "UTC"
    )
