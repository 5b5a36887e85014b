"""The nightly job over every asset, and its schedule: 02:00 in Asia/Shanghai.

Partitioned by business date (bronze's partitions); silver, identity and gold are
unpartitioned and ledger-driven, so a run for date D lands D's files and then brings
everything downstream up to date with whatever the ledger says changed. The schedule
targets the business day that just ended (the source systems export it overnight);
late and re-exported files are picked up by the bronze sensor for their own dates.
"""

import dagster as dg

from bakehouse.config import LAKE_WRITE_TAGS
from orchestration.partitions import business_dates
from orchestration.schedules import nightly_schedule_for

NIGHTLY_JOB = "nightly"

nightly_job = dg.define_asset_job(
    NIGHTLY_JOB,
    selection=dg.AssetSelection.all(),
    partitions_def=business_dates,
    tags=LAKE_WRITE_TAGS,
    description="Landing files of one business date through bronze, silver and gold.",
)

nightly_schedule = nightly_schedule_for(nightly_job, "nightly_0200_shanghai")
