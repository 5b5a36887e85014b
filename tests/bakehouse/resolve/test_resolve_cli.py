"""`bakehouse resolve` on the command line: the summary table and `--explain`."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from bakehouse.cli import app
from bench.resolve.generate import labelled_people


def test_resolve_prints_a_table_and_explains(tmp_path) -> None:
    people = labelled_people("chinese", 40, seed=4)
    source = tmp_path / "people.csv"
    people.drop("true_id").write_csv(source)
    output, explain = tmp_path / "clusters.csv", tmp_path / "why.csv"
    result = CliRunner().invoke(
        app,
        ["resolve", "--input", str(source), "--output", str(output), "--explain", str(explain)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "ResolveSummary(" not in result.output
    assert "persons" in result.output and "linked pairs" in result.output
    assert pl.read_csv(output).height == people.height
    assert pl.read_csv(explain).columns[:3] == ["record_id_l", "record_id_r", "match_probability"]
