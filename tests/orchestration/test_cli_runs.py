"""`bakehouse run` creates the nightly job's own runs: the job page lists them.

The job page of the UI asks GraphQL for `pipelineOrError { runs }`, which lists the
runs of that job *in that code location* (the repository label tag). Here the same
query runs against the same workspace (`workspace.yaml`, served by a code server
subprocess) after two nights run from the CLI's runner; the partition set holds just
those two business dates.
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from bakehouse.config import Settings
from orchestration.runner import run_nights, step_label
from tests.conftest import REPO_ROOT

JOB_PAGE = """
query JobPage($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) {
    __typename
    ... on Pipeline {
      runs { runId status tags { key value } }
      partitionKeysOrError { ... on PartitionKeys { partitionKeys } }
    }
    ... on PythonError { message }
  }
}
"""
NIGHTS = [date(2026, 11, 1), date(2026, 11, 2)]


def test_step_labels_name_the_layer() -> None:
    assert step_label("bronze__pos_sales") == "bronze pos_sales"
    assert step_label("oneid") == "identity"
    assert step_label("silver") == "silver"


@pytest.mark.slow
def test_cli_runs_are_listed_on_the_nightly_job_page(settings: Settings) -> None:
    steps: list[tuple[date, str]] = []
    nights = run_nights(
        settings, NIGHTS, on_step=lambda night, label, done, total: steps.append((night, label))
    )
    assert [(n.business_date, n.success) for n in nights] == [(d, True) for d in NIGHTS]
    assert steps[0] == (NIGHTS[0], "bronze douyin_orders")
    assert {label for _, label in steps} >= {"bronze pos_sales", "silver", "identity"}
    assert [n for n, label in steps if label == "silver"] == NIGHTS  # once per night

    with (
        dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance,
        WorkspaceProcessContext(
            instance, WorkspaceFileTarget(paths=[str(REPO_ROOT / "workspace.yaml")])
        ) as workspace,
    ):
        context = workspace.create_request_context()
        [location] = context.code_location_names
        answer = execute_dagster_graphql(
            context,
            JOB_PAGE,
            variables={
                "selector": {
                    "pipelineName": "nightly",
                    "repositoryName": "__repository__",
                    "repositoryLocationName": location,
                }
            },
        ).data["pipelineOrError"]
    assert answer["__typename"] == "Pipeline", answer
    runs = {run["runId"]: run for run in answer["runs"]}
    assert set(runs) == {night.run_id for night in nights}
    partitions = sorted(
        tag["value"]
        for run in runs.values()
        for tag in run["tags"]
        if tag["key"] == "dagster/partition"
    )
    assert partitions == ["2026-11-01", "2026-11-02"]
    assert answer["partitionKeysOrError"]["partitionKeys"] == ["2026-11-01", "2026-11-02"]
