"""A few bronze rows as a markdown table, for the asset's materialization metadata.

Bronze holds personal data in clear, but Dagster's run storage and UI are outside the
vault: anyone who opens the UI reads the metadata. So a preview shows personal columns
only in the forms analysts see in silver: phones and names masked (`bakehouse.pii`),
identifiers as their keyed pseudonyms (the same HMAC as silver's `*_pseudonym` and
`id_hash` columns), birthdays as the year. A column nobody classified yet is shown as
`…` until it is added to `PERSONAL_COLUMNS` or `PLAIN_COLUMNS`, so a new feed column
cannot leak by default; and a mobile number found in any other text (a JSON blob, a
remark) is masked where it stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import polars as pl

from bakehouse.lake import Lake
from bakehouse.pii import (
    MissingKeyError,
    load_key,
    mask_name,
    mask_phone,
    normalize_phone,
    pseudonym,
)
from ingestion.schemas import Feed

PREVIEW_ROWS = 5
UNCLASSIFIED = "…"
HIDDEN = "***"

# Bronze column -> how it is shown: "phone", "name", "birthday", "address", or
# "id:<id type>" for a keyed pseudonym (id types of transforms.common.identity).
PERSONAL_COLUMNS: dict[str, str] = {
    "member_phone": "phone",
    "phone": "phone",
    "remark_phone": "phone",
    "contact_phone": "phone",
    "masked_phone": "phone",
    "name": "name",
    "contact_name": "name",
    "host_nickname": "name",
    "birthday": "birthday",
    "masked_address": "address",
    "member_card_no": "id:card_no",
    "card_no": "id:card_no",
    "member_id": "id:member_id",
    "unionid": "id:unionid",
    "member_unionid": "id:unionid",
    "openid": "id:openid",
    "member_openid": "id:openid",
    "douyin_open_id": "id:douyin_open_id",
    "meituan_user_id": "id:meituan_user_id",
    "eleme_user_id": "id:eleme_user_id",
    "external_userid": "id:wecom_external_userid",
}
# Columns that hold no personal data (still scanned for embedded mobile numbers).
PLAIN_COLUMNS: frozenset[str] = frozenset(
    {
        # lineage
        "business_date", "source_file", "source_row", "file_sha256", "ingested_at", "batch_id",
        # stores, products, staff codes
        "store_code", "store_name", "city", "region", "store_type", "opened_on",
        "floor_area_sqm", "meituan_store_id", "eleme_store_id", "douyin_poi", "poi_name",
        "franchisee_code", "royalty_rate", "status", "sku", "product_name", "category",
        "subcategory", "spec", "retail_price", "standard_cost", "shelf_life_hours",
        "is_baked_in_store", "launched_on", "delisted_on", "meituan_name", "eleme_name",
        "douyin_product_id", "product_title", "cashier_id", "staff_id",
        # orders and their money
        "ticket_no", "doc_type", "original_ticket_no", "sold_at", "line_no", "qty",
        "unit_price", "discount_amount", "received_amount", "payment_method", "voucher_code",
        "order_id", "created_at", "updated_at", "fulfillment", "items_json",
        "coupon_ids_json", "freight_fen", "pay_amount_fen", "refund_amount_fen",
        "points_used", "list_price", "paid_amount", "platform_subsidy", "host_commission",
        "ordered_at", "completed_at", "items_raw", "goods_amount", "customer_paid",
        "merchant_subsidy", "platform_commission", "delivery_fee", "merchant_receivable",
        "refund_amount", "redeemed_at", "redeemed_amount", "merchant_amount", "platform_fee",
        # members' non-identifying attributes
        "gender", "registered_at", "register_channel", "register_store", "level",
        "points_balance", "marketing_consent", "consent_updated_at", "is_deleted",
        "added_at", "tags_json", "deleted_at",
        # ERP: inventory, B2B (companies), costs
        "stock_date", "opening_qty", "delivered_qty", "baked_qty", "sold_qty", "waste_qty",
        "waste_reason", "closing_qty", "customer_code", "customer_name", "customer_type",
        "credit_limit", "payment_terms_days", "created_on", "order_date", "delivery_date",
        "amount", "vat_rate", "paid_date", "cost_month", "rent_amount", "labour_amount",
        "utilities_amount", "depreciation_amount", "marketing_amount", "other_amount",
    }
)  # fmt: skip
# An 11-digit mainland mobile inside other text (not inside a longer digit/hex run).
_EMBEDDED_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")


def _masked_phone(value: str) -> str:
    return mask_phone(normalize_phone(value)) or HIDDEN


def _masked_birthday(value: str) -> str:
    return f"{value[:4]}-**-**" if re.match(r"\d{4}", value) else HIDDEN


def _masked_address(value: str) -> str:
    return f"{value[:3]}{HIDDEN}" if len(value) > 6 else HIDDEN


def _display(column: str, key: bytes | None) -> Callable[[str], str]:
    """The function that turns a clear cell of `column` into what the preview shows."""
    kind = PERSONAL_COLUMNS.get(column)
    if kind is None:
        if column in PLAIN_COLUMNS:
            return lambda value: _EMBEDDED_MOBILE.sub(r"\1****\2", value)
        return lambda value: UNCLASSIFIED
    if kind.startswith("id:"):
        id_type = kind.removeprefix("id:")
        if key is None:
            return lambda value: HIDDEN
        return lambda value: pseudonym(key, id_type, value.strip()) or ""
    return {
        "phone": _masked_phone,
        "name": lambda value: mask_name(value.strip()) or HIDDEN,
        "birthday": _masked_birthday,
        "address": _masked_address,
    }[kind]


def masked_preview(frame: pl.DataFrame, key: bytes | None) -> pl.DataFrame:
    """`frame` with every cell in its analyst-visible form (all columns as strings).

    `key` is the pseudonymisation key; without one, identifiers show as `***`.
    """
    columns = []
    for column in frame.columns:
        show = _display(column, key)
        values = [None if v is None else show(str(v)) for v in frame.get_column(column)]
        columns.append(pl.Series(column, values, dtype=pl.String))
    return pl.DataFrame(columns)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def markdown_table(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])


def _key(lake: Lake) -> bytes | None:
    try:
        return load_key(lake.settings.pii_key_file)
    except MissingKeyError:
        return None


def bronze_preview(lake: Lake, feed: Feed, business_date: date) -> str:
    """Up to five rows of the feed's bronze table for one business date, masked.

    Returns markdown. Personal columns appear only masked or pseudonymised (see the
    module docstring); no clear personal value reaches Dagster's storage.
    """
    if not lake.exists("bronze", feed.name):
        return "_no bronze table yet_"
    rows = (
        pl.scan_delta(lake.path("bronze", feed.name))
        .filter(pl.col("business_date") == business_date)
        .select([*feed.column_names, "source_file", "source_row"])
        .head(PREVIEW_ROWS)
        .collect()
    )
    if not len(rows):
        return "_no rows for this date_"
    return markdown_table(masked_preview(rows, _key(lake)))
