"""Homes built by the real `bakehouse` command, shared by the crash, PII and determinism tests.

One simulated chain (tiny scale, two nights, faults on) is run once per test session:
- `after_night_1`: the home after `bakehouse run` for the first night;
- `complete`: a copy of it after `bakehouse run` for the second night (the reference:
  the uninterrupted run every crashed-and-recovered home must equal).
Tests copy a home before running anything in it (`copy_home`); copies keep the files'
modification times, which the file ledger records. The first test that asks builds
them under pytest's session temp dir; the others find them there (`BUILT` marker).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.conftest import TEST_PII_KEY

SCALE = "0.002"
SEED = "7"
NIGHT_1 = date(2026, 11, 2)
NIGHT_2 = date(2026, 11, 3)
BAKEHOUSE = Path(sys.executable).with_name("bakehouse")


@dataclass(frozen=True)
class NightlyHomes:
    root: Path
    after_night_1: Path
    complete: Path
    night_2_seconds: float  # how long the uninterrupted second night took, for random kills

    @property
    def logs(self) -> Path:
        """The `bakehouse` commands' output (what an operator's cron mail would hold)."""
        return self.root / "logs"


@dataclass(frozen=True)
class Outcome:
    returncode: int
    seconds: float
    output: str

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL


def bakehouse_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BAKEHOUSE_") and k not in {"DAGSTER_HOME"}
    }
    env.update(
        BAKEHOUSE_HOME=str(home),
        DAGSTER_HOME=str(home / "dagster_home"),
        BAKEHOUSE_PII_KEY=TEST_PII_KEY,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH")])
        ),
        **extra,
    )
    return env


def bakehouse(
    home: Path,
    *args: str,
    log: Path,
    env: dict[str, str] | None = None,
    kill_after: float | None = None,
    timeout: float = 600,
) -> Outcome:
    """Run `bakehouse *args` for `home` in its own process group, output appended to `log`.

    With `kill_after`, the test sends SIGKILL to the group that many seconds after the
    start, if it is still running (a random-time crash).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("ab") as sink:
        sink.write(f"\n$ bakehouse {' '.join(args)}\n".encode())
        sink.flush()
        process = subprocess.Popen(
            [str(BAKEHOUSE), *args],
            env={**bakehouse_env(home), **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=kill_after if kill_after is not None else timeout)
        except subprocess.TimeoutExpired:
            if kill_after is None:
                os.killpg(process.pid, signal.SIGKILL)
                raise
            os.killpg(process.pid, signal.SIGKILL)
            returncode = process.wait(timeout=60)
    seconds = time.monotonic() - started
    text = log.read_text(encoding="utf-8", errors="replace")
    return Outcome(returncode, seconds, text[text.rfind("\n$ bakehouse ") :])


def run_nights(home: Path, first: date, last: date, *, log: Path, **kwargs) -> Outcome:
    return bakehouse(
        home, "run", "--from", first.isoformat(), "--to", last.isoformat(), log=log, **kwargs
    )


def copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)  # copy2: modification times kept
    return target


def _check(outcome: Outcome, what: str) -> None:
    if outcome.returncode != 0:
        raise RuntimeError(f"{what} failed ({outcome.returncode}):\n{outcome.output[-4000:]}")


def nightly_homes(base: Path) -> NightlyHomes:
    """Build the shared homes under `base` once; later calls return the built ones."""
    root = base / "nightly-homes"
    marker = root / "BUILT"
    after_night_1, complete = root / "after-night-1", root / "complete"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        logs = root / "logs"
        _check(bakehouse(after_night_1, "init", log=logs / "init.log"), "bakehouse init")
        simulate = bakehouse(
            after_night_1,
            "simulate", "--scale", SCALE, "--seed", SEED, "--start", NIGHT_1.isoformat(),
            "--days", "2", "--faults", "--landing", str(after_night_1 / "landing"),
            "--truth", str(root / "truth"),
            log=logs / "simulate.log",
        )  # fmt: skip
        _check(simulate, "bakehouse simulate")
        _check(run_nights(after_night_1, NIGHT_1, NIGHT_1, log=logs / "night-1.log"), "night 1")
        copy_home(after_night_1, complete)
        night_2 = run_nights(complete, NIGHT_2, NIGHT_2, log=logs / "night-2.log")
        _check(night_2, "night 2")
        marker.write_text(f"{night_2.seconds:.1f}\n", encoding="utf-8")
    return NightlyHomes(
        root=root,
        after_night_1=after_night_1,
        complete=complete,
        night_2_seconds=float(marker.read_text(encoding="utf-8")),
    )
