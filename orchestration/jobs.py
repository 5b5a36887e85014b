"""The nightly job over every asset, and its schedule: 02:00 in Asia/Shanghai.

The schedule targets the partition of the business day that just ended (the source
systems export the previous day overnight); late and re-exported files are picked
up by the bronze sensor for their own dates.
"""

import dagster as dg

from bakehouse.config import LAKE_WRITE_TAGS
from orchestration.partitions import daily_partitions

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    tags=LAKE_WRITE_TAGS,
    description="Landing files of one business date through bronze, silver and gold.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, minute_of_hour=0, name="nightly_0200_shanghai"
)
