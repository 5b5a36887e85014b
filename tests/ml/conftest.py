"""Shared small data for the ML tests: one generated set, made once per session."""

from __future__ import annotations

import pandas as pd
import pytest

from ml.synthetic import generate_transactions


@pytest.fixture(scope="session")
def lines() -> pd.DataFrame:
    """About 500 customers over 240 days; fixed seed, so figures are exact."""
    return generate_transactions(customers=500, items=60, days=240, seed=11)


@pytest.fixture(scope="session")
def lines_csv(tmp_path_factory, lines: pd.DataFrame):
    """The same lines as a plain CSV (ISO timestamps), as an external user would give them."""
    path = tmp_path_factory.mktemp("ml") / "lines.csv"
    lines.to_csv(path, index=False)
    return path
