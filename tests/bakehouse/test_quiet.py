"""A quiet console: library output lands in the home's log file, errors show their cause."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from rich.console import Console

from bakehouse.config import Settings
from bakehouse.pii import MissingKeyError
from bakehouse.quiet import library_output_to, root_cause_line
from orchestration.runner import _first_error


def test_library_output_goes_to_the_log_file_and_ours_to_the_terminal(
    tmp_path: Path, capfd
) -> None:
    log_file = tmp_path / "logs" / "bakehouse.log"
    ours = Console(stderr=True)
    with library_output_to(log_file, consoles=[ours]):
        os.write(2, b"[WARN sail_plan] Hint operation is not yet supported\n")
        print("a Python library warning", file=sys.stderr)
        handler = logging.StreamHandler()  # as Dagster's console logger makes one per run
        logger = logging.getLogger("dagster-like")
        logger.addHandler(handler)
        logger.warning("dagster says hello")
        logger.removeHandler(handler)
        ours.print("error: the line the operator needs")
    text = log_file.read_text()
    assert "Hint operation is not yet supported" in text
    assert "a Python library warning" in text
    assert "dagster says hello" in text
    assert "the line the operator needs" not in text
    terminal = capfd.readouterr().err
    assert "error: the line the operator needs" in terminal
    assert "Hint operation" not in terminal and "dagster says hello" not in terminal
    assert getattr(ours, "_file", None) is None  # restored


@pytest.mark.parametrize("python_stderr", ["descriptor two", "in memory"])
def test_until_exit_keeps_native_output_in_the_log_and_python_on_the_terminal(
    tmp_path: Path, monkeypatch, capfd, python_stderr: str
) -> None:
    log_file = tmp_path / "bakehouse.log"
    if python_stderr == "descriptor two":  # the CLI: sys.stderr writes to descriptor 2
        stream = open(2, "w", closefd=False)  # noqa: SIM115
    else:  # a test runner's captured stream
        stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stderr", stream)
    saved = os.dup(2)
    try:
        with library_output_to(log_file, until_exit=True):
            os.write(2, b"during the command\n")
        os.write(2, b"Sail shutting down at exit\n")
        print("a Python error after the block", file=sys.stderr)
        sys.stderr.flush()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    log = log_file.read_text()
    assert "during the command" in log and "Sail shutting down at exit" in log
    assert "a Python error after the block" not in log
    if python_stderr == "in memory":
        assert sys.stderr is stream and not stream.closed
        assert stream.buffer.getvalue() == b"a Python error after the block\n"
    else:
        assert "a Python error after the block" in capfd.readouterr().err


def test_a_failed_step_reports_its_root_cause_not_dagsters_wrapper(tmp_path: Path) -> None:
    @dg.op
    def silver_masters() -> None:
        raise MissingKeyError("BAKEHOUSE_PII_KEY is not set")

    @dg.job
    def nightly():
        silver_masters()

    with dg.DagsterInstance.ephemeral() as instance:
        outcome = nightly.execute_in_process(instance=instance, raise_on_error=False)
    failures = [e for e in outcome.all_events if e.is_step_failure]
    wrapper = failures[0].step_failure_data.error
    assert wrapper.cls_name == "DagsterExecutionStepExecutionError"
    assert root_cause_line(wrapper) == "MissingKeyError: BAKEHOUSE_PII_KEY is not set"
    assert _first_error(failures) == "MissingKeyError: BAKEHOUSE_PII_KEY is not set"


NIGHT = date(2026, 11, 1)
LIBRARY_LINE = re.compile(r"\b(WARN|INFO|DEBUG)\b|sail_|dagster - ")


@pytest.mark.slow
def test_run_prints_no_library_lines(settings: Settings) -> None:
    """`bakehouse run` as an operator starts it: a real process, a real simulated night."""
    from bakehouse.sim import simulate

    simulate(settings.landing, settings.truth, scale=0.01, start=NIGHT, days=1, seed=3)
    repo = Path(__file__).resolve().parents[2]
    environ = {**os.environ, "PYTHONPATH": str(repo), "RUST_LOG": "warn"}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("bakehouse")), "run", "--date", NIGHT.isoformat()],
        capture_output=True,
        text=True,
        env=environ,
        cwd=repo,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    printed = completed.stdout + completed.stderr
    assert [line for line in printed.splitlines() if LIBRARY_LINE.search(line)] == []
    assert NIGHT.isoformat() in completed.stdout and "Bronze accounting" in completed.stdout
    log = settings.log_file.read_text()
    assert f"bakehouse run --date {NIGHT}" in log
    assert "sail" in log.lower()
