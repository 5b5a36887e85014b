"""Running the simulator small, in a temp dir, for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bakehouse.sim import SimSummary, simulate

START = date(2026, 11, 1)
# CI clones the repository with shared/ beside it.
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "landing"


@dataclass
class Run:
    landing: Path
    truth: Path
    summary: SimSummary


def run_sim(root: Path, **kwargs) -> Run:
    arguments = {"scale": 0.01, "start": START, "days": 4, "seed": 7} | kwargs
    summary = simulate(root / "landing", root / "truth", **arguments)
    return Run(root / "landing", root / "truth", summary)
