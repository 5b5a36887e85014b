"""Tiny bronze tables for identity tests, written with the bronze contract's schema."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from ingestion.schemas import FEEDS_BY_NAME, LINEAGE_COLUMNS

NIGHT_1 = date(2026, 11, 1)
NIGHT_2 = date(2026, 11, 2)


def _arrow_type(type_name: str) -> pa.DataType:
    if type_name in {"string", "json"}:
        return pa.string()
    if type_name == "int":
        return pa.int64()
    if type_name == "bool":
        return pa.bool_()
    if type_name == "date":
        return pa.date32()
    if type_name == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if match := re.fullmatch(r"decimal\((\d+),(\d+)\)", type_name):
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    raise ValueError(type_name)


def _coerce(value: Any, type_: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(type_) and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if pa.types.is_date(type_) and isinstance(value, str):
        return date.fromisoformat(value)
    if pa.types.is_decimal(type_):
        return Decimal(str(value))
    return value


def bronze_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (bronze column names; missing ones null) as an Arrow table with lineage."""
    feed = FEEDS_BY_NAME[name]
    columns = [(col.name, col.type) for col in feed.columns] + list(LINEAGE_COLUMNS)
    arrays = {}
    for column_name, type_name in columns:
        type_ = _arrow_type(type_name)
        values = []
        for index, row in enumerate(rows):
            if column_name == "business_date":
                value = row.get("business_date", NIGHT_1.isoformat())
            elif column_name == "source_file":
                # One landing file per business date, as the extracts come: a later
                # night's rows are a new file that the incremental identity run reads.
                day = row.get("business_date", NIGHT_1.isoformat())
                value = row.get("source_file", f"{feed.source}/{name}_{day}.test")
            elif column_name == "source_row":
                value = index + 1
            elif column_name == "batch_id":
                value = "test"
            else:
                value = row.get(column_name)
            values.append(_coerce(value, type_))
        arrays[column_name] = pa.array(values, type=type_)
    return pa.table(arrays)


@pytest.fixture
def write_bronze(lake) -> Callable[[str, list[dict[str, Any]]], None]:
    """Replace a bronze table with the given rows."""

    def write(name: str, rows: list[dict[str, Any]]) -> None:
        lake.write_arrow(bronze_table(name, rows), "bronze", name, mode="overwrite")

    return write


def member(member_id: str, **fields: Any) -> dict[str, Any]:
    """A CRM member row with sensible defaults."""
    row: dict[str, Any] = {
        "member_id": member_id,
        "card_no": None,
        "unionid": None,
        "openid": None,
        "phone": None,
        "name": "张伟",
        "gender": "M",
        "birthday": "1990-05-01",
        "registered_at": "2025-01-01T02:00:00+00:00",
        "register_channel": "POS",
        "register_store": "SH101",
        "level": "金卡",
        "points_balance": 100,
        "marketing_consent": True,
        "consent_updated_at": "2026-10-01T01:00:00+00:00",
        "is_deleted": False,
        "updated_at": "2026-11-01T15:00:00+00:00",
    }
    row.update(fields)
    return row


def ticket(store: str, ticket_no: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "store_code": store,
        "store_name": "店",
        "ticket_no": ticket_no,
        "doc_type": "销售",
        "sold_at": "2026-11-01T01:30:00+00:00",
        "cashier_id": "C01",
        "line_no": 1,
        "sku": "B0001",
        "product_name": "法棍",
        "qty": 1,
        "unit_price": 10,
        "discount_amount": 0,
        "received_amount": 10,
        "payment_method": "微信",
    }
    row.update(fields)
    return row


@pytest.fixture
def make_member() -> Callable[..., dict[str, Any]]:
    return member


@pytest.fixture
def make_ticket() -> Callable[..., dict[str, Any]]:
    return ticket
