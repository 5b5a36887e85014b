"""The bronze job: every bronze asset for one business date."""

import dagster as dg

from bakehouse.config import LAKE_WRITE_TAGS
from orchestration.partitions import business_dates

bronze_job = dg.define_asset_job(
    "bronze_job",
    # the feeds, and the ledger and quarantine report after them
    selection=dg.AssetSelection.key_prefixes(["bronze"]).required_multi_asset_neighbors(),
    partitions_def=business_dates,
    tags=LAKE_WRITE_TAGS,
    description="Ingest one business date's landing files into bronze (all feeds).",
)
