"""Bronze ingestion: landing files to Delta, losslessly and idempotently.

`ingest(settings, dates, feeds=..., batch_id=...)` is the entry point (the CLI and the
Dagster assets call it); `ingestion.report.summary(settings, dates)` rebuilds its
per-feed table from the file ledger. The contract is `ingestion.schemas`.
"""

from ingestion.pipeline import ingest
from ingestion.report import FeedSummary, IngestReport

__all__ = ["FeedSummary", "IngestReport", "ingest"]
