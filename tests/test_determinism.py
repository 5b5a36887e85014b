"""Two clean runs on the same landing files give identical tables (issue #9, item 5).

The reference home ran each night as its own `bakehouse run`; this one runs both
nights in one command from an empty lake on a copy of the same files (modification
times kept). Every Delta table of every layer must hold the same rows; the per-run
columns not compared are listed in `tests/crash/lakehash.py`.
"""

from __future__ import annotations

import shutil

import pytest

from tests.crash.lakehash import describe_differences, lake_digest
from tests.nightly_home import NIGHT_1, NIGHT_2, bakehouse, nightly_homes, run_nights

# Issue #9 stays open: after the gold, completeness and ledger merges the comparison covers
# gold and new bronze tables whose per-run columns are not triaged yet.
NOT_YET_GREEN = "converges? not verified since gold and the ledger assets landed (issue #9 open)"


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason=NOT_YET_GREEN)
def test_two_clean_runs_give_identical_tables(tmp_path_factory, tmp_path):
    homes = nightly_homes(tmp_path_factory.getbasetemp())
    home = tmp_path / "home"
    shutil.copytree(homes.after_night_1 / "landing", home / "landing")
    assert bakehouse(home, "init", log=tmp_path / "init.log").returncode == 0
    outcome = run_nights(home, NIGHT_1, NIGHT_2, log=tmp_path / "run.log")
    assert outcome.returncode == 0, outcome.output[-4000:]
    reference, again = lake_digest(homes.complete), lake_digest(home)
    assert len(reference) > 30 and any(t.startswith("silver.") for t in reference)
    assert again == reference, describe_differences(homes.complete, home)
