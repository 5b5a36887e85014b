"""Run the nightly job in this process, as the job's own runs (`bakehouse run`, `demo`).

The run is created the way the webserver creates one: for the `nightly` job of the
code location `workspace.yaml` declares (same job definition, same repository label),
so a CLI run is listed on the job's page in the UI, with its partition, assets and
metadata, and not as a run of an ad-hoc copy of the job. It then executes here, step
after step (the in-process executor), while the caller is told each step as it starts.

The home's Dagster instance is opened from its path; nothing is passed through
`os.environ`. The home and Spark remote reach the resource as run config.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bakehouse.config import LAKE_WRITE_TAGS, Settings, apply_telemetry_off
from orchestration.jobs import NIGHTLY_JOB

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_YAML = REPO_ROOT / "workspace.yaml"
DEFINITIONS_MODULE = "orchestration.definitions"
DEFINITIONS_ATTRIBUTE = "defs"
REPOSITORY_NAME = "__repository__"  # what Dagster names a `Definitions` object's repository


@dataclass
class NightResult:
    """One night's run: its outcome, wall-clock seconds and Dagster run id."""

    business_date: date
    success: bool
    seconds: float
    run_id: str
    failed_steps: list[str] = field(default_factory=list)
    error: str | None = None


def date_range(start: date, end: date) -> list[date]:
    """Every date from `start` to `end`, both included; ValueError if `end` < `start`."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


def step_label(step_key: str) -> str:
    """A step key as the console names it: `bronze pos_sales`, `silver`, `identity`, ..."""
    if step_key.startswith("bronze__"):
        return "bronze " + step_key.removeprefix("bronze__")
    if step_key == "oneid":
        return "identity"
    if step_key.startswith(("gold", "dbt")):
        return "gold"
    if step_key.startswith(("ml", "forecast", "recommend")):
        return "ML"
    return step_key.replace("_", " ")


def _location_origin():
    """The code location `workspace.yaml` declares, as the webserver loads it."""
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    [origin] = location_origins_from_yaml_paths([str(WORKSPACE_YAML)])
    return origin


def run_nights(
    settings: Settings,
    dates: Iterable[date],
    *,
    on_night: Callable[[NightResult], None] | None = None,
    on_step: Callable[[date, str, int, int], None] | None = None,
    log_level: str = "WARNING",
) -> list[NightResult]:
    """Execute the nightly job once per business date, oldest first.

    `on_step(business_date, label, steps_started, steps_total)` is called as each step
    starts. Each date is added to the partition set first. Returns one `NightResult`
    per date; a failed night does not stop the later ones.
    """
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import execute_run_iterator
    from dagster._core.remote_origin import RemoteRepositoryOrigin

    from orchestration.partitions import add_business_dates, ensure_lake_pool

    settings.ensure_dirs()
    apply_telemetry_off()
    recon_job = ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=str(REPO_ROOT)
    ).get_reconstructable_job(NIGHTLY_JOB)
    job_def = recon_job.get_definition()
    job_origin = RemoteRepositoryOrigin(_location_origin(), REPOSITORY_NAME).get_job_origin(
        NIGHTLY_JOB
    )
    lakehouse_config = {"home": str(settings.home)}
    if settings.spark_remote:
        lakehouse_config["spark_remote"] = settings.spark_remote
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "resources": {"lakehouse": {"config": lakehouse_config}},
    }
    total_steps = len(job_def.nodes_in_topological_order)
    results: list[NightResult] = []
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        ensure_lake_pool(instance)
        for business_date in sorted(set(dates)):
            started = time.perf_counter()
            key = business_date.isoformat()
            add_business_dates(instance, [business_date])
            run = instance.create_run_for_job(
                job_def=job_def,
                run_config=run_config,
                tags={**LAKE_WRITE_TAGS, "dagster/partition": key, "bakehouse/trigger": "cli"},
                remote_job_origin=job_origin,
                job_code_origin=recon_job.get_python_origin(),
            )
            steps_started = 0
            for event in execute_run_iterator(recon_job, run, instance):
                if event.is_step_start and on_step is not None:
                    steps_started += 1
                    on_step(
                        business_date, step_label(event.step_key or ""), steps_started, total_steps
                    )
            finished = instance.get_run_by_id(run.run_id)
            failures = [
                record.event_log_entry.dagster_event
                for record in instance.get_records_for_run(
                    run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE
                ).records
            ]
            night = NightResult(
                business_date=business_date,
                success=finished is not None and finished.status == dg.DagsterRunStatus.SUCCESS,
                seconds=time.perf_counter() - started,
                run_id=run.run_id,
                failed_steps=[e.step_key or "?" for e in failures],
                error=_first_error(failures),
            )
            results.append(night)
            if on_night is not None:
                on_night(night)
    return results


def _first_error(failures: list) -> str | None:
    """The first failed step's root cause (`MissingKeyError: ...`), not Dagster's wrapper."""
    from bakehouse.quiet import root_cause_line

    for event in failures:
        data = event.step_failure_data
        if data is not None and data.error is not None:
            return root_cause_line(data.error)
    return None
