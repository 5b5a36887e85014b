"""Run the nightly pipeline in-process: the same Dagster job the schedule runs.

`bakehouse run` goes through Dagster rather than around it, so a night run from the
CLI is recorded in the same instance (`$BAKEHOUSE_HOME/dagster_home`) the UI shows,
with the same assets, partitions and metadata.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from bakehouse.config import Settings, apply_telemetry_off

NIGHTLY_JOB = "nightly"


@dataclass
class NightResult:
    business_date: date
    success: bool
    seconds: float
    run_id: str
    failed_steps: list[str] = field(default_factory=list)
    error: str | None = None


def date_range(start: date, end: date) -> list[date]:
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def prepare_environment(settings: Settings) -> None:
    """Point Dagster at the home's instance and switch every tool's telemetry off."""
    settings.ensure_dirs()
    apply_telemetry_off()
    os.environ["BAKEHOUSE_HOME"] = str(settings.home)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def run_nights(
    settings: Settings,
    dates: Iterable[date],
    *,
    on_night: Callable[[NightResult], None] | None = None,
    log_level: str = "WARNING",
) -> list[NightResult]:
    """Execute the nightly job once per business date, oldest first."""
    prepare_environment(settings)
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def(NIGHTLY_JOB)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    results: list[NightResult] = []
    with dg.DagsterInstance.get() as instance:
        for business_date in sorted(set(dates)):
            started = time.perf_counter()
            outcome = job.execute_in_process(
                partition_key=business_date.isoformat(),
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
            )
            failures = [e for e in outcome.all_events if e.is_step_failure]
            night = NightResult(
                business_date=business_date,
                success=outcome.success,
                seconds=time.perf_counter() - started,
                run_id=outcome.run_id,
                failed_steps=[e.step_key or "?" for e in failures],
                error=_first_error(failures),
            )
            results.append(night)
            if on_night is not None:
                on_night(night)
    return results


def _first_error(failures: list) -> str | None:
    """The root cause of the first failed step (`MissingKeyError: ...`), not Dagster's wrapper."""
    from bakehouse.quiet import root_cause_line

    for event in failures:
        data = event.step_failure_data
        if data is not None and data.error is not None:
            return root_cause_line(data.error)
    return None
