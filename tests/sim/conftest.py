"""Simulator runs shared by the tests: one clean and one with faults, each ~1-2 s."""

from __future__ import annotations

import pytest

from tests.sim.simrun import Run, run_sim


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_sim(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="session")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_sim(tmp_path_factory.mktemp("faulty"), faults=True, days=3, scale=0.02)
