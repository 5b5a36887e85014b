"""A quiet console: library output lands in the home's log file, errors show their cause."""

from __future__ import annotations

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
