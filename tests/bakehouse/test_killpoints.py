"""The kill-point harness: names, counting, the kill itself, and the lake's commit points."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pyarrow as pa
import pytest

from bakehouse import killpoints
from bakehouse.killpoints import KillPointError, parse_kill_at


def test_parse_names_counts_and_lists():
    assert parse_kill_at(" commit:silver/members#2 , step:oneid.components ") == {
        "commit:silver/members": 2,
        "step:oneid.components": 1,
    }
    assert parse_kill_at("") == {}


@pytest.mark.parametrize("bad", ["silver/members", "commit:", "commit:x#0", "step:y#two"])
def test_a_misspelt_point_fails_loudly(bad):
    with pytest.raises(KillPointError, match="BAKEHOUSE_KILL_AT"):
        parse_kill_at(bad)


def test_the_nth_hit_kills_the_whole_process_group(tmp_path):
    trace = tmp_path / "trace.txt"
    script = textwrap.dedent(
        """
        import subprocess, sys
        from bakehouse.killpoints import killpoint
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
        for _ in range(3):
            killpoint("step:demo")
        print("survived", flush=True)
        """
    )
    env = {"BAKEHOUSE_KILL_AT": "step:demo#2", "BAKEHOUSE_KILL_TRACE": str(trace), "PATH": ""}
    process = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PYTHONPATH": ":".join(sys.path)},
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=60,
    )
    assert process.returncode == -signal.SIGKILL
    assert "survived" not in process.stdout
    assert trace.read_text().splitlines() == ["step:demo#1", "step:demo#2"]
    child = int(process.stdout.split()[0])
    for _ in range(100):  # SIGKILL is delivered at once; reaping by init may lag
        state = subprocess.run(["ps", "-o", "stat=", "-p", str(child)], capture_output=True)
        if state.stdout.strip() in {b"", b"Z"}:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the helper process in the group was not killed")


def test_every_lake_commit_is_a_point(lake, tmp_path, monkeypatch):
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv(killpoints.TRACE_ENV, str(trace))
    monkeypatch.delenv(killpoints.KILL_AT_ENV, raising=False)
    lake.write_arrow(pa.table({"n": [1, 2]}), "bronze", "kp_demo")
    lake.write_arrow(pa.table({"n": [3]}), "bronze", "kp_demo")
    lake.delete_where("bronze", "kp_demo", "n = 1")
    lake.optimize("bronze", "kp_demo")
    lake.write(lake.read("bronze", "kp_demo"), "silver", "kp_demo")
    lake.merge(lake.read("bronze", "kp_demo"), "silver", "kp_demo", ["n"])
    names = [line.rsplit("#", 1)[0] for line in trace.read_text().splitlines()]
    assert names == ["commit:bronze/kp_demo"] * 4 + ["commit:silver/kp_demo"] * 2
