"""Nightly job through the CLI's runner: a simulated night, then the same night again.

    .venv/bin/python bench/bench_nightly_rerun.py --home /tmp/bh-rerun --scale 0.01

The second run finds nothing new in the file ledger: bronze skips the files it has,
silver and identity materialize nothing. Prints one JSON line per run: seconds per
step (from the run's Dagster event log) and the run's wall-clock seconds. Goal: the
re-run's silver and identity steps take seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
NIGHT = dt.date(2026, 11, 1)


def _step_seconds(settings, run_id: str) -> dict[str, float]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        stats = instance.get_run_step_stats(run_id)
    return {s.step_key: round(s.end_time - s.start_time, 2) for s in stats if s.end_time}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--scale", type=float, default=0.01)
    args = parser.parse_args()
    os.environ.setdefault("BAKEHOUSE_PII_KEY", "bench-key-not-secret")
    from bakehouse.config import Settings, apply_telemetry_off
    from bakehouse.sim import simulate
    from orchestration.runner import run_nights

    apply_telemetry_off()
    shutil.rmtree(args.home, ignore_errors=True)
    settings = Settings(home=args.home.resolve())
    settings.ensure_dirs()
    # the member base is dated the day before the first day (see `bakehouse demo`)
    simulate(settings.landing, settings.truth, scale=args.scale, start=NIGHT, days=1, seed=7)
    nights = [NIGHT - dt.timedelta(days=1), NIGHT]
    for label, dates in (("first", nights), ("rerun", [NIGHT])):
        for night in run_nights(settings, dates):
            steps = _step_seconds(settings, night.run_id)
            record = {
                "run": label,
                "business_date": night.business_date.isoformat(),
                "success": night.success,
                "seconds": round(night.seconds, 1),
                "silver_seconds": steps.get("silver"),
                "identity_seconds": steps.get("oneid"),
                "bronze_seconds": round(
                    sum(v for k, v in steps.items() if k.startswith("bronze__")), 1
                ),
            }
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
