"""The code location loads, and `dagster dev` serves it offline on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from orchestration.partitions import BUSINESS_DATES, business_dates
from tests.conftest import REPO_ROOT


def test_definitions_load_with_nightly_job_and_schedule() -> None:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly")
    assert job.partitions_def == business_dates
    schedule = defs.resolve_schedule_def("nightly_0200_shanghai")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert isinstance(defs.resources["lakehouse"], dg.ConfigurableResource)
    assert defs.resources["lakehouse"].home == dg.EnvVar("BAKEHOUSE_HOME")


def test_the_nightly_schedule_adds_and_requests_the_day_that_just_ended() -> None:
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_0200_shanghai")
    tick = datetime(2026, 11, 3, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=tick,
            repository_def=defs.get_repository_def(),
        )
        [request] = schedule.evaluate_tick(context).run_requests
        assert request.partition_key == "2026-11-02"
        assert instance.get_dynamic_partitions(BUSINESS_DATES) == ["2026-11-02"]


def test_loading_the_definitions_reads_neither_the_lake_nor_the_environment(
    tmp_path: Path,
) -> None:
    """No home, no key, an empty working directory: the code location still loads and
    creates nothing (settings are read when a run starts)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    env |= {"DAGSTER_HOME": str(tmp_path / "dagster_home"), "DAGSTER_DISABLE_TELEMETRY": "true"}
    (tmp_path / "dagster_home").mkdir()
    loaded = subprocess.run(
        [sys.executable, "-c", "from orchestration.definitions import defs; print(len(defs.jobs))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dagster_home"]
    assert not any((tmp_path / "dagster_home").iterdir())


def test_every_asset_is_grouped_and_documented() -> None:
    from orchestration.definitions import defs

    specs = list(defs.resolve_all_asset_specs())
    for spec in specs:
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.description, f"{spec.key.to_user_string()} has no description"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dagster_dev_serves_the_ui_offline(tmp_path: Path) -> None:
    port = _free_port()
    home = tmp_path / "bakehouse"
    (home / "dagster_home").mkdir(parents=True)
    (home / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "BAKEHOUSE_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    dagster = Path(sys.executable).with_name("dagster")
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so we can stop all of it
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                assert process.poll() is None, "dagster dev exited early"
                time.sleep(1)
        assert "dagster_webserver_version" in body
        query = (
            b'{"query": "{ repositoriesOrError '
            b'{ ... on RepositoryConnection { nodes { name } } } }"}'
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql",
            data=query,
            headers={"Content-Type": "application/json"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with urllib.request.urlopen(request, timeout=10) as r:
                answer = r.read().decode()
            if "__repository__" in answer:
                break
            time.sleep(1)
        assert "__repository__" in answer, answer
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
