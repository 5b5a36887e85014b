"""`bakehouse clv` and `bakehouse recommend` on plain CSV files."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from bakehouse.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_clv_writes_one_row_per_customer(tmp_path, lines, lines_csv) -> None:
    output = tmp_path / "out" / "clv.csv"
    result = invoke(
        "clv", "--transactions", str(lines_csv), "--horizon-days", "30", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    clv = pd.read_csv(output, dtype={"customer_id": str})
    assert list(clv.columns) == ["customer_id", "predicted_purchases", "predicted_value"]
    assert sorted(clv["customer_id"]) == sorted(lines["customer_id"].unique())
    assert clv["customer_id"].is_unique
    assert (clv["predicted_purchases"] >= 0).all() and (clv["predicted_value"] >= 0).all()
    assert "holdout 30 d" in result.output


def test_clv_falls_back_to_the_baseline_on_a_handful_of_customers(tmp_path) -> None:
    transactions = tmp_path / "tx.csv"
    transactions.write_text(
        "customer_id,ts,amount\n"
        "a,2026-01-01,10\na,2026-01-03,12\nb,2026-01-02,30\nc,2026-01-02,5\nc,2026-01-02,-5\n",
        encoding="utf-8",
    )
    output = tmp_path / "clv.csv"
    result = invoke(
        "clv", "--transactions", str(transactions), "--horizon-days", "30", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    assert "(model: baseline)" in result.output
    # Baseline: visits and net spend over the 3-day window x 30 days. c returned the
    # same day what it bought: a day netting to 0 is no visit, so c predicts nothing.
    assert output.read_text().splitlines() == [
        "customer_id,predicted_purchases,predicted_value",
        "a,20.0000,220.0000",
        "b,10.0000,300.0000",
        "c,0.0000,0.0000",
    ]


def test_recommend_writes_k_ranked_rows_per_customer(tmp_path, lines, lines_csv) -> None:
    output = tmp_path / "recs.csv"
    result = invoke(
        "recommend", "--transactions", str(lines_csv), "--k", "5", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(output, dtype={"customer_id": str, "sku": str})
    assert list(recs.columns) == ["customer_id", "rank", "sku", "score"]
    customers = lines["customer_id"].nunique()
    assert len(recs) == customers * 5
    assert recs.groupby("customer_id")["rank"].apply(list).map(lambda r: r == [1, 2, 3, 4, 5]).all()
    assert not recs.duplicated(["customer_id", "sku"]).any()
    assert set(recs["sku"]) <= set(lines["sku"])
    assert recs.groupby("customer_id")["score"].is_monotonic_decreasing.all()


def test_recommend_keeps_string_ids_and_fills_tiny_catalogues(tmp_path) -> None:
    transactions = tmp_path / "tx.csv"
    transactions.write_text(
        "customer_id,sku,ts,qty\n"
        "007,A-1,2026-01-01 10:00,1\n"
        "007,B 2,2026-01-02,2\n"
        "x,A-1,2026-01-03T09:00:00+08:00,1\n",
        encoding="utf-8",
    )
    output = tmp_path / "recs.csv"
    result = invoke(
        "recommend", "--transactions", str(transactions), "--k", "10", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(output, dtype=str)
    # Two items exist, so each customer gets two rows; "x" bought once: popularity fills.
    assert recs[["customer_id", "rank", "sku"]].values.tolist() == [
        ["007", "1", "A-1"],
        ["007", "2", "B 2"],
        ["x", "1", "A-1"],
        ["x", "2", "B 2"],
    ]


CLV_HEADER = "customer_id,ts,amount\n"
RECS_HEADER = "customer_id,sku,ts,qty\n"


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        ("clv", "", "the file is empty"),
        ("clv", CLV_HEADER, "has a header but no rows"),
        ("clv", "customer_id,ts\na,2026-01-01\n", "missing column(s) amount"),
        (
            "clv",
            CLV_HEADER + "a,2026-01-01,3\nb,yesterday,4\n",
            "1 row(s) where ts is not a date/time; first at line 3: 'yesterday'",
        ),
        ("clv", CLV_HEADER + "a,2026-01-01,ten\n", "where amount is not a number"),
        ("clv", CLV_HEADER + ",2026-01-01,3\n", "where customer_id is empty"),
        ("recommend", "", "the file is empty"),
        ("recommend", "customer_id,item,ts,qty\na,x,2026-01-01,1\n", "missing column(s) sku"),
        ("recommend", RECS_HEADER + "a,x,2026-02-30,1\n", "where ts is not a date/time"),
        (
            "recommend",
            RECS_HEADER + "a,x,2026-01-01,1\na,x,2026-01-02,-1\n",
            "no purchases to learn from",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, command, text, message) -> None:
    transactions = tmp_path / "tx.csv"
    transactions.write_text(text, encoding="utf-8")
    output = tmp_path / "out.csv"
    extra = ["--horizon-days", "30"] if command == "clv" else ["--k", "3"]
    result = runner.invoke(
        app, [command, "--transactions", str(transactions), *extra, "--output", str(output)]
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not output.exists()


def test_missing_file_is_exit_2(tmp_path) -> None:
    result = runner.invoke(
        app,
        [
            "clv",
            "--transactions",
            str(tmp_path / "nope.csv"),
            "--horizon-days",
            "7",
            "--output",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "no such file" in result.output
