"""The simulator's faulted landing: every logged fault is handled exactly as logged.

`truth/faults.jsonl` is the single statement of expected handling: each line's
`expected` object says, in bronze's vocabulary (see `bakehouse.sim.faults`), what the
ledger, the quarantine and bronze show for the faulted file. This test only compares.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import polars as pl
import pytest

from bakehouse.config import Settings
from ingestion import ingest
from tests.ingestion.conftest import assert_accounting, ledger, read_table

sim = pytest.importorskip("bakehouse.sim")

_COUNTS = ("rows_read", "rows_landed", "rows_quarantined")


def _observed(settings: Settings, rows: pl.DataFrame, fault: dict[str, Any]) -> dict[str, Any]:
    """What bronze did with the fault's file, in the keys its `expected` uses."""
    source_file, feed = fault["file"], fault["feed"]
    found = rows.filter((pl.col("source_file") == source_file) & (pl.col("status") != "superseded"))
    assert len(found) == 1, source_file
    row = found.row(0, named=True)
    notes = (row["notes"] or "").split("; ")
    observed: dict[str, Any] = {key: row[key] for key in ("status", "reason", *_COUNTS)}
    expected = fault["expected"]
    observed["notes"] = [note for note in expected.get("notes", ()) if note in notes]
    if "quarantine_reason" in expected:
        reasons = set(
            read_table(settings, "quarantine", feed)
            .filter(pl.col("source_file") == source_file)["reason_code"]
            .to_list()
        )
        observed["quarantine_reason"] = reasons.pop() if len(reasons) == 1 else sorted(reasons)
    if "bronze_values" in expected:
        bronze = read_table(settings, "bronze", feed).filter(pl.col("source_file") == source_file)
        observed["bronze_values"] = {
            column: value
            for column, value in expected["bronze_values"].items()
            if value in bronze[column].to_list()
        }
    return {key: observed[key] for key in expected}


def test_every_simulated_fault_is_handled_as_logged(settings: Settings) -> None:
    sim.simulate(
        settings.landing,
        settings.truth,
        scale=0.01,
        start=date(2026, 11, 1),
        days=3,
        seed=7,
        faults=True,
    )
    ingest(settings)
    rows = ledger(settings)
    faults = [
        json.loads(line) for line in (settings.truth / "faults.jsonl").read_text().splitlines()
    ]
    assert {f["fault"] for f in faults} == set(sim.faults.FAULT_KINDS)
    mismatches = {
        f"{fault['fault']} ({fault['file']})": (fault["expected"], observed)
        for fault in faults
        if (observed := _observed(settings, rows, fault)) != fault["expected"]
    }
    assert not mismatches, mismatches
    assert_accounting(settings)
    assert ingest(settings).totals.files == 0  # and a second run changes nothing
