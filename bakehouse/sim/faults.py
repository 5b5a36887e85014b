"""Deliberate defects in landing files, and exactly how bronze handles each one.

The source extracts contract says files may be empty, truncated, mis-encoded, carry a
column more or fewer, or hold bad values, and that none of this may stop the night or be
silently dropped. Each kind is injected at least once (when the run has two or more days)
into a file chosen from the seed, and logged in ``truth/faults.jsonl`` with an
``expected`` object: what the file ledger, the quarantine and bronze must show for that
file (the decisions of ``ingestion/README.md``). It is the single statement of expected
handling the ingestion tests check against, so its vocabulary is bronze's own:

- ``status``: the ledger status of the file's current row (``landed``, ``rejected``,
  ``duplicate``); ``reason``, when given, its exact ledger reason;
- ``rows_read`` / ``rows_landed`` / ``rows_quarantined``: the ledger's counts;
- ``quarantine_reason``: the ``reason_code`` of every quarantine row of the file;
- ``notes``: notes the ledger row must carry (it may carry others);
- ``bronze_values``: ``{bronze column: value}`` that must occur among the file's bronze
  rows (bronze is not referential: unknown codes land, silver reports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

# kind -> the feeds it may be injected into, in order of preference.
FAULT_KINDS: dict[str, tuple[str, ...]] = {
    "wrong_encoding": ("pos_sales",),
    "truncated_last_line": ("pos_sales", "eleme_orders"),
    "empty_file": ("wecom_contacts", "douyin_verifications"),
    "header_only": ("eleme_orders", "douyin_orders"),
    "missing_column": ("erp_b2b_orders", "douyin_orders"),
    "extra_column": ("douyin_orders", "erp_b2b_orders"),
    "bad_timestamp": ("pos_sales",),
    "non_numeric_amount": ("eleme_orders", "pos_sales"),
    "duplicate_file": ("pos_sales",),
    "malformed_json": ("mp_orders", "wecom_contacts"),
    "xlsx_missing_sheet": ("meituan_orders",),
    "unknown_store": ("erp_inventory",),
    "unknown_sku": ("pos_sales",),
    "unreconciled_amount": ("pos_sales",),
}
# The reason code of the one row a row-level fault sends to quarantine.
_QUARANTINE_REASON = {
    "truncated_last_line": "truncated_row",
    "bad_timestamp": "bad_timestamp",
    "non_numeric_amount": "bad_number",
    "malformed_json": "bad_json",
}
# Values that are wrong for silver but land in bronze, by bronze column.
_LANDS_WITH = {
    "unknown_store": {"store_code": "ZZ999"},
    "unknown_sku": {"sku": "X9999"},
    "unreconciled_amount": {"dq_flags": "amount_mismatch"},
}
_DECLARED_ENCODING = {"pos_sales": "gbk"}
_TIME_COLUMN = {"pos_sales": "销售时间", "eleme_orders": "下单时间", "douyin_orders": "下单时间"}
_AMOUNT_COLUMN = {"pos_sales": "实收金额", "eleme_orders": "顾客实付"}
_DROPPED_COLUMN = {"erp_b2b_orders": "税率", "douyin_orders": "平台补贴"}


@dataclass(frozen=True, slots=True)
class FaultSlot:
    """Where a fault goes: a feed's file on a day (for POS, one store's file)."""

    day_index: int
    feed: str
    store_code: str = ""


class FaultPlan:
    """Which file gets which fault, fixed up front from the seed."""

    def __init__(self, days: int, open_store_codes: list[str], seed: int, enabled: bool) -> None:
        self.by_slot: dict[FaultSlot, str] = {}
        if not enabled:
            return
        rng = np.random.default_rng([seed, 77])
        day_order = rng.permutation(days)
        for i, (kind, feeds) in enumerate(FAULT_KINDS.items()):
            preferred = int(day_order[i % days])
            slot = self._free_slot(preferred, days, feeds, open_store_codes, rng)
            if slot is not None:
                self.by_slot[slot] = kind

    def _free_slot(
        self,
        preferred: int,
        days: int,
        feeds: tuple[str, ...],
        stores: list[str],
        rng: np.random.Generator,
    ) -> FaultSlot | None:
        for offset in range(days):
            day_index = (preferred + offset) % days
            for feed in feeds:
                codes = (
                    [stores[int(i)] for i in rng.permutation(len(stores))]
                    if feed == "pos_sales"
                    else [""]
                )
                for code in codes:
                    slot = FaultSlot(day_index, feed, code)
                    if slot not in self.by_slot:
                        return slot
        return None

    def kind_for(self, slot: FaultSlot) -> str | None:
        return self.by_slot.get(slot)


def expected_handling(
    kind: str, feed: str, path: str, rows: int, original: str | None = None
) -> dict[str, Any]:
    """What bronze shows for the file at ``path`` (``rows`` data rows) holding ``kind``.

    ``original`` is the file a ``duplicate_file`` copies. See the module docstring for
    the vocabulary.
    """
    everything_lands: dict[str, Any] = {
        "status": "landed",
        "rows_read": rows,
        "rows_landed": rows,
        "rows_quarantined": 0,
    }
    if kind in _QUARANTINE_REASON:
        return {
            "status": "landed",
            "rows_read": rows,
            "rows_landed": rows - 1,
            "rows_quarantined": 1,
            "quarantine_reason": _QUARANTINE_REASON[kind],
        }
    if kind in _LANDS_WITH:
        return everything_lands | {"bronze_values": _LANDS_WITH[kind]}
    if kind == "wrong_encoding":
        return everything_lands | {
            "notes": [f"encoding_fallback:{_DECLARED_ENCODING[feed]}->utf-8"]
        }
    if kind == "extra_column":
        return everything_lands | {"notes": ["extra_columns:备注"]}
    if kind == "missing_column":
        column = _DROPPED_COLUMN[feed]
        return {
            "status": "landed",
            "rows_read": rows,
            "rows_landed": 0,
            "rows_quarantined": rows,
            "quarantine_reason": f"missing_column:{column}",
            "notes": [f"missing_columns:{column}"],
        }
    nothing = {"rows_read": 0, "rows_landed": 0, "rows_quarantined": 0}
    if kind == "header_only":
        return {"status": "landed", **nothing}
    if kind == "empty_file":
        # A 0-byte CSV has not even its header; a 0-byte JSON-lines file is a quiet day.
        if path.endswith(".jsonl"):
            return {"status": "landed", **nothing, "notes": ["empty_file"]}
        return {"status": "rejected", "reason": "empty_file", **nothing}
    if kind == "xlsx_missing_sheet":
        return {"status": "rejected", "reason": "missing_sheet", **nothing}
    if kind == "duplicate_file":
        return {"status": "duplicate", "reason": f"duplicate_of:{original}", **nothing}
    raise ValueError(f"unknown fault kind {kind!r}")


def fault_frame(
    kind: str, feed: str, frame: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, str]:
    """Apply a content fault to a file's frame; returns the frame and a detail for the log."""
    row = int(rng.integers(frame.height)) if frame.height else 0

    def set_cell(column: str, value: str) -> pl.DataFrame:
        return frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
        )

    if kind == "header_only":
        return frame.clear(), "all data rows removed"
    if kind == "missing_column":
        column = _DROPPED_COLUMN[feed]
        return frame.drop(column), f"column {column} missing"
    if kind == "extra_column":
        return frame.with_columns(备注=pl.lit("")), "extra column 备注 at the end"
    if kind == "bad_timestamp":
        return set_cell(
            _TIME_COLUMN[feed], "2026/13/45 25:61:00"
        ), f"data row {row + 1}: unparseable time"
    if kind == "non_numeric_amount":
        return set_cell(
            _AMOUNT_COLUMN[feed], "12.3O"
        ), f"data row {row + 1}: non-numeric {_AMOUNT_COLUMN[feed]}"
    if kind == "unknown_store":
        return set_cell(
            "门店编码", "ZZ999"
        ), f"data row {row + 1}: store ZZ999 not in the store master"
    if kind == "unknown_sku":
        return set_cell(
            "商品编码", "X9999"
        ), f"data row {row + 1}: SKU X9999 not in the product master"
    if kind == "unreconciled_amount":
        amount = frame["实收金额"][row]
        sign = "-" if amount.startswith("-") else ""
        yuan_part, cents = amount.lstrip("-").split(".")
        wrong = f"{sign}{int(yuan_part) + 1}.{cents}"
        return set_cell("实收金额", wrong), f"data row {row + 1}: 实收金额 off by 1.00 yuan"
    return frame, ""


def fault_text(kind: str, text: str) -> tuple[str, str]:
    """Apply a text-level fault (before encoding)."""
    if kind == "truncated_last_line":
        body = text.rstrip("\r\n")
        last_start = max(body.rfind("\n") + 1, 0)
        cut = last_start + max(1, (len(body) - last_start) // 2)
        return body[:cut], "last line cut in half, no line terminator"
    if kind == "malformed_json":
        lines = text.split("\n")
        middle = max(0, (len(lines) - 1) // 2)
        lines[middle] = lines[middle][:-12]
        return "\n".join(lines), f"line {middle + 1}: JSON object cut short"
    return text, ""
