"""One Dagster asset per bronze table, partitioned by business date.

Each asset is a thin call of `ingestion.ingest` for its feed and the partition's date:
the logic lives in plain functions that tests call without Dagster.
"""

from datetime import date

import dagster as dg

from ingestion import ingest
from ingestion.report import feed_label
from ingestion.schemas import FEEDS, Feed
from orchestration.defs.bronze.preview import bronze_preview
from orchestration.partitions import daily_partitions
from orchestration.resources import LakehouseResource


def asset_key(feed_name: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", feed_name])


def _bronze_asset(feed: Feed) -> dg.AssetsDefinition:
    @dg.asset(
        name=feed.name,
        key_prefix=["bronze"],
        group_name=f"bronze_{feed.source}",
        partitions_def=daily_partitions,
        description=f"{feed.description} Landing: {feed.source}/{feed.pattern}",
        kinds={"python", "delta"},
        metadata={"format": feed.format, "encoding": feed.encoding, "snapshot": feed.snapshot},
    )
    def bronze_table(
        context: dg.AssetExecutionContext, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        business_date = date.fromisoformat(context.partition_key)
        settings = lakehouse.settings
        report = ingest(settings, [business_date], feeds=[feed.name], batch_id=context.run_id)
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
