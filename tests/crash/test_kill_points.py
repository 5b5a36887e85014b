"""Kill `bakehouse run` at named points and at random moments; a re-run must converge.

Each scenario copies the home as it was after night 1, runs night 2 with
`BAKEHOUSE_KILL_AT` set (the run SIGKILLs its own process group at that point,
`bakehouse.killpoints`), re-runs night 2, and compares every Delta table with the
uninterrupted run's by content (`tests/crash/lakehash.py` lists the per-run columns
not compared: ingested_at, batch_id, superseded_at, processed_at, estimated_at; and
the run logs silver.build_log and silver.identity_nights, whose rows differ by design).

A scenario chains several points: each killed run dies at the next point, later in
the night than the previous one (so it is still ahead of the re-run), and only the
last run completes. That keeps the suite within its time budget (one full re-run per
chain, not per point); every point is still reached and killed at, which the test
checks against the run's `BAKEHOUSE_KILL_TRACE`. To examine one point alone, set
`SCENARIOS` to a one-point chain.

The re-runs pass no `--force`: the run guard sees that the killed run's process is gone,
marks it failed and lets the re-run start (issue #9, item 3).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crash.lakehash import describe_differences, lake_digest
from tests.nightly_home import NIGHT_2, NightlyHomes, bakehouse, copy_home

RERUN = ("run", "--date", NIGHT_2.isoformat())

# Chains of kill points, in the order a night reaches them (`BAKEHOUSE_KILL_TRACE`
# lists a night's points). Bronze: a feed's data committed before its ledger row, a
# ledger row, quarantine before the ledger. Silver masters, OneID, silver daily tables.
SCENARIOS: dict[str, list[str]] = {
    "bronze-and-masters": [
        "commit:bronze/douyin_orders",  # a feed's rows committed, its ledger row not yet
        "commit:quarantine/erp_b2b_orders",  # quarantine committed before bronze and ledger
        "commit:bronze/file_ledger#3",  # a ledger row, later feeds not started
        "commit:bronze/pos_sales",
        "commit:quarantine/pos_sales",
        "commit:silver/stores",  # silver masters: one table of several written
        "commit:silver/product_platform_map",
        "commit:silver/b2b_orders",
    ],
    "oneid-and-silver-daily": [  # OneID's multi-table night (commit protocol: docs/ONEID.md)
        "commit:silver/identity_map",  # map committed, members not: members lost (#9)
        "commit:silver/members",
        "commit:silver/identity_activity",  # evidence appended, files not: counted twice (#9)
        "commit:silver/identity_phones",
        # then silver's daily tables
        "step:silver.staged",  # scratch Parquet written, nothing committed
        "commit:silver/orders",  # orders committed, order lines not
        "commit:silver/inventory_daily",
    ],
}
RANDOM_KILL_SEEDS = (11, 23)


def _assert_converged(homes: NightlyHomes, home: Path, note: str) -> None:
    if lake_digest(home) != lake_digest(homes.complete):
        pytest.fail(
            f"{note}: the recovered lake differs from the uninterrupted run:\n"
            + describe_differences(homes.complete, home)
        )


# Issue #9 stays open: after the gold, completeness and ledger merges the comparison covers
# gold and new bronze tables whose per-run columns are not triaged yet.
NOT_YET_GREEN = "converges? not verified since gold and the ledger assets landed (issue #9 open)"


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason=NOT_YET_GREEN)
@pytest.mark.parametrize("points", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_a_run_killed_at_a_point_converges_after_a_re_run(
    homes: NightlyHomes, tmp_path: Path, points: list[str]
) -> None:
    home = copy_home(homes.after_night_1, tmp_path / "home")
    log = tmp_path / "runs.log"
    for number, point in enumerate(points):
        trace = tmp_path / f"trace-{number}.txt"
        env = {"BAKEHOUSE_KILL_AT": point, "BAKEHOUSE_KILL_TRACE": str(trace)}
        killed = bakehouse(home, *RERUN, log=log, env=env)
        assert killed.killed, f"{point}: not killed ({killed.returncode})\n{killed.output[-3000:]}"
        name, _, count = point.partition("#")
        last_point = trace.read_text(encoding="utf-8").splitlines()[-1]
        assert last_point == f"{name}#{count or 1}", f"killed after {last_point}, not at {point}"
    rerun = bakehouse(home, *RERUN, log=log)
    assert rerun.returncode == 0, rerun.output[-4000:]
    _assert_converged(homes, home, f"killed at {', '.join(points)}")


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason=NOT_YET_GREEN)
def test_a_run_killed_at_random_moments_converges_after_a_re_run(
    homes: NightlyHomes, tmp_path: Path
) -> None:
    """Killed at a seeded random moment, then the re-run killed at another one too."""
    home = copy_home(homes.after_night_1, tmp_path / "home")
    log = tmp_path / "runs.log"
    # Moments within the uninterrupted night's duration (process start included).
    delays = [
        random.Random(seed).uniform(0.2, 0.95) * homes.night_2_seconds for seed in RANDOM_KILL_SEEDS
    ]
    for delay in delays:
        bakehouse(home, *RERUN, log=log, kill_after=delay)
    rerun = bakehouse(home, *RERUN, log=log)
    assert rerun.returncode == 0, rerun.output[-4000:]
    moments = ", ".join(f"{d:.1f} s" for d in delays)
    _assert_converged(
        homes, home, f"killed at {moments} into the night (seeds {RANDOM_KILL_SEEDS})"
    )
