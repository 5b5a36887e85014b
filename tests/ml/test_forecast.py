"""`ml.forecast` and `bakehouse forecast` on generated histories with known true demand."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from bakehouse.cli import app
from ml.forecast import ForecastInputError, forecast, validate_history
from ml.forecast_eval import backtest, generate_history

HORIZON = 14


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    """Two years to 2026-12-25 (the horizon crosses into 2027), 2 stores x 3 SKUs."""
    return generate_history(n_stores=2, n_skus=3, start=date(2024, 12, 26), days=730, seed=3)


def _cli(args: list[str]):
    return CliRunner().invoke(app, ["forecast", *args])


def test_cli_forecasts_every_series_into_2027(tmp_path: Path, history: pl.DataFrame):
    sales = history.drop("demand", "expected_demand", "price", "on_promo", "sold_out").with_columns(
        # odd id formats: numbers as store codes, spaces and Chinese in SKU names
        pl.col("store").str.replace("S", "").alias("store"),
        (pl.col("sku") + " 全麦").alias("sku"),
    )
    # gaps: drop one day in ten of the first series; a returns day; a late short series
    first_series = (pl.col("store") == "000") & (pl.col("sku") == "SKU-0000 全麦")
    sales = sales.filter(~(first_series & (pl.col("date").dt.ordinal_day() % 10 == 0)))
    sales = sales.with_columns(
        pl.when(first_series & (pl.col("date") == date(2026, 12, 1)))
        .then(-3.0)
        .otherwise(pl.col("qty"))
        .alias("qty")
    )
    late = pl.DataFrame(
        {
            "date": [date(2026, 12, 12) + timedelta(days=offset) for offset in range(14)],
            "store": ["new-store"] * 14,
            "sku": ["X1"] * 14,
            "qty": [5.0] * 14,
        }
    )
    path = tmp_path / "sales.csv"
    pl.concat([sales, late]).write_csv(path)
    output = tmp_path / "fc.csv"

    result = _cli(["--history", str(path), "--horizon", str(HORIZON), "--output", str(output)])

    assert result.exit_code == 0, result.output
    assert "negative quantities clipped to 0: 1" in result.output
    assert "6 series by the global model, 1 by the seasonal baseline" in result.output
    forecasts = pl.read_csv(output, try_parse_dates=True, schema_overrides={"store": pl.String})
    assert forecasts.columns == ["date", "store", "sku", "p10", "p50", "p90"]
    assert forecasts.height == 7 * HORIZON
    assert forecasts.select("store", "sku").unique().height == 7
    assert forecasts["date"].min() == date(2026, 12, 26)
    assert forecasts["date"].max() == date(2027, 1, 8)
    assert forecasts.filter(
        (pl.col("p10") > pl.col("p50")) | (pl.col("p50") > pl.col("p90")) | (pl.col("p10") < 0)
    ).is_empty()
    # the short series gets the seasonal baseline: constant 5 a day -> Poisson(5) quantiles
    baseline = forecasts.filter(pl.col("store") == "new-store")
    assert baseline["p50"].to_list() == [5.0] * HORIZON
    assert baseline["p10"].to_list() == [2.0] * HORIZON
    assert baseline["p90"].to_list() == [8.0] * HORIZON


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("date,store,qty\n2026-01-01,A,3\n", "missing column(s) sku"),
        ("date,store,sku,qty\n2026-01-01,A,B,3\n2026-01-01,A,B,4\n", "share a (date, store, sku)"),
        ("date,store,sku,qty\n2026-01-01,A,B,3\n01/13/2026,A,B,4\n", "unparseable date(s)"),
        ("date,store,sku,qty\n2026-01-01,A,B,three\n", "qty that is not a number"),
    ],
)
def test_cli_rejects_bad_input_with_one_line(tmp_path: Path, csv: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(csv, encoding="utf-8")
    result = _cli(["--history", str(path), "--horizon", "7", "--output", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_validate_history_types_optional_columns():
    raw = pl.DataFrame(
        {
            "Date": ["2026-01-01", "2026/01/02"],
            "store": ["A", "A"],
            "sku": ["B", "B"],
            "qty": ["3", "4.5"],
            "sold_out": ["yes", "0"],
        }
    )
    typed = validate_history(raw)
    assert typed["date"].to_list() == [date(2026, 1, 1), date(2026, 1, 2)]
    assert typed["qty"].to_list() == [3.0, 4.5]
    assert typed["sold_out"].to_list() == [True, False]
    with pytest.raises(ForecastInputError, match="not a yes/no flag"):
        validate_history(raw.with_columns(pl.lit("maybe").alias("on_promo")))


def test_censoring_moves_forecast_toward_true_demand():
    # stock = last week's demand: about a third of the days sell out
    full = generate_history(n_stores=2, n_skus=3, days=500, seed=5, stock_cover=1.0)
    cutoff = full["date"].max() - timedelta(days=HORIZON)
    train = full.filter(pl.col("date") <= cutoff).drop("demand", "expected_demand")
    truth = full.filter(pl.col("date") > cutoff)["demand"].sum()
    totals = {}
    for method in ("ignore", "impute"):
        predicted, summary = forecast(train, HORIZON, censoring=method, n_estimators=100)
        totals[method] = predicted["p50"].sum()
    assert summary.sold_out_days > 0.25 * train.height
    # raw sales under-forecast; imputing sold-out days removes most of that bias
    assert totals["ignore"] < totals["impute"]
    assert abs(totals["impute"] - truth) < abs(totals["ignore"] - truth)


@pytest.mark.slow
def test_backtest_beats_seasonal_naive(history: pl.DataFrame):
    results = backtest(
        history, origins=4, horizon=HORIZON, actual_column="demand", n_estimators=100
    )
    by_method = {row["method"]: row for row in results.iter_rows(named=True)}
    assert results["rows"].to_list() == [4 * 6 * HORIZON] * 4
    assert by_method["oracle_mean"]["wape"] < by_method["model"]["wape"]
    assert by_method["model"]["wape"] < by_method["seasonal_naive"]["wape"]
    assert by_method["model"]["pinball_p50"] < by_method["seasonal_naive"]["pinball_p50"]
    assert by_method["seasonal_naive"]["coverage_p10_p90"] is None
