"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path

from tests.sim.simrun import run_sim


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = run_sim(tmp_path / "a", days=2, scale=0.005, faults=True)
    second = run_sim(tmp_path / "b", days=2, scale=0.005, faults=True)
    assert _snapshot(first.landing) == _snapshot(second.landing)
    assert _snapshot(first.truth) == _snapshot(second.truth)


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    first = run_sim(tmp_path / "a", days=1, scale=0.005, seed=1)
    second = run_sim(tmp_path / "b", days=1, scale=0.005, seed=2)
    first_files, second_files = _snapshot(first.landing), _snapshot(second.landing)
    assert first_files.keys() & second_files.keys()
    assert (
        first_files["miniprogram/mp_orders_20261101.jsonl"]
        != second_files["miniprogram/mp_orders_20261101.jsonl"]
    )
    assert (
        first_files["pos/pos_sales_SH001_20261101.csv"]
        != second_files["pos/pos_sales_SH001_20261101.csv"]
    )
