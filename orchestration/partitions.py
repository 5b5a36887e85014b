"""Business dates: the one partition set (bronze's), and the one-lake-writer pool.

The set is dynamic: a business date exists in Dagster once its first landing file has
been seen (the landing sensor adds it), or once a run asks for it (the nightly schedule,
`bakehouse run`). So the UI shows the dates that have data, not every day since some
fixed start, and nothing about the lake or the environment is read when the
definitions load.

A business date is acceptable when it is a day that has ended in the chain's time
zone (Asia/Shanghai): before today there, and not absurdly old.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from bakehouse.config import LOCAL_TZ

BUSINESS_DATES = "business_dates"
business_dates = dg.DynamicPartitionsDefinition(name=BUSINESS_DATES)

# Every asset and op that writes the lake is in this pool. The instance's dagster.yaml
# (bakehouse.config) limits pools to one run at a time (`granularity: run`), which the
# run queue applies to every run, the hidden asset job's included.
LAKE_POOL = "bakehouse_lake"

EARLIEST_BUSINESS_DATE = date(2000, 1, 1)


def today_local(now: datetime | None = None) -> date:
    """Today's date in the chain's time zone."""
    return (now or datetime.now(ZoneInfo(LOCAL_TZ))).astimezone(ZoneInfo(LOCAL_TZ)).date()


def why_not_a_business_date(day: date, today: date) -> str | None:
    """None if `day` is a complete business date as of `today`, else the reason it is not.

    The rule is preflight's (`bakehouse.preflight.dates_check`), plus a floor for dates
    misread from file names.
    """
    from bakehouse.preflight import dates_check

    if day < EARLIEST_BUSINESS_DATE:
        return f"{day} is before {EARLIEST_BUSINESS_DATE}"
    finding = dates_check([day], today=today)
    return None if finding.ok else finding.detail


def ensure_lake_pool(instance: dg.DagsterInstance) -> None:
    """Give the lake pool its limit (the instance's `default_limit`, 1) in storage now.

    Dagster's run queue learns a pool's limit only in the iteration after it first
    meets a queued run of that pool, so a first backfill of N dates could start N
    writers at once. `bakehouse init`, `bakehouse run` and `bakehouse ui dagster` call
    this first; it is idempotent.
    """
    instance.event_log_storage.initialize_concurrency_limit_to_default(LAKE_POOL)


def add_business_dates(instance: dg.DagsterInstance, days: Iterable[date]) -> list[str]:
    """Add these dates to the partition set if missing; the keys added."""
    keys = sorted({d.isoformat() for d in days})
    missing = [k for k in keys if not instance.has_dynamic_partition(BUSINESS_DATES, k)]
    if missing:
        instance.add_dynamic_partitions(BUSINESS_DATES, missing)
    return missing
