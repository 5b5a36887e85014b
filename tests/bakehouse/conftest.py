"""Fixtures of the bakehouse package's tests."""

from __future__ import annotations

import dagster as dg
import pytest

from bakehouse.config import LAKE_WRITE_TAGS, Settings


@pytest.fixture
def running_lake_writer(settings: Settings) -> str:
    """A lake-writing Dagster run recorded as in progress in the home's instance; its id."""

    @dg.op
    def noop() -> None:
        pass

    @dg.job
    def writer():
        noop()

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        run = instance.create_run_for_job(
            writer, status=dg.DagsterRunStatus.STARTED, tags=LAKE_WRITE_TAGS
        )
    return run.run_id
