"""Bronze previews in Dagster metadata show personal columns masked (issue #9, item 4)."""

from __future__ import annotations

import polars as pl

from bakehouse.pii import pseudonym
from ingestion.schemas import FEEDS, LINEAGE_COLUMNS
from orchestration.defs.bronze.preview import (
    PERSONAL_COLUMNS,
    PLAIN_COLUMNS,
    UNCLASSIFIED,
    markdown_table,
    masked_preview,
)

KEY = b"preview-test-key"


def test_every_feed_column_is_classified_personal_or_plain():
    columns = {c.name for feed in FEEDS for c in feed.columns} | {n for n, _ in LINEAGE_COLUMNS}
    unclassified = sorted(columns - set(PERSONAL_COLUMNS) - PLAIN_COLUMNS)
    assert not unclassified, f"classify these for the bronze previews: {unclassified}"
    assert not set(PERSONAL_COLUMNS) & PLAIN_COLUMNS


def test_personal_columns_are_masked_or_pseudonymised():
    frame = pl.DataFrame(
        {
            "member_phone": ["+86 138-1234-5678", None],
            "name": ["欧阳娜娜", "张伟"],
            "birthday": ["1990-05-12", "bad"],
            "unionid": ["oUnion123456", " oUnion999 "],
            "masked_address": ["上海市静安区南京西路**号", "短"],
            "items_json": ['[{"note": "call 13912345678"}]', "[]"],
            "store_code": ["SH001", "SH002"],
            "brand_new_column": ["13812345678", "x"],
        }
    )
    rows = masked_preview(frame, KEY).to_dicts()
    assert rows[0] == {
        "member_phone": "138****5678",
        "name": "欧***",
        "birthday": "1990-**-**",
        "unionid": pseudonym(KEY, "unionid", "oUnion123456"),
        "masked_address": "上海市***",
        "items_json": '[{"note": "call 139****5678"}]',
        "store_code": "SH001",
        "brand_new_column": UNCLASSIFIED,
    }
    assert rows[1]["member_phone"] is None and rows[1]["name"] == "张*"
    assert rows[1]["birthday"] == "***" and rows[1]["masked_address"] == "***"
    assert rows[1]["unionid"] == pseudonym(KEY, "unionid", "oUnion999")


def test_without_a_key_identifiers_are_hidden():
    rows = masked_preview(pl.DataFrame({"openid": ["oOpen1"], "sku": ["B1001"]}), None)
    assert rows.to_dicts() == [{"openid": "***", "sku": "B1001"}]
    assert "oOpen1" not in markdown_table(rows)
