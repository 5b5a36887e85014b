"""The simulator never overwrites landing files, never simulates an unfinished day, and
stamps each file with its simulated export time."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from bakehouse.sim import simulate
from bakehouse.sim.engine import SimulationRefused, export_time
from tests.sim.simrun import START, run_sim

TODAY = date(2026, 11, 29)


def _snapshot(landing: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(landing).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in landing.rglob("*")
        if p.is_file()
    }


def test_refuses_to_overwrite_existing_files(tmp_path: Path) -> None:
    run = run_sim(tmp_path, scale=0.002, days=2)
    before = _snapshot(run.landing)
    with pytest.raises(SimulationRefused) as refused:
        simulate(run.landing, run.truth, scale=0.002, start=START, days=2, seed=8)
    message = str(refused.value)
    assert message.startswith(
        f"landing already has {len(before)} files for 2026-10-31..2026-11-02 "
        "(landing/douyin/douyin_orders_20261101.csv, "
    )
    assert "Pass --overwrite to replace them" in message
    assert _snapshot(run.landing) == before  # nothing written
    # The member base of a run starting the day after the last one would replace that
    # day's files (its member change file) and the month's store costs: refused too.
    with pytest.raises(SimulationRefused, match=r"^landing already has 16 files for 2026-11-02"):
        simulate(run.landing, run.truth, scale=0.002, start=date(2026, 11, 3), days=1, seed=7)
    assert _snapshot(run.landing) == before


def test_overwrite_replaces(tmp_path: Path) -> None:
    run = run_sim(tmp_path, scale=0.002, days=2)
    summary = simulate(
        run.landing, run.truth, scale=0.002, start=START, days=2, seed=8, overwrite=True
    )
    assert summary.total.files == run.summary.total.files


def test_refuses_days_not_over_yet(tmp_path: Path) -> None:
    with pytest.raises(SimulationRefused) as refused:
        simulate(
            tmp_path / "landing", tmp_path / "truth", start=date(2026, 11, 27), days=3, today=TODAY
        )
    assert str(refused.value) == (
        "the last simulated business date 2026-11-29 is not over yet (today is 2026-11-29 in "
        "Asia/Shanghai): the latest start for 3 days is 2026-11-26"
    )
    assert not (tmp_path / "landing").exists()
    summary = simulate(
        tmp_path / "landing",
        tmp_path / "truth",
        scale=0.002,
        start=date(2026, 11, 26),
        days=3,
        today=TODAY,
    )
    assert summary.first_run_date == date(2026, 11, 25)


def test_files_carry_their_simulated_export_time(tmp_path: Path) -> None:
    run = run_sim(tmp_path, scale=0.002, days=4)
    written_on: dict[str, str] = {}
    for line in (run.truth / "files.jsonl").read_text().splitlines():
        record = json.loads(line)
        written_on[record["path"]] = record["written_on"]  # the last write wins on disk
    assert len(written_on) == len(list(p for p in run.landing.rglob("*") if p.is_file()))
    shanghai = ZoneInfo("Asia/Shanghai")
    for path, day in written_on.items():
        written = date.fromisoformat(day)
        mtime = (run.landing / path).stat().st_mtime
        assert mtime == export_time(written), path
        local = datetime.fromtimestamp(mtime, shanghai)
        assert (local.date() - written).days == 1 and (local.hour, local.minute) == (1, 30)
    late = [p for p, day in written_on.items() if day != p.rsplit("_", 1)[1][:8]]
    assert late  # late and re-exported files are stamped later than their date


def test_export_time_is_never_recent() -> None:
    now = datetime(2026, 11, 29, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert export_time(date(2026, 11, 28), now=now) == now - 3600


def test_cli_refuses_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bakehouse.cli import app

    monkeypatch.setenv("BAKEHOUSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    arguments = ["simulate", "--start", "2026-10-01", "--days", "2", "--scale", "0.002"]
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0  # simulate never creates a home
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "The member base is dated 2026-09-30: run from there, e.g. bakehouse run " in (
        " ".join(first.output.split())
    )
    again = runner.invoke(app, arguments)
    assert again.exit_code == 2
    assert "error: landing already has" in " ".join(again.output.split())
    assert "simulating" not in again.output  # refused before the progress bar starts
    forced = runner.invoke(app, [*arguments, "--overwrite"])
    assert forced.exit_code == 0, forced.output
    assert os.path.exists(tmp_path / "home" / "landing" / "pos" / "pos_sales_SH001_20261002.csv")
