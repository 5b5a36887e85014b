"""Bronze: one asset per landing feed, the bronze job, its nightly schedule and sensor."""

import dagster as dg

from orchestration.defs.bronze.assets import BRONZE_ASSETS
from orchestration.defs.bronze.completeness import feed_completeness
from orchestration.defs.bronze.jobs import bronze_job
from orchestration.defs.bronze.schedules import bronze_nightly_schedule
from orchestration.defs.bronze.sensors import bronze_landing_sensor

defs = dg.Definitions(
    assets=[*BRONZE_ASSETS, feed_completeness],
    jobs=[bronze_job],
    schedules=[bronze_nightly_schedule],
    sensors=[bronze_landing_sensor],
)
