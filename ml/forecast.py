"""Daily demand forecasts with quantiles for any retail sales history.

One global LightGBM model per quantile (P10, P50, P90, pinball objective) across all
series, built with `mlforecast`. Every lag is at least the horizon (rounded up to whole
weeks), so a forecast never feeds on its own predictions and the P10 and P90 models do not
drift. Each series is divided by its recent mean level before training and multiplied back
after, so one model serves shops selling 3 and 3,000 a day.

Features: same-weekday lags, rolling level/trend/spread, the lag of a year ago (364 days)
when the history is long enough, a yearly Fourier shape (3 harmonics of the day of year)
learned across series, the Chinese calendar (`ml.calendar`: holidays, 调休, festivals with
lead/lag windows, shopping days), weekday, and price (relative to the series' median) and
promotion when the history has them. Future prices are the last known price; future days
are assumed not on promotion.

Censored sales: a day flagged `sold_out` only gives a lower bound `c` on demand. With
`censoring="impute"` (default) such a day's demand is replaced by E[D | D >= c], D normal
around the mean of the same weekday within four weeks either side, re-estimated with the
imputed days (EM; see `impute_censored`). P10/P90 are widened by split-conformal factors
found on the last `horizon` days (`_calibrate`). `"exclude"` drops sold-out days as
training targets (their lags still see the raw sales); `"ignore"` trains on raw sales.

Gaps: days missing inside a series (from its first day to the last day of the file) are
zero sales. Series with fewer than `first lag + 28` days of history get the seasonal
baseline instead: P50 = mean of the same weekday over the last four weeks available, P10
and P90 from a Poisson around it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

REQUIRED_COLUMNS = ("date", "store", "sku", "qty")
OPTIONAL_COLUMNS = ("price", "on_promo", "sold_out")
QUANTILES = (0.1, 0.5, 0.9)
CENSORING_METHODS = ("impute", "exclude", "ignore")
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}
_FOURIER_HARMONICS = 3


class ForecastInputError(ValueError):
    """The history cannot be forecast as given; the message is one line for the user."""


@dataclass
class ForecastSummary:
    """What `forecast` did, printed by the CLI."""

    rows: int = 0
    series: int = 0
    model_series: int = 0
    baseline_series: int = 0
    negative_qty_clipped: int = 0
    sold_out_days: int = 0
    gap_days_filled: int = 0
    first_date: date | None = None
    last_date: date | None = None
    horizon: int = 0
    censoring: str = "impute"
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"history: {self.rows:,} rows, {self.series:,} series, "
            f"{self.first_date} to {self.last_date}",
            f"forecast: {self.horizon} days, {self.model_series:,} series by the global model, "
            f"{self.baseline_series:,} by the seasonal baseline (too short)",
            f"negative quantities clipped to 0: {self.negative_qty_clipped:,}",
            f"sold-out days ({self.censoring}): {self.sold_out_days:,}; "
            f"missing days filled as zero sales: {self.gap_days_filled:,}",
        ]
        return "\n".join(lines + self.notes)


# -- input ----------------------------------------------------------------------------
def read_history(path: Path | str) -> pl.DataFrame:
    """Read and validate a sales history CSV; see `validate_history` for the result."""
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise ForecastInputError(f"{path}: cannot read as CSV: {error}") from None
    return validate_history(raw)


def validate_history(raw: pl.DataFrame) -> pl.DataFrame:
    """Type and check a history frame (string or typed columns).

    Returns columns `date` (Date), `store`, `sku` (String), `qty` (Float64) and, when
    present, `price` (Float64), `on_promo`, `sold_out` (Boolean). Raises
    ForecastInputError for missing columns, empty input, unparseable dates, quantities,
    prices or flags, and duplicate (date, store, sku) rows.
    """
    columns = {name.strip().lower(): name for name in raw.columns}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ForecastInputError(
            f"missing column(s) {', '.join(missing)}; need {', '.join(REQUIRED_COLUMNS)}"
        )
    keep = [name for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in columns]
    frame = raw.select(pl.col(columns[name]).alias(name) for name in keep)
    if frame.height == 0:
        raise ForecastInputError("the history has no rows")
    frame = frame.with_columns(
        pl.col("store").cast(pl.String).str.strip_chars(),
        pl.col("sku").cast(pl.String).str.strip_chars(),
    )
    for name in ("store", "sku"):
        blank = frame.filter(pl.col(name).is_null() | (pl.col(name) == ""))
        if blank.height:
            raise ForecastInputError(f"{blank.height:,} row(s) have an empty {name}")
    frame = frame.with_columns(
        _parse_date(frame["date"]), *(_parse_number(frame, name) for name in ("qty", "price"))
    )
    for name in ("on_promo", "sold_out"):
        if name in frame.columns:
            frame = frame.with_columns(_parse_flag(frame[name]))
    duplicated = frame.filter(pl.struct("date", "store", "sku").is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise ForecastInputError(
            f"{duplicated.height:,} rows share a (date, store, sku), e.g. "
            f"{first['date']}, {first['store']!r}, {first['sku']!r}"
        )
    return frame


def _parse_date(values: pl.Series) -> pl.Series:
    if values.dtype == pl.Date:
        parsed = values
    elif values.dtype == pl.Datetime:
        parsed = values.dt.date()
    else:
        text = values.cast(pl.String).str.strip_chars()
        parsed = text.str.to_date("%Y-%m-%d", strict=False)
        for fmt in ("%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
            if parsed.null_count() == 0:
                break
            other = text.str.to_datetime(fmt, strict=False).dt.date()
            parsed = parsed.fill_null(other)
    bad = parsed.is_null()
    if bad.any():
        index = int(bad.arg_true()[0])
        raise ForecastInputError(
            f"{int(bad.sum()):,} unparseable date(s), first {values[index]!r} on data row "
            f"{index + 1}; use YYYY-MM-DD"
        )
    return parsed.alias("date")


def _parse_number(frame: pl.DataFrame, name: str) -> pl.Series:
    if name not in frame.columns:
        return pl.Series(name, [None] * frame.height, dtype=pl.Float64)
    values = frame[name]
    parsed = values.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    bad = parsed.is_null() | parsed.is_nan() | parsed.is_infinite()
    if name == "price":
        bad = bad & values.is_not_null() & (values.cast(pl.String).str.strip_chars() != "")
    if bad.any():
        index = int(bad.arg_true()[0])
        raise ForecastInputError(
            f"{int(bad.sum()):,} row(s) with a {name} that is not a number, first "
            f"{values[index]!r} on data row {index + 1}"
        )
    return parsed.alias(name)


def _parse_flag(values: pl.Series) -> pl.Series:
    if values.dtype == pl.Boolean:
        return values.fill_null(False)
    text = values.cast(pl.String).fill_null("").str.strip_chars().str.to_lowercase()
    bad = ~text.is_in(list(_TRUE | _FALSE))
    if bad.any():
        index = int(bad.arg_true()[0])
        raise ForecastInputError(
            f"{values.name}: {values[index]!r} on data row {index + 1} is not a yes/no flag"
        )
    return text.is_in(list(_TRUE)).alias(values.name)


# -- preparation ----------------------------------------------------------------------
def _complete_grid(history: pl.DataFrame, summary: ForecastSummary) -> pl.DataFrame:
    """One row per series and day from the series' first day to the file's last day."""
    last = history["date"].max()
    bounds = history.group_by("unique_id").agg(pl.col("date").min().alias("first"))
    grid = bounds.select(
        "unique_id", pl.date_ranges("first", pl.lit(last), interval="1d").alias("date")
    ).explode("date")
    full = grid.join(history, on=["unique_id", "date"], how="left")
    summary.gap_days_filled = int(full["qty"].null_count())
    has_price = history["price"].null_count() < history.height
    full = full.sort("unique_id", "date").with_columns(
        pl.col("qty").fill_null(0.0),
        pl.col("on_promo").fill_null(False),
        pl.col("sold_out").fill_null(False),
        (
            pl.col("price").forward_fill().backward_fill().over("unique_id")
            if has_price
            else pl.col("price")
        ),
    )
    return full


def impute_censored(frame: pl.DataFrame, window_weeks: int = 4, iterations: int = 3) -> pl.Series:
    """Expected demand on sold-out days: E[D | D >= sales], D ~ Normal(mu, sigma).

    `frame` has `unique_id`, `date`, `qty`, `sold_out` on a complete daily grid. mu is the
    mean of the same weekday within `window_weeks` either side. The uncensored days alone
    are a biased sample (high-demand days are the ones that sell out), so this is an EM
    iteration for a censored normal: start from the uncensored days, then recompute mu
    with the censored days at their imputed demand, `iterations` times. sigma keeps the
    coefficient of variation of the uncensored days and is at least sqrt(mu) (Poisson).
    Days without uncensored neighbours keep their sales. Returns the adjusted quantity
    (Float64), equal to `qty` on other days.
    """
    from scipy.stats import norm

    window = 2 * window_weeks + 1
    ordered = (
        frame.select("unique_id", "date", "qty", "sold_out")
        .with_row_index("_row")
        .with_columns(pl.col("date").dt.weekday().alias("_weekday"))
        .sort("unique_id", "_weekday", "date")
    )

    def rolling(values: np.ndarray, statistic: str) -> np.ndarray:
        column = pl.Series("_value", values, nan_to_null=True)
        method = getattr(pl.col("_value"), f"rolling_{statistic}")
        return (
            ordered.with_columns(column)
            .select(method(window, center=True, min_samples=2).over("unique_id", "_weekday"))
            .to_series()
            .fill_null(np.nan)
            .to_numpy()
        )

    qty = ordered["qty"].to_numpy()
    sold_out = ordered["sold_out"].to_numpy()
    observed = np.where(sold_out, np.nan, qty)
    mu_first = rolling(observed, "mean")
    with np.errstate(invalid="ignore", divide="ignore"):
        variation = np.nan_to_num(rolling(observed, "std") / mu_first, nan=0.0, posinf=0.0)
    censored = sold_out & np.isfinite(mu_first)
    adjusted = qty.copy()
    mu = mu_first
    for _ in range(max(iterations, 1)):
        if not censored.any():
            break
        sd = np.fmax(variation * mu, np.sqrt(np.fmax(mu, 1.0)))
        a = (qty[censored] - mu[censored]) / sd[censored]
        mills = np.exp(norm.logpdf(a) - norm.logsf(a))  # inverse Mills ratio, tail-stable
        adjusted[censored] = np.fmax(qty[censored], mu[censored] + sd[censored] * mills)
        mu = np.where(np.isfinite(mu_first), rolling(adjusted, "mean"), np.nan)
    order = ordered["_row"].to_numpy()
    restored = np.empty_like(adjusted)
    restored[order] = adjusted
    return pl.Series("qty", restored)


def _exogenous(dates: pl.DataFrame) -> pl.DataFrame:
    """Calendar and yearly-shape features for the days in `dates` (column `date`)."""
    from ml.calendar import calendar_features

    start, end = dates["date"].min(), dates["date"].max()
    calendar = calendar_features(start, end).drop("holiday_source", "day_of_year")
    calendar = calendar.with_columns(
        pl.col(name).cast(pl.Float32)
        for name in ("is_public_holiday", "is_makeup_workday", "is_day_off")
    )
    day_of_year = pl.col("date").dt.ordinal_day().cast(pl.Float64)
    fourier = []
    for k in range(1, _FOURIER_HARMONICS + 1):
        angle = 2 * math.pi * k * day_of_year / 365.25
        fourier += [angle.sin().alias(f"year_sin{k}"), angle.cos().alias(f"year_cos{k}")]
    return calendar.with_columns(fourier)


# -- forecasting ----------------------------------------------------------------------
def _lags(horizon: int, longest: int) -> tuple[int, list[int]]:
    first = 7 * math.ceil(horizon / 7)
    lags = [first, first + 7, first + 14, first + 21]
    if longest >= 364 + 28 and first < 364:
        lags.append(364)
    return first, lags


def _baseline(frame: pl.DataFrame, future: pl.DataFrame) -> pl.DataFrame:
    """Seasonal baseline: mean of the same weekday over the last 4 weeks, Poisson spread."""
    from scipy.stats import poisson

    last = frame["date"].max()
    recent = frame.filter(pl.col("date") > last - timedelta(days=28))
    weekday = recent.group_by("unique_id", pl.col("date").dt.weekday().alias("weekday")).agg(
        pl.col("qty").mean().alias("weekday_mean")
    )
    overall = frame.group_by("unique_id").agg(pl.col("qty").mean().alias("overall_mean"))
    joined = (
        future.with_columns(pl.col("date").dt.weekday().alias("weekday"))
        .join(weekday, on=["unique_id", "weekday"], how="left")
        .join(overall, on="unique_id", how="left")
        .with_columns(pl.coalesce("weekday_mean", "overall_mean").fill_null(0.0).alias("p50"))
    )
    mean = joined["p50"].to_numpy()
    return joined.select("unique_id", "date", "p50").with_columns(
        pl.Series("p10", poisson.ppf(0.1, mean).astype(float)),
        pl.Series("p90", np.fmax(poisson.ppf(0.9, mean), mean).astype(float)),
    )


def forecast(
    history: pl.DataFrame,
    horizon: int,
    *,
    censoring: str = "impute",
    n_estimators: int = 300,
    max_train_rows: int = 4_000_000,
    seed: int = 0,
) -> tuple[pl.DataFrame, ForecastSummary]:
    """Forecast `horizon` days after the history's last date for every (store, sku).

    `history` is a frame accepted by `validate_history` (it is validated again). Returns
    (`date, store, sku, p10, p50, p90`, one row per series and future day, quantities in
    the history's unit, p10 <= p50 <= p90, all >= 0) and a `ForecastSummary`. Training
    keeps the most recent `max_train_rows` feature rows. Raises ForecastInputError for bad
    input or a horizon below 1.
    """
    if horizon < 1:
        raise ForecastInputError(f"--horizon must be at least 1, got {horizon}")
    if censoring not in CENSORING_METHODS:
        raise ForecastInputError(f"censoring must be one of {CENSORING_METHODS}")
    history = validate_history(history)
    summary = ForecastSummary(horizon=horizon, censoring=censoring, rows=history.height)
    for name in OPTIONAL_COLUMNS:
        if name not in history.columns:
            history = history.with_columns(
                pl.lit(None, pl.Float64 if name == "price" else pl.Boolean).alias(name)
            )
    history = history.with_columns(
        pl.col("on_promo").fill_null(False), pl.col("sold_out").fill_null(False)
    )
    summary.negative_qty_clipped = int((history["qty"] < 0).sum())
    summary.sold_out_days = int(history["sold_out"].sum())
    summary.first_date, summary.last_date = history["date"].min(), history["date"].max()
    history = history.with_columns(pl.col("qty").clip(lower_bound=0.0))

    keys = history.select("store", "sku").unique().sort("store", "sku")
    keys = keys.with_row_index("unique_id").with_columns(pl.col("unique_id").cast(pl.Int64))
    summary.series = keys.height
    history = history.join(keys, on=["store", "sku"]).drop("store", "sku")
    frame = _complete_grid(history, summary)
    if censoring == "impute" and summary.sold_out_days:
        frame = frame.with_columns(impute_censored(frame))

    last = summary.last_date
    future_dates = pl.DataFrame(
        {
            "date": pl.date_range(
                last + timedelta(days=1), last + timedelta(days=horizon), eager=True
            )
        }
    )
    lengths = frame.group_by("unique_id").agg(pl.len().alias("days"))
    first_lag, lags = _lags(horizon, int(lengths["days"].max()))
    long_ids = lengths.filter(pl.col("days") >= first_lag + 28)["unique_id"]
    modelled = frame.filter(pl.col("unique_id").is_in(long_ids.implode()))
    short = frame.filter(~pl.col("unique_id").is_in(long_ids.implode()))

    parts = []
    if modelled.height:
        parts.append(
            _model_forecast(
                modelled,
                future_dates,
                horizon,
                first_lag,
                lags,
                censoring,
                n_estimators,
                max_train_rows,
                seed,
            )
        )
    if short.height:
        short_future = short.select("unique_id").unique().join(future_dates, how="cross")
        parts.append(
            _baseline(short, short_future).select("unique_id", "date", "p10", "p50", "p90")
        )
    summary.model_series = int(long_ids.len())
    summary.baseline_series = summary.series - summary.model_series

    result = pl.concat(parts).with_columns(
        pl.col(name).cast(pl.Float64).clip(lower_bound=0.0) for name in ("p10", "p50", "p90")
    )
    result = result.with_columns(
        pl.min_horizontal("p10", "p50").alias("p10"),
        pl.max_horizontal("p90", "p50").alias("p90"),
    ).with_columns(pl.col(name).round(3) for name in ("p10", "p50", "p90"))
    output = (
        result.join(keys, on="unique_id")
        .select("date", "store", "sku", "p10", "p50", "p90")
        .sort("store", "sku", "date")
    )
    return output, summary


def _model_forecast(
    frame: pl.DataFrame,
    future_dates: pl.DataFrame,
    horizon: int,
    first_lag: int,
    lags: list[int],
    censoring: str,
    n_estimators: int,
    max_train_rows: int,
    seed: int,
) -> pl.DataFrame:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean, RollingStd, SeasonalRollingMean

    last = frame["date"].max()
    # level: mean of the last 8 weeks (all the history if shorter); 1 for all-zero series
    scale = (
        frame.filter(pl.col("date") > last - timedelta(days=56))
        .group_by("unique_id")
        .agg(pl.col("qty").mean().alias("scale"))
        .with_columns(
            pl.when(pl.col("scale") > 0).then(pl.col("scale")).otherwise(1.0).alias("scale")
        )
    )
    has_price = frame["price"].null_count() < frame.height
    has_promo = bool(frame["on_promo"].any())
    median_price = frame.group_by("unique_id").agg(pl.col("price").median().alias("median_price"))
    frame = frame.join(scale, on="unique_id").join(median_price, on="unique_id")
    exogenous = _exogenous(pl.concat([frame.select("date"), future_dates]))
    dynamic = [name for name in exogenous.columns if name != "date"]

    def features(rows: pl.DataFrame) -> pl.DataFrame:
        extra = []
        if has_price:
            extra.append((pl.col("price") / pl.col("median_price")).alias("relative_price"))
        if has_promo:
            extra.append(pl.col("on_promo").cast(pl.Float32).alias("promo"))
        return (
            rows.join(exogenous, on="date", how="left")
            .with_columns(*extra, pl.col("scale").log1p().alias("log_scale"))
            .select(
                "unique_id",
                pl.col("date").cast(pl.Datetime("us")).alias("ds"),
                *(["y"] if "y" in rows.columns else []),
                "log_scale",
                *dynamic,
                *(e.meta.output_name() for e in extra),
            )
        )

    train = features(frame.with_columns((pl.col("qty") / pl.col("scale")).alias("y")))
    last_price = (
        frame.sort("date")
        .group_by("unique_id")
        .agg(pl.col("price").last(), pl.col("median_price").first(), pl.col("scale").first())
    )
    future = features(
        last_price.join(future_dates, how="cross").with_columns(pl.lit(False).alias("on_promo"))
    ).drop("log_scale")

    lag_transforms = {
        first_lag: [
            RollingMean(window_size=7),
            RollingMean(window_size=28),
            RollingStd(window_size=28),
            SeasonalRollingMean(season_length=7, window_size=4),
        ],
    }
    if 364 in lags:
        lag_transforms[364] = [RollingMean(window_size=7)]
    threads = _threads()
    models = {
        f"q{int(q * 100)}": lgb.LGBMRegressor(
            objective="quantile",
            alpha=q,
            n_estimators=n_estimators,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=50,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=seed,
            n_jobs=threads,
            verbose=-1,
        )
        for q in QUANTILES
    }
    forecaster = MLForecast(
        models=models, freq="1d", lags=lags, lag_transforms=lag_transforms, num_threads=1
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
        prepared = forecaster.preprocess(train, static_features=["log_scale"], dropna=False)
    prepared = prepared.filter(pl.col(f"lag{first_lag}").is_not_null())
    if censoring == "exclude":
        sold_out = frame.select(
            "unique_id", pl.col("date").cast(pl.Datetime("us")).alias("ds"), "sold_out"
        )
        prepared = (
            prepared.join(sold_out, on=["unique_id", "ds"], how="left")
            .filter(~pl.col("sold_out").fill_null(False))
            .drop("sold_out")
        )
    if prepared.height > max_train_rows:
        cutoff = prepared["ds"].sort(descending=True)[max_train_rows - 1]
        prepared = prepared.filter(pl.col("ds") >= cutoff)
    widen_low, widen_high = _calibrate(prepared, models, horizon)
    target = prepared["y"].to_numpy()
    features_only = prepared.drop("unique_id", "ds", "y")
    forecaster.fit_models(features_only, target)
    with warnings.catch_warnings():
        # null festival distances mean "outside the window"; LightGBM takes them as missing
        warnings.filterwarnings("ignore", message="Found null values", category=UserWarning)
        predicted = forecaster.predict(horizon, X_df=future)
    predicted = predicted.with_columns(pl.col("ds").cast(pl.Date).alias("date")).join(
        scale, on="unique_id"
    )
    median = pl.col("q50")
    return predicted.select(
        "unique_id",
        "date",
        (
            (median - widen_low * (median - pl.col("q10")).clip(lower_bound=0)) * pl.col("scale")
        ).alias("p10"),
        (median * pl.col("scale")).alias("p50"),
        (
            (median + widen_high * (pl.col("q90") - median).clip(lower_bound=0)) * pl.col("scale")
        ).alias("p90"),
    )


def _calibrate(prepared: pl.DataFrame, models: dict, horizon: int) -> tuple[float, float]:
    """Split-conformal widening of the P10 and P90 distances from P50 (CQR, Romano 2019).

    Quantile models fit their own training days too well, so their P10-P90 band is too
    narrow on new days. Every lag is at least the horizon, so the features of the last
    `horizon` days are exactly what a forecast made `horizon` days ago saw: fit on the
    days before, predict those, and find the factors that put 10% of the actuals below
    P10 and 10% above P90. Factors are clipped to [0.5, 3]; (1, 1) when there are fewer
    than 200 calibration rows.
    """
    from sklearn.base import clone

    cutoff = prepared["ds"].max() - timedelta(days=horizon)
    fit_rows = prepared.filter(pl.col("ds") <= cutoff)
    check_rows = prepared.filter(pl.col("ds") > cutoff)
    if check_rows.height < 200 or fit_rows.height < 5 * check_rows.height:
        return 1.0, 1.0
    fit_x = fit_rows.drop("unique_id", "ds", "y")
    check_x = check_rows.drop("unique_id", "ds", "y")
    predictions = {
        name: clone(model).fit(fit_x, fit_rows["y"].to_numpy()).predict(check_x)
        for name, model in models.items()
    }
    actual = check_rows["y"].to_numpy()
    median = predictions["q50"]
    low_width = np.fmax(median - predictions["q10"], 0.05)
    high_width = np.fmax(predictions["q90"] - median, 0.05)
    widen_low = float(np.quantile((median - actual) / low_width, 0.9))
    widen_high = float(np.quantile((actual - median) / high_width, 0.9))
    return float(np.clip(widen_low, 0.5, 3.0)), float(np.clip(widen_high, 0.5, 3.0))


def _threads() -> int:
    """LightGBM threads: `BAKEHOUSE_ML_THREADS` if set, else 1.

    OpenMP threads spin while they wait: on a shared machine two threads on a busy second
    core made training 6.7 times slower than one thread (docs/ML.md), so more threads are
    opt-in.
    """
    import os

    configured = os.environ.get("BAKEHOUSE_ML_THREADS")
    return max(1, int(configured)) if configured else 1


def forecast_file(
    history_path: Path | str, output_path: Path | str, horizon: int, **options
) -> ForecastSummary:
    """Read a history CSV, forecast, write `date, store, sku, p10, p50, p90` as CSV."""
    history = read_history(history_path)
    output, summary = forecast(history, horizon, **options)
    output.write_csv(output_path)
    return summary
