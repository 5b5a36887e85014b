"""Row-local data-quality flags on POS ticket lines.

Bronze is not referential: a line with an unknown store code or SKU is a readable row
and lands as sent; resolving codes against the masters is silver's job. What bronze can
check on the row alone it flags without judging: a line whose 实收金额 does not equal
数量×单价−折扣金额 (to the fen) carries `amount_mismatch` in `dq_flags`.
"""

from __future__ import annotations

import polars as pl

AMOUNT_MISMATCH = "amount_mismatch"


def flag_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Add `dq_flags` (null when the row is clean)."""
    as_float = {
        name: pl.col(name).cast(pl.Float64)
        for name in ("qty", "unit_price", "discount_amount", "received_amount")
    }
    expected = as_float["qty"] * as_float["unit_price"] - as_float["discount_amount"]
    mismatch = (expected - as_float["received_amount"]).abs() > 0.005
    return rows.with_columns(
        pl.when(mismatch.fill_null(False)).then(pl.lit(AMOUNT_MISMATCH)).alias("dq_flags")
    )
