"""Quarantine rows: what could not be typed, with why and the original text.

`lake/quarantine/<feed>` holds them with the same lineage as bronze, so a corrected
re-export of the file replaces its quarantine rows exactly as it replaces its bronze
rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import polars as pl

from ingestion.common.casting import DETAIL, REASON
from ingestion.common.rows import RAW_LINE, ROW, Reject
from ingestion.schemas import QUARANTINE_COLUMNS

QUARANTINE_SCHEMA = {
    "feed": pl.String,
    "source_file": pl.String,
    "file_sha256": pl.String,
    "source_row": pl.Int64,
    "reason_code": pl.String,
    "reason_detail": pl.String,
    "raw_line": pl.String,
    "business_date": pl.Date,
    "batch_id": pl.String,
    "ingested_at": pl.Datetime("us", "UTC"),
}
assert list(QUARANTINE_SCHEMA) == [name for name, _ in QUARANTINE_COLUMNS]


def from_rejects(
    feed: str,
    source_file: str,
    sha: str,
    business_date: date | None,
    rejects: Sequence[Reject],
    batch_id: str,
    ingested_at: datetime,
) -> pl.DataFrame:
    """Rows rejected by a reader (shape, JSON, encoding, missing column)."""
    return pl.DataFrame(
        {
            "feed": [feed] * len(rejects),
            "source_file": [source_file] * len(rejects),
            "file_sha256": [sha] * len(rejects),
            "source_row": [r.source_row for r in rejects],
            "reason_code": [r.reason_code for r in rejects],
            "reason_detail": [r.reason_detail for r in rejects],
            "raw_line": [r.raw_line for r in rejects],
            "business_date": [business_date] * len(rejects),
            "batch_id": [batch_id] * len(rejects),
            "ingested_at": [ingested_at] * len(rejects),
        },
        schema=QUARANTINE_SCHEMA,
    )


def from_typing_failures(feed: str, failed: pl.DataFrame) -> pl.DataFrame:
    """Rows whose values did not type; `failed` carries lineage and the reason columns."""
    return failed.select(
        pl.lit(feed).alias("feed"),
        "source_file",
        "file_sha256",
        pl.col(ROW).alias("source_row"),
        pl.col(REASON).alias("reason_code"),
        pl.col(DETAIL).alias("reason_detail"),
        pl.col(RAW_LINE).alias("raw_line"),
        "business_date",
        "batch_id",
        "ingested_at",
    ).cast(QUARANTINE_SCHEMA)
