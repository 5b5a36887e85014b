"""Rolling-origin backtest of `ml.forecast` against seasonal baselines, and test data.

Metrics (over all series x days of all origins):
- WAPE = sum |actual - P50| / sum actual;
- bias = sum (P50 - actual) / sum actual (positive: over-forecast);
- pinball loss at q = mean over rows of max(q (a - f), (q - 1)(a - f)), in the data's
  unit, for P10, P50 and P90;
- coverage = share of actuals within [P10, P90].
Baselines are point forecasts: seasonal naive (the same weekday of the last observed
week) and the mean of the same weekday over the last four observed weeks; their pinball
loss uses the point for every quantile and they have no coverage.

`generate_history` makes a daily history with known true demand: weekly and yearly
shapes, trend, Chinese holidays and festivals, promotions, negative binomial noise and a
"bake what sold last week" stock that censors sales. Its parameters are drawn at random
per series, not fitted to any simulator.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl

from ml.forecast import QUANTILES, forecast


def generate_history(
    n_stores: int = 4,
    n_skus: int = 5,
    start: date = date(2024, 1, 1),
    days: int = 730,
    seed: int = 0,
    stock_cover: float | None = 1.2,
) -> pl.DataFrame:
    """Daily sales with true demand.

    Columns `date, store, sku, qty, price, on_promo, sold_out, demand, expected_demand`
    (the mean the demand was drawn from: a forecast cannot beat it on average).

    `qty` = min(demand, stock); stock = `stock_cover` x the demand of the same weekday a
    week earlier (None: no stock limit, never sold out). About a fifth of the series start
    late (up to half the period in). Units are pieces; prices yuan.
    """
    from ml.calendar import calendar_features

    rng = np.random.default_rng(seed)
    dates = [start + timedelta(days=offset) for offset in range(days)]
    calendar = calendar_features(dates[0], dates[-1])
    weekday = calendar["weekday"].to_numpy()
    day_of_year = calendar["day_of_year"].to_numpy().astype(float)
    day_off = calendar["is_day_off"].fill_null(calendar["weekday"] >= 5).to_numpy()
    spring = calendar["days_to_spring_festival"].to_numpy()
    mid_autumn = calendar["days_to_mid_autumn"].to_numpy()
    christmas = calendar["days_to_christmas"].to_numpy()
    rows = []
    for store in range(n_stores):
        office = rng.random() < 0.5  # office districts sell less on days off
        store_level = rng.lognormal(0.0, 0.4)
        for sku in range(n_skus):
            level = store_level * rng.lognormal(2.5, 0.8)
            weekly = 1.0 + rng.normal(0, 0.08, 7)
            off_effect = rng.uniform(-0.5, -0.2) if office else rng.uniform(0.1, 0.4)
            amplitude = rng.uniform(0.1, 0.35)
            peak = rng.uniform(0, 365)
            trend = rng.normal(0, 0.15) / 365.0
            festive = rng.random() < 0.3
            price = round(float(rng.uniform(4, 30)), 1)
            dispersion = rng.uniform(5, 30)
            t = np.arange(days, dtype=float)
            mean = (
                level
                * weekly[weekday]
                * np.where(day_off, 1.0 + off_effect, 1.0)
                * (1.0 + amplitude * np.cos(2 * math.pi * (day_of_year - peak) / 365.25))
                * np.exp(trend * t)
            )
            spring_days = np.nan_to_num(spring.astype(float), nan=99)
            mean *= np.where((spring_days >= 0) & (spring_days <= 6), 0.5, 1.0)
            mean *= np.where((spring_days >= -10) & (spring_days < 0), 1.3, 1.0)
            if festive:
                autumn_days = np.nan_to_num(mid_autumn.astype(float), nan=99)
                xmas_days = np.nan_to_num(christmas.astype(float), nan=99)
                mean *= np.where((autumn_days >= -7) & (autumn_days <= 0), 2.0, 1.0)
                mean *= np.where((xmas_days >= -2) & (xmas_days <= 0), 1.8, 1.0)
            on_promo = rng.random(days) < 0.05
            mean *= np.where(on_promo, 1.5, 1.0)
            demand = rng.negative_binomial(dispersion, dispersion / (dispersion + mean))
            if stock_cover is None:
                stock = np.full(days, np.iinfo(np.int64).max)
            else:
                previous = np.concatenate([demand[:7], demand[:-7]])
                stock = np.ceil(stock_cover * previous).astype(np.int64) + 1
            qty = np.minimum(demand, stock)
            first = int(rng.integers(0, days // 2)) if rng.random() < 0.2 else 0
            for i in range(first, days):
                rows.append(
                    (
                        dates[i],
                        f"S{store:03d}",
                        f"SKU-{sku:04d}",
                        float(qty[i]),
                        round(price * (0.8 if on_promo[i] else 1.0), 2),
                        bool(on_promo[i]),
                        bool(demand[i] >= stock[i]),
                        float(demand[i]),
                        float(mean[i]),
                    )
                )
    return pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "store": pl.String,
            "sku": pl.String,
            "qty": pl.Float64,
            "price": pl.Float64,
            "on_promo": pl.Boolean,
            "sold_out": pl.Boolean,
            "demand": pl.Float64,
            "expected_demand": pl.Float64,
        },
        orient="row",
    )


def seasonal_baselines(history: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """Point baselines for the `horizon` days after the history's last date.

    Returns `date, store, sku, seasonal_naive, mean_4w`: the same weekday of the last
    observed week, and the mean of that weekday over the last four weeks (missing days
    count as zero sales).
    """
    last = history["date"].max()
    recent = history.filter(pl.col("date") > last - timedelta(days=28)).select(
        "store", "sku", "date", "qty"
    )
    keys = history.select("store", "sku").unique()
    future = keys.join(
        pl.DataFrame(
            {
                "date": pl.date_range(
                    last + timedelta(days=1), last + timedelta(days=horizon), eager=True
                )
            }
        ),
        how="cross",
    )
    joined = future.with_columns(
        ((pl.col("date") - last).dt.total_days() - 1).alias("ahead")
    ).with_columns(
        # the same weekday in the last observed week
        (pl.col("date") - pl.duration(days=7 * ((pl.col("ahead") // 7) + 1))).alias("naive_date")
    )
    naive = joined.join(
        recent.rename({"date": "naive_date", "qty": "seasonal_naive"}),
        on=["store", "sku", "naive_date"],
        how="left",
    )
    weekday_means = (
        recent.with_columns(pl.col("date").dt.weekday().alias("weekday"))
        .group_by("store", "sku", "weekday")
        .agg((pl.col("qty").sum() / 4.0).alias("mean_4w"))
    )
    return (
        naive.with_columns(pl.col("date").dt.weekday().alias("weekday"))
        .join(weekday_means, on=["store", "sku", "weekday"], how="left")
        .select(
            "date",
            "store",
            "sku",
            pl.col("seasonal_naive").fill_null(0.0),
            pl.col("mean_4w").fill_null(0.0),
        )
    )


def pinball(actual: np.ndarray, predicted: np.ndarray, quantile: float) -> float:
    """Mean pinball (quantile) loss, in the unit of `actual`."""
    error = actual - predicted
    return float(np.mean(np.maximum(quantile * error, (quantile - 1) * error)))


def score(actual: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> dict:
    """WAPE, bias, pinball at P10/P50/P90 and P10-P90 coverage (None if p10 is p90)."""
    total = float(actual.sum())
    return {
        "wape": float(np.abs(actual - p50).sum() / total) if total else math.nan,
        "bias": float((p50 - actual).sum() / total) if total else math.nan,
        "pinball_p10": pinball(actual, p10, 0.1),
        "pinball_p50": pinball(actual, p50, 0.5),
        "pinball_p90": pinball(actual, p90, 0.9),
        "coverage_p10_p90": (
            None if p10 is p90 else float(np.mean((actual >= p10) & (actual <= p90)))
        ),
    }


def backtest(
    history: pl.DataFrame,
    *,
    origins: int = 4,
    horizon: int = 14,
    step: int = 14,
    actual_column: str = "qty",
    **forecast_options,
) -> pl.DataFrame:
    """Rolling-origin backtest: for each origin, train on the days up to it, forecast.

    The last origin leaves exactly `horizon` days; earlier ones step back by `step` days.
    `actual_column` is what forecasts are scored against ("demand" for true demand on
    generated data). Returns one row per method (`model`, `seasonal_naive`, `mean_4w`, and
    `oracle_mean` when the history has `expected_demand`)
    with `origins, rows` and the metrics of `score`.
    """
    if origins < 1 or horizon < 1:
        raise ValueError("backtest needs at least one origin and a horizon of at least 1")
    last = history["date"].max()
    collected: list[pl.DataFrame] = []
    for index in range(origins):
        origin = last - timedelta(days=horizon + index * step)
        train = history.filter(pl.col("date") <= origin)
        actual = history.filter(
            (pl.col("date") > origin) & (pl.col("date") <= origin + timedelta(days=horizon))
        ).select(
            "date",
            "store",
            "sku",
            pl.col(actual_column).alias("actual"),
            *(["expected_demand"] if "expected_demand" in history.columns else []),
        )
        inputs = train.select(
            [
                c
                for c in ("date", "store", "sku", "qty", "price", "on_promo", "sold_out")
                if c in train.columns
            ]
        )
        predicted, _ = forecast(inputs, horizon, **forecast_options)
        baselines = seasonal_baselines(inputs, horizon)
        collected.append(
            predicted.join(baselines, on=["date", "store", "sku"])
            .join(actual, on=["date", "store", "sku"], how="left")
            .with_columns(pl.col("actual").fill_null(0.0))
        )
    scored = pl.concat(collected)
    actual = scored["actual"].to_numpy()
    results = [
        {"method": "model", **score(actual, *(scored[c].to_numpy() for c in ("p10", "p50", "p90")))}
    ]
    for baseline in ("seasonal_naive", "mean_4w"):
        point = scored[baseline].to_numpy()
        results.append({"method": baseline, **score(actual, point, point, point)})
    if "expected_demand" in scored.columns:
        # the mean demand was drawn from: the noise floor of any point forecast
        oracle = scored["expected_demand"].fill_null(0.0).to_numpy()
        results.append({"method": "oracle_mean", **score(actual, oracle, oracle, oracle)})
    return pl.DataFrame(results).with_columns(
        pl.lit(origins).alias("origins"), pl.lit(scored.height).alias("rows")
    )


__all__ = ["QUANTILES", "backtest", "generate_history", "pinball", "score", "seasonal_baselines"]
