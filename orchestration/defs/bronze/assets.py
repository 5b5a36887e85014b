"""One Dagster asset per bronze table, partitioned by business date.

Each asset is a thin call of `ingestion.ingest` for its feed and the partition's date:
the logic lives in plain functions that tests call without Dagster.

Runs that write the lake are queued one at a time (the `bakehouse_lake` pool), so two
runs do not commit to the file ledger together. Should a writer outside the queue
(`bakehouse run` from a shell) commit at the same moment, delta-rs refuses the later
commit with `CommitFailedError` and the table stays as the winner left it. Retrying
only that commit would be wrong: the ledger's decisions (new, re-export, duplicate)
were made on the state read before the other writer's commit. The whole `ingest` of
the feed is safe to repeat (every commit replaces the rows of its file names, and
files already recorded are skipped), so that is what is retried, a bounded number of
times.
"""

import time
from collections.abc import Callable
from datetime import date

import dagster as dg
from deltalake.exceptions import CommitFailedError

from bakehouse.config import Settings
from ingestion import IngestReport, ingest
from ingestion.report import feed_label
from ingestion.schemas import FEEDS, Feed
from orchestration.defs.bronze.preview import bronze_preview
from orchestration.partitions import LAKE_POOL, business_dates
from orchestration.resources import LakehouseResource

COMMIT_ATTEMPTS = 3
RETRY_DELAY_SECONDS = 2.0


def asset_key(feed_name: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", feed_name])


def ingest_feed(
    settings: Settings,
    business_date: date,
    feed_name: str,
    batch_id: str,
    *,
    on_conflict: Callable[[int, CommitFailedError], None] | None = None,
    attempts: int = COMMIT_ATTEMPTS,
    delay_seconds: float = RETRY_DELAY_SECONDS,
) -> IngestReport:
    """`ingest` one feed for one date, again from the start if a commit lost a race."""
    for attempt in range(1, attempts + 1):
        try:
            return ingest(settings, [business_date], feeds=[feed_name], batch_id=batch_id)
        except CommitFailedError as error:
            if attempt == attempts:
                raise
            if on_conflict is not None:
                on_conflict(attempt, error)
            time.sleep(delay_seconds * attempt)
    raise AssertionError("unreachable")


def _bronze_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        name=feed.name,
        key_prefix=["bronze"],
        group_name=f"bronze_{feed.source}",
        partitions_def=business_dates,
        pool=LAKE_POOL,
        description=f"{feed.description} Landing: {feed.source}/{feed.pattern}",
        kinds={"python", "delta"},
        metadata={"format": feed.format, "encoding": feed.encoding, "snapshot": feed.snapshot},
    )
    def bronze_table(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        business_date = date.fromisoformat(context.partition_key)
        settings = lakehouse.settings
        report = ingest_feed(
            settings,
            business_date,
            feed.name,
            context.run_id,
            on_conflict=lambda attempt, error: context.log.warning(
                f"{feed.name}: a concurrent commit won (attempt {attempt}); ingesting again: "
                f"{str(error).splitlines()[0]}"
            ),
        )
        summary = report.summary(feed.name)
        unrecognised = report.feeds.get(feed_label(None, feed.source))
        for outcome in report.files:
            if outcome.status != "landed" or outcome.rows_quarantined:
                context.log.warning(
                    f"{outcome.source_file}: {outcome.status} {outcome.reason or ''} "
                    f"quarantined={outcome.rows_quarantined} notes={list(outcome.notes)}"
                )
        return dg.MaterializeResult(
            metadata={
                "rows_landed": summary.rows_landed,
                "rows_quarantined": summary.rows_quarantined,
                "rows_read": summary.rows_read,
                "files": summary.files,
                "files_unchanged": summary.unchanged,
                "rejected_files": summary.rejected,
                "duplicate_files": summary.duplicates,
                "superseded_files": summary.superseded,
                "unrecognised_files_in_folder": unrecognised.files if unrecognised else 0,
                "batch_id": report.batch_id,
                "preview": dg.MetadataValue.md(
                    bronze_preview(lakehouse.lake(), feed, business_date)
                ),
            }
        )

    return bronze_table


BRONZE_ASSETS: list[dg.AssetsDefinition] = [_bronze_asset(feed) for feed in FEEDS]
