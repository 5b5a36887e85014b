"""Benchmark the chain simulator: one SF1 day and one SF0.1 year.

Each case runs in its own process so that its peak RSS is its own. Output goes to a
temporary directory that is removed afterwards.

    .venv/bin/python bench/bench_simulator.py            # both cases
    .venv/bin/python bench/bench_simulator.py --case sf1-day
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import tempfile
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

CASES: dict[str, dict] = {
    "sf1-day": {"scale": 1.0, "days": 1},
    "sf0.1-year": {"scale": 0.1, "days": 365},
}
START = date(2025, 11, 1)  # a year that is over, so the simulator accepts every date


def _run_case(name: str, root: str, results: multiprocessing.Queue) -> None:
    from bakehouse.sim import simulate

    landing, truth = Path(root) / "landing", Path(root) / "truth"
    summary = simulate(landing, truth, start=START, seed=42, **CASES[name])
    total = summary.total
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put((name, summary.seconds, total.files, total.rows, total.bytes / 2**20, peak_mib))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    cases = parser.parse_args().case or list(CASES)

    table = Table(title="bakehouse simulate")
    for column in ("case", "seconds", "files", "rows", "MB written", "peak RSS MiB"):
        table.add_column(column, justify="left" if column == "case" else "right")
    context = multiprocessing.get_context("spawn")
    for name in cases:
        root = tempfile.mkdtemp(prefix=f"bench-sim-{name}-")
        try:
            results = context.Queue()
            process = context.Process(target=_run_case, args=(name, root, results))
            process.start()
            row = results.get()
            process.join()
        finally:
            shutil.rmtree(root, ignore_errors=True)
        case, seconds, files, rows, megabytes, peak = row
        figures = (f"{seconds:.1f}", f"{files:,}", f"{rows:,}", f"{megabytes:,.0f}", f"{peak:,.0f}")
        table.add_row(case, *figures)
    Console().print(table)


if __name__ == "__main__":
    main()
