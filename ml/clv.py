"""Customer lifetime value: expected purchases and spend over the next N days.

Methods:
    * **BG/NBD** (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way: An
      Alternative to the Pareto/NBD Model", Marketing Science 24(2)) for the number of
      repeat purchases, and the **Gamma-Gamma** spend model (Fader, Hardie & Lee 2005,
      "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4)) for
      the value per purchase; both fitted by maximum likelihood with `lifetimes` 0.11.3.
    * A **gradient-boosted** alternative (scikit-learn's HistGradientBoostingRegressor,
      Poisson loss) trained on the same file: features at an earlier cutoff, target
      the following horizon. It is used only if it beats BG/NBD on the time split.
    * The **baseline**: the customer's calibration-period spend rate (net spend divided
      by the calibration window's length in days) scaled to the horizon.

Input is a frame with ``customer_id`` (str), ``ts`` (datetime) and ``amount`` (yuan).
A *purchase* is a customer-day with a positive net amount (lines of the same day are
one visit, the unit BG/NBD counts). **Returns** (negative amounts) are netted against
the customer's purchases: each customer's positive visit amounts are scaled by
``net spend / gross spend`` (0 when returns exceed purchases), so returned value never
counts as spend while the visit itself still counts as a purchase; a day that is only
returns is not a visit, and a customer whose returns cancel all their spend is predicted
a value of 0 (their visits still count towards ``predicted_purchases``).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ml.metrics import mean_absolute_error, total_ratio
from ml.splits import TimeSplit, file_window

COLUMNS = ("customer_id", "ts", "amount")
OUTPUT_COLUMNS = ("customer_id", "predicted_purchases", "predicted_value")
_PENALIZERS = (0.0, 0.001, 0.01, 0.1, 1.0)
_FEATURES = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "net_spend",
    "visits_last_30",
    "visits_last_90",
    "spend_last_90",
    "days_since_last",
    "bgnbd_purchases",
    "bgnbd_value",
)


def visits(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per customer-day visit with its net amount, returns netted per customer.

    Returns:
        Columns ``customer_id``, ``day`` (datetime64, midnight) and ``amount`` (yuan,
        >= 0); only days with a positive amount.
    """
    daily = (
        transactions.assign(day=transactions["ts"].dt.normalize())
        .groupby(["customer_id", "day"], as_index=False, sort=False)["amount"]
        .sum()
    )
    gross = daily["amount"].clip(lower=0).groupby(daily["customer_id"]).transform("sum")
    net = daily.groupby("customer_id")["amount"].transform("sum").clip(lower=0)
    purchases = daily[daily["amount"] > 0].copy()
    factor = (net / gross.where(gross > 0)).loc[purchases.index].fillna(0.0)
    purchases["amount"] = purchases["amount"] * factor
    return purchases.reset_index(drop=True)


