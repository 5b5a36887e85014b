"""The guard before `bakehouse run` / `maintain`: the Dagster daemon does not queue them,
so they refuse to start under a live lake writer, and recover from a dead one.

A run whose process was killed stays "started" in Dagster; the guard sees from the
PID, its start time and the host recorded on the run that the process is gone, marks
the run failed with a one-line notice, and goes on."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest
from typer.testing import CliRunner

from bakehouse.cli import app
from bakehouse.config import LAKE_WRITE_TAGS, Settings
from bakehouse.maintenance import (
    HOST_TAG,
    PID_STARTED_TAG,
    PID_TAG,
    lake_writers_in_progress,
    run_process_gone,
)
from tests.conftest import REPO_ROOT

runner = CliRunner()

# A lake-writing run that records its process (as every run using the lakehouse
# resource does) and then works until it is killed.
WRITER = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from bakehouse.config import LAKE_WRITE_TAGS
    from orchestration.resources import LakehouseResource

    @dg.op
    def write_for_a_long_time(lakehouse: LakehouseResource) -> None:
        time.sleep(600)

    @dg.job(tags=LAKE_WRITE_TAGS, resource_defs={"lakehouse": LakehouseResource(home=sys.argv[1])})
    def writer():
        write_for_a_long_time()

    with dg.DagsterInstance.from_config(sys.argv[2]) as instance:
        writer.execute_in_process(instance=instance)
    """
)


def test_cli_run_refuses_to_start_while_a_lake_writer_runs(
    settings: Settings, running_lake_writer: str
) -> None:
    result = runner.invoke(app, ["run", "--date", "2026-11-01"], catch_exceptions=False)
    output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert running_lake_writer[:8] in output and "--force" in output
    assert not (settings.lake / "bronze" / "file_ledger").exists()


def _started_writer(settings: Settings) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.home), str(settings.dagster_home)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        while time.monotonic() < deadline:
            runs = instance.get_runs(dg.RunsFilter(tags=LAKE_WRITE_TAGS))
            if runs and PID_TAG in runs[0].tags:
                return process, runs[0].run_id
            assert process.poll() is None, "the writer exited early"
            time.sleep(0.5)
    process.kill()
    raise AssertionError("the writer never recorded its process")


@pytest.fixture
def killed_writer(settings: Settings) -> str:
    """A lake-writing run SIGKILLed mid-step: still STARTED in Dagster. Its run id."""
    process, run_id = _started_writer(settings)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        live = lake_writers_in_progress(instance)
    assert live.blocking == [run_id[:8]] and live.recovered == []  # alive: it blocks
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
    return run_id


def test_maintain_starts_without_force_after_a_writer_was_killed(
    settings: Settings, killed_writer: str
) -> None:
    result = runner.invoke(app, ["maintain"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    notice = [line for line in result.output.splitlines() if "marked run" in line]
    assert len(notice) == 1
    assert f"marked run {killed_writer[:8]} (writer) failed: its process" in notice[0]
    assert "is gone" in notice[0]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert instance.get_run_by_id(killed_writer).status == dg.DagsterRunStatus.FAILURE
    again = runner.invoke(app, ["maintain"], catch_exceptions=False)
    assert again.exit_code == 0 and "marked run" not in again.output  # once only


@pytest.mark.slow
def test_run_starts_without_force_after_a_writer_was_killed(
    settings: Settings, killed_writer: str
) -> None:
    result = runner.invoke(app, ["run", "--date", "2026-11-01"], catch_exceptions=False)
    assert "--force" not in result.output
    assert f"marked run {killed_writer[:8]} (writer) failed" in result.output
    # the night's progress bar, every step done
    assert re.search(r"^2026-11-01: ok .* (\d+)/\1 ", result.output, re.MULTILINE)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        nightly = instance.get_runs(dg.RunsFilter(job_name="nightly"))
    assert [r.tags["dagster/partition"] for r in nightly] == ["2026-11-01"]
    assert nightly[0].status == dg.DagsterRunStatus.SUCCESS  # a night with no files yet
    assert result.exit_code == 0, result.output


def test_a_recorded_process_is_judged_by_pid_start_time_and_host() -> None:
    me = os.getpid()
    import psutil

    started = psutil.Process(me).create_time()
    here = socket.gethostname()
    assert (
        run_process_gone({PID_TAG: str(me), PID_STARTED_TAG: repr(started), HOST_TAG: here}) is None
    )
    reused = {PID_TAG: str(me), PID_STARTED_TAG: repr(started - 3600), HOST_TAG: here}
    assert "now belongs to another" in run_process_gone(reused)
    elsewhere = {PID_TAG: "1", PID_STARTED_TAG: "0.0", HOST_TAG: here + "-other"}
    assert run_process_gone(elsewhere) is None  # another machine: cannot decide
    assert run_process_gone({}) is None  # nothing recorded yet: cannot decide
