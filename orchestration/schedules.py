"""Nightly schedules over the dynamic business-date partitions.

`build_schedule_from_partitioned_job` needs time-window partitions; with dynamic ones
the schedule names the date itself: at 02:00 Asia/Shanghai, the business day that just
ended (the sources export it overnight). It adds that date to the partition set if no
landing file has added it yet, so the run (and a missing-extract report) still happens.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from bakehouse.config import LOCAL_TZ
from orchestration.partitions import add_business_dates, today_local


def nightly_schedule_for(
    job: dg.UnresolvedAssetJobDefinition,
    name: str,
    *,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.STOPPED,
) -> dg.ScheduleDefinition:
    """A 02:00 Asia/Shanghai schedule running `job` for the previous business date."""

    @dg.schedule(
        job=job,
        cron_schedule="0 2 * * *",
        execution_timezone=LOCAL_TZ,
        name=name,
        default_status=default_status,
        description="02:00 Asia/Shanghai: the business date that just ended.",
    )
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        business_date = today_local(context.scheduled_execution_time) - timedelta(days=1)
        add_business_dates(context.instance, [business_date])
        key = business_date.isoformat()
        return dg.RunRequest(run_key=key, partition_key=key)

    return nightly
