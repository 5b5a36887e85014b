"""A few bronze rows as a markdown table, for the asset's materialization metadata."""

from __future__ import annotations

from datetime import date

import polars as pl

from bakehouse.lake import Lake
from ingestion.schemas import Feed

PREVIEW_ROWS = 5


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


def markdown_table(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])


def bronze_preview(lake: Lake, feed: Feed, business_date: date) -> str:
    """Up to five rows of the feed's bronze table for one business date (bronze: unmasked)."""
    if not lake.exists("bronze", feed.name):
        return "_no bronze table yet_"
    rows = (
        pl.scan_delta(lake.path("bronze", feed.name))
        .filter(pl.col("business_date") == business_date)
        .select([*feed.column_names, "source_file", "source_row"])
        .head(PREVIEW_ROWS)
        .collect()
    )
    return markdown_table(rows) if len(rows) else "_no rows for this date_"
