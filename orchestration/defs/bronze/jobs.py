"""The bronze job: every bronze asset for one business date."""

import dagster as dg

from bakehouse.config import LAKE_WRITE_TAGS
from orchestration.partitions import daily_partitions

bronze_job = dg.define_asset_job(
    "bronze_job",
    selection=dg.AssetSelection.key_prefixes(["bronze"]),
    partitions_def=daily_partitions,
    tags=LAKE_WRITE_TAGS,
    description="Ingest one business date's landing files into bronze (all feeds).",
)
