"""A multi-date backfill launched the way the Dagster UI launches one, run by the daemons.

The UI's partition dialog on a job page sends the GraphQL mutation
`launchPartitionBackfill`; here the same mutation runs against the same workspace
(`workspace.yaml`, served by a code server subprocess) and the home's real instance
(the generated dagster.yaml). Then the two daemons `dagster dev` runs do their work,
one iteration at a time: the backfill daemon queues one run per date, and the run
queue launches them as run worker subprocesses, one lake writer at a time (the lake
pool and the lake-write tag both limit them to one).
"""

from __future__ import annotations

import logging
import time
from datetime import date

import dagster as dg
import polars as pl
import pytest
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._daemon.backfill import execute_backfill_iteration
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster_graphql.test.utils import execute_dagster_graphql

from bakehouse.config import LAKE_WRITE_TAGS, Settings
from orchestration.partitions import LAKE_POOL, add_business_dates, ensure_lake_pool
from tests.conftest import REPO_ROOT
from tests.ingestion.conftest import copy_landing, ledger, read_table

PARTITIONS = ["2026-11-01", "2026-11-02", "2026-11-03"]  # the samples cover the first two
TIMEOUT_SECONDS = 110

LAUNCH_PARTITION_BACKFILL = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""
IN_PROGRESS = {dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED}
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}


def _launch_like_the_ui(context, location: str, partitions: list[str], *, from_job: bool) -> str:
    """The variables the UI's "Launch backfill" dialog sends: from the `bronze_job` page,
    or from the asset catalog (an asset backfill, run by the hidden asset job)."""
    where = (
        {
            "selector": {
                "partitionSetName": "bronze_job_partition_set",
                "repositorySelector": {
                    "repositoryLocationName": location,
                    "repositoryName": "__repository__",
                },
            }
        }
        if from_job
        else {"assetSelection": [{"path": ["bronze", "pos_sales"]}]}
    )
    result = execute_dagster_graphql(
        context,
        LAUNCH_PARTITION_BACKFILL,
        variables={
            "backfillParams": {
                **where,
                "partitionNames": partitions,
                "fromFailure": False,
                "tags": [{"key": "dagster/from_ui", "value": "true"}],
            }
        },
    )
    answer = result.data["launchPartitionBackfill"]
    assert answer["__typename"] == "LaunchBackfillSuccess", answer
    return answer["backfillId"]


def _failure_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    ).records
    return [str(r.event_log_entry.dagster_event.event_specific_data)[:500] for r in records]


@pytest.mark.slow
@pytest.mark.parametrize("from_job", [True, False], ids=["job_page", "asset_catalog"])
def test_ui_backfill_runs_every_date_one_lake_writer_at_a_time(
    settings: Settings, samples_landing, from_job: bool
) -> None:
    """From the job page the runs carry the lake-write tag; from the asset catalog they
    are runs of the hidden asset job, with no job tags: the lake pool limits both."""
    copy_landing(samples_landing, settings)
    logger = logging.getLogger("bakehouse.test.backfill")
    with (
        dg.DagsterInstance.get() as instance,  # DAGSTER_HOME: the home's generated config
        WorkspaceProcessContext(
            instance, WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
        ) as workspace,
        QueuedRunCoordinatorDaemon(interval_seconds=1) as run_queue,
    ):
        ensure_lake_pool(instance)  # as `bakehouse init` / `ui dagster` do for a home
        # the dates exist once their files landed (the landing sensor adds them)
        add_business_dates(instance, [date.fromisoformat(p) for p in PARTITIONS])
        request_context = workspace.create_request_context()
        [location] = request_context.code_location_names
        assert not request_context.has_code_location_error(location)
        backfill_id = _launch_like_the_ui(request_context, location, PARTITIONS, from_job=from_job)

        most_in_progress = 0
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            list(execute_backfill_iteration(workspace, logger))
            list(run_queue.run_iteration(workspace))
            runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            most_in_progress = max(most_in_progress, sum(r.status in IN_PROGRESS for r in runs))
            if len(runs) == len(PARTITIONS) and all(r.status in FINISHED for r in runs):
                break
            assert time.monotonic() < deadline, [(r.run_id, r.status) for r in runs]
            time.sleep(0.5)

    by_partition = {run.tags["dagster/partition"]: run for run in runs}
    assert sorted(by_partition) == PARTITIONS
    for run in runs:
        assert run.job_name == ("bronze_job" if from_job else "__ASSET_JOB")
        assert run.status == dg.DagsterRunStatus.SUCCESS, _failure_messages(instance, run.run_id)
        assert (LAKE_WRITE_TAGS.items() <= run.tags.items()) == from_job
        assert run.run_op_concurrency.all_pools == {LAKE_POOL}  # the pool's limit applies
    assert most_in_progress == 1  # three runs queued at once, launched one after the other

    pos = read_table(settings, "bronze", "pos_sales")
    assert set(pos["business_date"]) == {date(2026, 11, 1), date(2026, 11, 2)}
    landed = ledger(settings).filter(pl.col("status") == "landed")
    assert set(landed["batch_id"]) <= {run.run_id for run in runs}
    landed_names = {f for f in settings.landing.rglob("*") if f.is_file()}
    if not from_job:  # the asset catalog's backfill selected the POS feed only
        landed_names = {f for f in landed_names if f.parent.name == "pos"}
    assert {f.name for f in landed_names} <= {
        name.split("/")[-1] for name in ledger(settings)["source_file"]
    }
