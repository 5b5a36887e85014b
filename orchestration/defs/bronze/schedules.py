"""The bronze-only nightly run: 02:00 Asia/Shanghai, for the business day that just ended.

Off by default: the code location's `nightly` job (all layers, same hour) already
runs bronze first; with both on, the run queue would run bronze twice, one run after
the other (both carry the lake-write tag). Turn this on where only bronze is deployed.
"""

import dagster as dg

from orchestration.defs.bronze.jobs import bronze_job

bronze_nightly_schedule = dg.build_schedule_from_partitioned_job(
    bronze_job,
    hour_of_day=2,
    minute_of_hour=0,
    name="bronze_nightly_0200_shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