def summarize(visit_frame: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """RFM summary at ``cutoff`` from visits strictly before it, in days.

    Returns:
        Indexed by customer_id: ``frequency`` (repeat visits), ``recency`` (days from
        first to last visit), ``T`` (days from first visit to cutoff), ``monetary_value``
        (mean amount of the repeat visits, 0 without repeats, as `lifetimes` expects),
        and the extra features ``net_spend``, ``visits_last_30``, ``visits_last_90``,
        ``spend_last_90`` and ``days_since_last``.
    """
    before = visit_frame[visit_frame["day"] < cutoff].sort_values(["customer_id", "day"])
    if before.empty:
        raise ValueError("no purchases before the cutoff")
    day_number = (before["day"] - cutoff) / pd.Timedelta(days=1)  # <= -1
    before = before.assign(
        d=day_number,
        last_30=(day_number >= -30).astype(float),
        last_90=(day_number >= -90).astype(float),
    )
    before["spend_90"] = before["amount"] * before["last_90"]
    grouped = before.groupby("customer_id", sort=True)
    first = grouped["d"].min()
    last = grouped["d"].max()
    count = grouped.size()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()
    summary = pd.DataFrame(
        {
            "frequency": (count - 1).astype(float),
            "recency": last - first,
            "T": -first,
            "monetary_value": ((total - first_amount) / (count - 1).where(count > 1)).fillna(0.0),
            "net_spend": total,
            "visits_last_30": grouped["last_30"].sum(),
            "visits_last_90": grouped["last_90"].sum(),
            "spend_last_90": grouped["spend_90"].sum(),
            "days_since_last": -last,
        }
    )
    return summary


@contextlib.contextmanager
def _quiet():
    """Silence `lifetimes`' warnings and the optimizer report it prints on failure."""
    with (
        warnings.catch_warnings(),
        np.errstate(all="ignore"),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        warnings.simplefilter("ignore")
        yield


@dataclass
class ProbabilisticModel:
    """A fitted BG/NBD + Gamma-Gamma pair (``lifetimes`` fitters)."""

    bgf: object
    ggf: object | None
    mean_value: float
    penalizer: float = 0.0

    def predict(self, summary: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
        """Expected purchases and value in the next ``horizon_days`` for each row."""
        purchases = self.bgf.conditional_expected_number_of_purchases_up_to_time(
            horizon_days, summary["frequency"], summary["recency"], summary["T"]
        )
        purchases = np.clip(np.nan_to_num(np.asarray(purchases, dtype=float)), 0, None)
        if self.ggf is None:
            value_per_purchase = np.full(len(summary), self.mean_value)
        else:
            value_per_purchase = np.asarray(
                self.ggf.conditional_expected_average_profit(
                    summary["frequency"], summary["monetary_value"].clip(lower=0)
                ),
                dtype=float,
            )
            # A customer with no repeat visit gets the population mean from Gamma-Gamma.
            value_per_purchase = np.where(
                np.isfinite(value_per_purchase) & (value_per_purchase >= 0),
                value_per_purchase,
                self.mean_value,
            )
        # Netting: a customer whose returns cancelled all their spend is worth 0 per visit.
        value_per_purchase = np.where(summary["net_spend"] > 0, value_per_purchase, 0.0)
        return pd.DataFrame(
            {"predicted_purchases": purchases, "predicted_value": purchases * value_per_purchase},
            index=summary.index,
        )


def fit_probabilistic(summary: pd.DataFrame) -> ProbabilisticModel:
    """Fit BG/NBD and Gamma-Gamma, raising the L2 penalizer until each converges.

    Raises:
        ValueError: BG/NBD did not converge with any penalizer up to 1.0.
    """
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgf, used = None, None
    for penalizer in _PENALIZERS:
        try:
            with _quiet():
                candidate = BetaGeoFitter(penalizer_coef=penalizer).fit(
                    summary["frequency"], summary["recency"], summary["T"]
                )
        except Exception:  # lifetimes raises ConvergenceError or numpy errors
            continue
        if np.all(np.isfinite(list(candidate.params_.values))):
            bgf, used = candidate, penalizer
            break
    if bgf is None:
        raise ValueError("BG/NBD did not converge on this data")
    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    mean_value = float(repeaters["monetary_value"].mean()) if len(repeaters) else 0.0
    if not len(repeaters):
        first_visit_value = summary["net_spend"] / (summary["frequency"] + 1)
        mean_value = float(first_visit_value.mean())
    ggf = None
    if len(repeaters) >= 20:
        for penalizer in _PENALIZERS:
            try:
                with _quiet():
                    candidate = GammaGammaFitter(penalizer_coef=penalizer).fit(
                        repeaters["frequency"], repeaters["monetary_value"]
                    )
            except Exception:
                continue
            if np.all(np.isfinite(list(candidate.params_.values))):
                ggf = candidate
                break
    return ProbabilisticModel(bgf=bgf, ggf=ggf, mean_value=mean_value, penalizer=used)


def baseline_predict(
    summary: pd.DataFrame, calibration_days: float, horizon_days: float
) -> pd.DataFrame:
    """Calibration spend rate scaled to the horizon (and the visit rate, likewise)."""
    scale = horizon_days / calibration_days
    return pd.DataFrame(
        {
            "predicted_purchases": (summary["frequency"] + 1) * scale,
            "predicted_value": summary["net_spend"] * scale,
        },
        index=summary.index,
    )


@dataclass
class BoostedModel:
    """Two gradient-boosted regressors (purchases, value) on the RFM summary features."""

    purchases: object
    value: object
    probabilistic: ProbabilisticModel
    trained_horizon: float

    def predict(self, summary: pd.DataFrame, horizon_days: float) -> pd.DataFrame:
        features = _features(summary, self.probabilistic, self.trained_horizon)
        scale = horizon_days / self.trained_horizon
        with threadpool_limits(1):
            purchases = self.purchases.predict(features)
            value = self.value.predict(features)
        return pd.DataFrame(
            {
                "predicted_purchases": np.clip(purchases, 0, None) * scale,
                "predicted_value": np.clip(value, 0, None) * scale,
            },
            index=summary.index,
        )


def _features(summary: pd.DataFrame, model: ProbabilisticModel, horizon: float) -> np.ndarray:
    probabilistic = model.predict(summary, horizon)
    full = summary.assign(
        bgnbd_purchases=probabilistic["predicted_purchases"],
        bgnbd_value=probabilistic["predicted_value"],
    )
    return full[list(_FEATURES)].to_numpy(dtype=float)


def fit_boosted(
    visit_frame: pd.DataFrame,
    start: pd.Timestamp,
    cutoff: pd.Timestamp,
    horizon_days: int,
    seed: int = 0,
) -> BoostedModel:
    """Train on features at earlier cutoffs with the following horizon as target.

    Training rows come from up to three feature cutoffs ``cutoff - horizon``,
    ``cutoff - 1.5 horizon``, ``cutoff - 2 horizon`` (each needing a horizon of history
    before it), so the model sees several snapshots of the customer base, not one.

    Raises:
        ValueError: the window before ``cutoff`` is shorter than two horizons.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    feature_blocks, target_blocks = [], []
    for shift in (1.0, 1.5, 2.0):
        feature_cutoff = cutoff - pd.Timedelta(days=round(shift * horizon_days))
        if feature_cutoff - start < pd.Timedelta(days=horizon_days):
            break
        summary = summarize(visit_frame, feature_cutoff)
        snapshot_model = fit_probabilistic(summary)
        target_end = feature_cutoff + pd.Timedelta(days=horizon_days)
        target_visits = visit_frame[
            (visit_frame["day"] >= feature_cutoff) & (visit_frame["day"] < target_end)
        ]
        target = (
            target_visits.groupby("customer_id")["amount"]
            .agg(["size", "sum"])
            .reindex(summary.index)
            .fillna(0.0)
        )
        feature_blocks.append(_features(summary, snapshot_model, horizon_days))
        target_blocks.append(target)
        if shift == 1.0:
            probabilistic = snapshot_model
    if not feature_blocks:
        raise ValueError("not enough history to train the boosted model")
    features = np.vstack(feature_blocks)
    target = pd.concat(target_blocks)
    models = []
    for column in ("size", "sum"):
        regressor = HistGradientBoostingRegressor(
            loss="poisson",
            max_iter=120,
            learning_rate=0.08,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            l2_regularization=1.0,
            random_state=seed,
        )
        # One thread: OpenMP spin-waits make HistGradientBoosting crawl on a busy machine.
        with threadpool_limits(1):
            regressor.fit(features, target[column].to_numpy(dtype=float))
        models.append(regressor)
    # Scoring replaces `probabilistic` with a BG/NBD fitted up to the scoring cutoff.
    return BoostedModel(
        purchases=models[0],
        value=models[1],
        probabilistic=probabilistic,
        trained_horizon=float(horizon_days),
    )


@dataclass
class Evaluation:
    """The time-split comparison of the CLV models (MAE in yuan per customer)."""

    split: TimeSplit
    customers: int
    actual_total: float
    mae: dict[str, float] = field(default_factory=dict)
    total_ratio: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The model used: ``gbm`` only if it beats ``bgnbd`` on MAE without missing the
        total by more than 15% (or by more than BG/NBD does)."""
        if "gbm" not in self.mae or self.mae["gbm"] >= self.mae["bgnbd"]:
            return "bgnbd"
        tolerance = max(0.15, abs(self.total_ratio["bgnbd"] - 1))
        return "gbm" if abs(self.total_ratio["gbm"] - 1) <= tolerance else "bgnbd"

    def improvement(self, model: str) -> float:
        """``1 - MAE(model) / MAE(baseline)``: 0.3 means 30% lower than the baseline."""
        return 1.0 - self.mae[model] / self.mae["baseline"]


def _predict_with(
    name: str,
    visit_frame: pd.DataFrame,
    start: pd.Timestamp,
    cutoff: pd.Timestamp,
    horizon_days: int,
) -> pd.DataFrame:
    summary = summarize(visit_frame, cutoff)
    calibration_days = (cutoff - start) / pd.Timedelta(days=1)
    if name == "baseline":
        return baseline_predict(summary, calibration_days, horizon_days)
    probabilistic = fit_probabilistic(summary)
    if name == "bgnbd":
        return probabilistic.predict(summary, horizon_days)
    training_horizon = min(horizon_days, int(calibration_days // 2))
    boosted = fit_boosted(visit_frame, start, cutoff, training_horizon)
    boosted.probabilistic = probabilistic  # features at the scoring cutoff use its own fit
    return boosted.predict(summary, horizon_days)


def predict_at(
    transactions: pd.DataFrame, cutoff: pd.Timestamp, horizon_days: int, model: str
) -> pd.DataFrame:
    """Point-in-time predictions: ``model`` fitted on transactions before ``cutoff`` only.

    Returns netting, too, sees only those transactions, so a return after the cutoff
    cannot leak into the features.

    Returns:
        Indexed by customer_id (customers with a visit before the cutoff):
        ``predicted_purchases`` and ``predicted_value`` for ``[cutoff, cutoff + horizon)``.

    Raises:
        ValueError: the model cannot be fitted (see `fit_probabilistic`, `fit_boosted`).
    """
    before = transactions[transactions["ts"] < cutoff]
    start, _ = file_window(before)
    return _predict_with(model, visits(before), start, cutoff, horizon_days)


def evaluate(transactions: pd.DataFrame, horizon_days: int) -> Evaluation:
    """Compare baseline, BG/NBD+Gamma-Gamma and the boosted model on a time split.

    The holdout is the file's last ``min(horizon_days, span / 3)`` days; models see
    only the calibration window before it (`predict_at`). Customers are those with a
    visit in the calibration window; their actual value is their net holdout spend
    (holdout purchases minus holdout returns, floored at 0).

    Raises:
        ValueError: the file spans fewer than 6 days, too short for any split.
    """
    start, end = file_window(transactions)
    span = (end - start).days
    holdout_days = int(min(horizon_days, span // 3))
    if holdout_days < 2:
        raise ValueError(f"the data spans {span} days; a time split needs at least 6")
    cutoff = end - pd.Timedelta(days=holdout_days)
    split = TimeSplit(start=start, cutoff=cutoff, end=end)
    summary = summarize(visits(transactions[transactions["ts"] < cutoff]), cutoff)
    holdout = split.holdout(transactions)
    actual = (
        holdout.groupby("customer_id")["amount"]
        .sum()
        .clip(lower=0)
        .reindex(summary.index)
        .fillna(0.0)
        .to_numpy()
    )
    evaluation = Evaluation(split=split, customers=len(summary), actual_total=float(actual.sum()))
    for name in ("baseline", "bgnbd", "gbm"):
        try:
            predicted = predict_at(transactions, cutoff, holdout_days, name)
        except ValueError:
            if name != "gbm":
                raise
            continue  # too little history for the boosted model: it is simply not a candidate
        values = predicted["predicted_value"].reindex(summary.index).to_numpy()
        evaluation.mae[name] = mean_absolute_error(actual, values)
        evaluation.total_ratio[name] = total_ratio(actual, values)
    return evaluation


def predict(
    transactions: pd.DataFrame, horizon_days: int, *, model: str | None = None
) -> tuple[pd.DataFrame, Evaluation | None, str]:
    """Train on the whole file and predict every customer's next ``horizon_days``.

    Args:
        transactions: ``customer_id, ts, amount`` as read by `ml.transactions`.
        horizon_days: prediction horizon in days (> 0).
        model: ``"bgnbd"``, ``"gbm"`` or ``"baseline"`` to skip the time-split choice;
            ``None`` evaluates and picks the better of BG/NBD and the boosted model.

    Returns:
        ``(predictions, evaluation, model_used)``: one row per customer in the file,
        columns ``customer_id, predicted_purchases, predicted_value`` sorted by
        customer_id; the evaluation used for the choice (``None`` when ``model`` was given
        or the file is too short to split, in which case BG/NBD is used); and the model
        that made the predictions. A model that cannot be fitted on the file (BG/NBD not
        converging on a handful of customers, too little history for the boosted model)
        falls back to the next simpler one: gbm, then bgnbd, then the baseline.

    Raises:
        ValueError: ``horizon_days`` is not positive or no customer has a purchase.
    """
    if horizon_days <= 0:
        raise ValueError(f"the horizon must be a positive number of days, got {horizon_days}")
    evaluation = None
    if model is None:
        try:
            evaluation = evaluate(transactions, horizon_days)
            model = evaluation.best
        except ValueError:
            model = "bgnbd"
    visit_frame = visits(transactions)
    start, end = file_window(transactions)
    customers = pd.Index(sorted(transactions["customer_id"].unique()), name="customer_id")
    if visit_frame.empty:
        raise ValueError("no customer has a purchase (every amount is zero or a return)")
    # Too little data for a model (no convergence, too short for the boosted model's
    # snapshots): fall back one step, gbm -> bgnbd -> baseline, and report what was used.
    fallbacks = {"gbm": "bgnbd", "bgnbd": "baseline"}
    while True:
        try:
            predicted = _predict_with(model, visit_frame, start, end, horizon_days)
            break
        except ValueError:
            if model not in fallbacks:
                raise
            model = fallbacks[model]
    # Customers whose returns cancel all purchases have no visit: they are predicted 0.
    predicted = predicted.reindex(customers).fillna(0.0)
    result = predicted.reset_index()[list(OUTPUT_COLUMNS)]
    return result, evaluation, model
