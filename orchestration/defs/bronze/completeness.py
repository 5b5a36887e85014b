"""`bronze/feed_completeness`: after a night's bronze, which expected files are missing.

A thin call of `ingestion.completeness.check` for the partition's date (and the 3 days
before it, when late files may still come); its counts and any date without files
become the run's metadata.
"""

from datetime import date

import dagster as dg

from ingestion import completeness
from ingestion.schemas import FEEDS
from orchestration.defs.bronze.assets import asset_key
from orchestration.partitions import LAKE_POOL, business_dates
from orchestration.resources import LakehouseResource


@dg.asset(
    name=completeness.TABLE,
    key_prefix=["bronze"],
    group_name="bronze_checks",
    partitions_def=business_dates,
    pool=LAKE_POOL,
    deps=[asset_key(feed.name) for feed in FEEDS],
    kinds={"python", "delta"},
    description=(
        "Every expected landing file of the date and the 3 days before it: on time, late "
        "or missing, and how late (ingestion/completeness.py)."
    ),
)
def feed_completeness(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    business_date = date.fromisoformat(context.partition_key)
    result = completeness.check(lakehouse.settings, [business_date])
    if result.missing or result.dates_without_files:  # one line: the summary lists them
        context.log.warning(
            f"{len(result.missing)} expected landing files missing "
            f"({len(result.errors)} errors), {len(result.late)} late; dates without files: "
            f"{', '.join(map(str, result.dates_without_files)) or 'none'} "
            f"(bronze/{completeness.TABLE})"
        )
    return dg.MaterializeResult(metadata=result.metadata())
