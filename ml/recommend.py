"""Hybrid top-k product recommendations from a customer's purchase history.

Score of item *i* for customer *u* (each part scaled to [0, 1])::

    score = w_repeat * repeat(u, i) + w_cf * cf(u, i) + w_pop * popularity(i)

* ``repeat``: the customer's own recency-weighted purchase occasions of the item
  (exponential decay with half-life ``h`` days), divided by the customer's maximum.
  In bakeries "what they bought before" is the strongest single signal.
* ``cf``: implicit-feedback matrix factorisation, **ALS** of Hu, Koren & Volinsky 2008
  ("Collaborative Filtering for Implicit Feedback Datasets", ICDM), with confidence
  ``1 + alpha * log1p(occasions)``, via the `implicit` library (0.7.3); the customer's
  row of ``U @ V.T`` is min-max scaled to [0, 1].
* ``popularity``: recency-weighted number of distinct buyers of the item, over the max.

The weights ``(w_repeat, w_cf, w_pop)`` and the half-life are tuned on a *validation*
split carved from the end of the training period (never on the test period), by recall@k.

Input: ``customer_id`` (str), ``sku`` (str), ``ts`` (datetime), ``qty`` (float).
**Returns** (negative qty) are netted per customer and item: a pair whose net quantity
is <= 0 (everything bought was returned) is removed from that customer's history; other
pairs keep their purchase occasions (days with a positive net quantity). Customers with
no remaining history, and items bought once by a single customer, still get a full top k:
popularity fills every list (cold start).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from ml.metrics import ranking_metrics
from ml.splits import file_window

COLUMNS = ("customer_id", "sku", "ts", "qty")
OUTPUT_COLUMNS = ("customer_id", "rank", "sku", "score")
_WEIGHT_GRID = tuple(
    (r / 10, c / 10, round(1 - r / 10 - c / 10, 1))
    for r, c in itertools.product(range(11), range(11))
    if r + c <= 10
)
_DEFAULT = {"weights": (0.6, 0.3, 0.1), "half_life": float("inf"), "factors": 32}
_FACTOR_GRID = (4, 8, 16, 32, 64)  # ALS ranks tried; sparse histories favour few factors
_SCORE_CELLS = 4_000_000  # customers x items scored per block, bounds memory (~32 MB)
_TUNE_CELLS = 10_000_000  # validation customers x items held dense while tuning (~240 MB)


@dataclass
class History:
    """Purchase occasions as sparse matrices over fixed customer and item indexes."""

    customers: pd.Index
    items: pd.Index
    occasions: pd.DataFrame  # customer_idx, item_idx, age_days (one row per occasion)

    def matrix(self, half_life: float) -> sparse.csr_matrix:
        """Recency-weighted occasions per (customer, item); ``inf`` gives plain counts."""
        weight = (
            np.ones(len(self.occasions))
            if np.isinf(half_life)
            else np.power(0.5, self.occasions["age_days"].to_numpy() / half_life)
        )
        return sparse.csr_matrix(
            (weight, (self.occasions["customer_idx"], self.occasions["item_idx"])),
            shape=(len(self.customers), len(self.items)),
        )


def history(
    transactions: pd.DataFrame,
    cutoff: pd.Timestamp,
    *,
    customers: pd.Index | None = None,
    items: pd.Index | None = None,
) -> History:
    """Purchase occasions before ``cutoff`` with returns netted (see the module docstring)."""
    before = transactions[transactions["ts"] < cutoff]
    customers = (
        pd.Index(sorted(transactions["customer_id"].unique())) if customers is None else customers
    )
    items = pd.Index(sorted(transactions["sku"].unique())) if items is None else items
    net = before.groupby(["customer_id", "sku"])["qty"].transform("sum")
    kept = before[net > 0]
    daily = (
        kept.assign(day=kept["ts"].dt.normalize())
        .groupby(["customer_id", "sku", "day"], as_index=False)["qty"]
        .sum()
    )
    daily = daily[daily["qty"] > 0]
    occasions = pd.DataFrame(
        {
            "customer_idx": customers.get_indexer(daily["customer_id"]),
            "item_idx": items.get_indexer(daily["sku"]),
            "age_days": ((cutoff - daily["day"]) / pd.Timedelta(days=1)).to_numpy(),
        }
    )
    occasions = occasions[(occasions["customer_idx"] >= 0) & (occasions["item_idx"] >= 0)]
    return History(customers=customers, items=items, occasions=occasions.reset_index(drop=True))


def _fit_als(
    counts: sparse.csr_matrix, seed: int, n_factors: int = 32
) -> tuple[np.ndarray, np.ndarray] | None:
    """ALS user and item factors on log-scaled confidence; None if there is nothing to fit.

    ``n_factors`` is capped at half the smaller side of the matrix."""
    if counts.nnz == 0 or min(counts.shape) < 2:
        return None
    from implicit.cpu.als import AlternatingLeastSquares

    factors = int(max(2, min(n_factors, min(counts.shape) // 2)))
    confidence = counts.copy().astype(np.float32)
    confidence.data = 1.0 + 10.0 * np.log1p(confidence.data)
    # implicit parallelises itself; a threaded BLAS underneath only contends with it.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=factors, regularization=0.1, iterations=15, random_state=seed, num_threads=1
        )
        model.fit(confidence, show_progress=False)
    return np.asarray(model.user_factors), np.asarray(model.item_factors)


@dataclass
class Components:
    """The three score parts for one training history."""

    repeat: sparse.csr_matrix  # customers x items, rows scaled to max 1
    popularity: np.ndarray  # items, max 1
    factors: tuple[np.ndarray, np.ndarray] | None


def components(
    hist: History,
    half_life: float,
    seed: int = 0,
    *,
    factors: tuple[np.ndarray, np.ndarray] | None = None,
    n_factors: int = 32,
) -> Components:
    """Repeat, popularity and ALS parts from ``hist`` (ALS uses unweighted counts, so
    ``factors`` already fitted on the same history can be passed in)."""
    weighted = hist.matrix(half_life)
    row_max = np.asarray(weighted.max(axis=1).todense()).ravel()
    scale = sparse.diags(np.divide(1.0, row_max, out=np.zeros_like(row_max), where=row_max > 0))
    repeat = (scale @ weighted).tocsr()
    # Distinct buyers, each weighted by the recency of their latest occasion.
    latest = hist.occasions.groupby(["customer_idx", "item_idx"])["age_days"].min()
    buyer_weight = (
        np.ones(len(latest))
        if np.isinf(half_life)
        else np.power(0.5, latest.to_numpy() / half_life)
    )
    popularity = np.bincount(
        latest.index.get_level_values("item_idx"), weights=buyer_weight, minlength=len(hist.items)
    ).astype(float)
    popularity = popularity / popularity.max() if popularity.max() > 0 else popularity
    if factors is None:
        factors = _fit_als(hist.matrix(np.inf), seed, n_factors)
    return Components(repeat=repeat, popularity=popularity, factors=factors)


def _scaled_parts(parts: Components, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense repeat and min-max scaled ALS scores (rows x items) for the customer rows."""
    repeat = parts.repeat[rows].toarray()
    if parts.factors is None:
        return repeat, np.zeros_like(repeat)
    user_factors, item_factors = parts.factors
    cf = user_factors[rows] @ item_factors.T
    low = cf.min(axis=1, keepdims=True)
    span = cf.max(axis=1, keepdims=True) - low
    return repeat, np.divide(cf - low, span, out=np.zeros_like(cf), where=span > 0)


def _blend(
    repeat: np.ndarray, cf: np.ndarray, popularity: np.ndarray, weights: tuple[float, float, float]
) -> np.ndarray:
    w_repeat, w_cf, w_pop = weights
    # The 1e-6 popularity tie-breaker fills every list in a stable order.
    return w_repeat * repeat + w_cf * cf + (w_pop + 1e-6) * popularity[np.newaxis, :]


def _score_block(
    parts: Components, rows: np.ndarray, weights: tuple[float, float, float]
) -> np.ndarray:
    repeat, cf = _scaled_parts(parts, rows)
    return _blend(repeat, cf, parts.popularity, weights)


def top_k(
    parts: Components, rows: np.ndarray, weights: tuple[float, float, float], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k item indexes and scores for the customer rows, best first.

    Returns:
        ``(items, scores)``, both ``len(rows) x min(k, n_items)``.
    """
    n_items = parts.popularity.shape[0]
    k = min(k, n_items)
    block_rows = max(1, _SCORE_CELLS // max(n_items, 1))
    all_items, all_scores = [], []
    for start in range(0, len(rows), block_rows):
        chunk = rows[start : start + block_rows]
        scores = _score_block(parts, chunk, weights)
        if k < n_items:
            candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            candidates = np.tile(np.arange(n_items), (len(chunk), 1))
        candidate_scores = np.take_along_axis(scores, candidates, axis=1)
        # Sort by score, ties by item index, so output is deterministic.
        order = np.lexsort((candidates, -candidate_scores), axis=1)
        all_items.append(np.take_along_axis(candidates, order, axis=1))
        all_scores.append(np.take_along_axis(candidate_scores, order, axis=1))
    if not all_items:
        return np.empty((0, k), dtype=int), np.empty((0, k))
    return np.vstack(all_items), np.vstack(all_scores)


def _relevant(
    transactions: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, hist: History
) -> dict[int, set[int]]:
    """Customer index -> item indexes bought (net qty > 0) in ``[start, end)``,
    for customers with a training history."""
    window = transactions[(transactions["ts"] >= start) & (transactions["ts"] < end)]
    net = window.groupby(["customer_id", "sku"], as_index=False)["qty"].sum()
    net = net[net["qty"] > 0]
    active = np.unique(hist.occasions["customer_idx"].to_numpy())
    net = net.assign(
        customer_idx=hist.customers.get_indexer(net["customer_id"]),
        item_idx=hist.items.get_indexer(net["sku"]),
    )
    net = net[net["customer_idx"].isin(active) & (net["item_idx"] >= 0)]
    return {
        int(customer): set(group.tolist())
        for customer, group in net.groupby("customer_idx")["item_idx"]
    }


def _evaluate_weights(
    parts: Components, relevant: dict[int, set[int]], weights, k: int, n_items: int
) -> dict[str, float]:
    rows = np.fromiter(relevant.keys(), dtype=int)
    items, _ = top_k(parts, rows, weights, k)
    recommendations = {int(row): ranked.tolist() for row, ranked in zip(rows, items, strict=True)}
    return ranking_metrics(recommendations, relevant, k, n_items)


def tune(
    transactions: pd.DataFrame, cutoff: pd.Timestamp, k: int, validation_days: int, seed: int = 0
) -> dict:
    """Pick weights and half-life by recall@k on ``[cutoff - validation_days, cutoff)``.

    Only data before ``cutoff`` is read. Falls back to the defaults (repeat 0.6, ALS 0.3,
    popularity 0.1, no decay) when the validation window has no returning customer.

    Returns:
        ``{"weights": (w_repeat, w_cf, w_pop), "half_life": days, "validation_recall": r}``.
    """
    start, _ = file_window(transactions)
    validation_cutoff = cutoff - pd.Timedelta(days=validation_days)
    if validation_cutoff <= start:
        return {**_DEFAULT, "validation_recall": float("nan")}
    before = transactions[transactions["ts"] < cutoff]
    hist = history(before, validation_cutoff)
    relevant = _relevant(before, validation_cutoff, cutoff, hist)
    if not relevant:
        return {**_DEFAULT, "validation_recall": float("nan")}
    best = {**_DEFAULT, "validation_recall": -1.0}
    rows = np.fromiter(relevant.keys(), dtype=int)
    n_items = len(hist.items)
    most_rows = max(1, _TUNE_CELLS // n_items)
    if len(rows) > most_rows:  # tune on a seeded sample so the dense blocks stay bounded
        rows = np.sort(np.random.default_rng(seed).choice(rows, most_rows, replace=False))
    # (customer position, item) pairs bought, as int64 keys: fits a catalogue of any size.
    sizes = np.array([len(relevant[int(row)]) for row in rows])
    positions = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
    bought = np.fromiter((item for row in rows for item in relevant[int(row)]), dtype=np.int64)
    truth_keys = np.sort(positions * n_items + bought)
    denominator = np.minimum(k, sizes)
    for n_factors, half_life in itertools.product(
        _FACTOR_GRID, (validation_days, 4 * validation_days, float("inf"))
    ):
        if half_life == validation_days:  # first half-life of a new rank: fit ALS once
            factors = None
        parts = components(hist, half_life, seed, factors=factors, n_factors=n_factors)
        factors = parts.factors  # ALS does not depend on the half-life
        repeat, cf = _scaled_parts(parts, rows)
        for weights in _WEIGHT_GRID:
            scores = _blend(repeat, cf, parts.popularity, weights)
            if k < n_items:
                items = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # order is irrelevant
            else:
                items = np.tile(np.arange(n_items), (len(rows), 1))
            keys = np.arange(len(rows), dtype=np.int64)[:, np.newaxis] * n_items + items
            hits = np.isin(keys, truth_keys, assume_unique=True).sum(axis=1)
            recall = float(np.mean(hits / denominator))  # recall@k as in ml.metrics
            if recall > best["validation_recall"] + 1e-12:
                best = {
                    "weights": weights,
                    "half_life": half_life,
                    "factors": n_factors,
                    "validation_recall": recall,
                }
    return best


_PAIR_FEATURES = (
    "occasions",
    "occasions_recent",
    "occasions_decayed",
    "days_since_item",
    "share_of_customer",
    "cf_score",
    "popularity",
    "popularity_recent",
    "customer_occasions",
    "customer_items",
    "days_since_customer",
)


@dataclass
class Ranker:
    """A learned blend: gradient-boosted classifier of "bought in the next window"
    over candidate (customer, item) pairs, a pointwise learning-to-rank re-ranker."""

    model: object
    window_days: int
    candidates: int
    n_factors: int = 32


def _candidates(parts: Components, rows: np.ndarray, k: int, n_items: int) -> np.ndarray:
    """The customer's own items, ALS's and popularity's best: top ``max(50, 5k)`` of a
    default blend (all items when the catalogue is that small)."""
    width = min(n_items, max(50, 5 * k))
    items, _ = top_k(parts, rows, _DEFAULT["weights"], width)
    return items


@dataclass
class _PairContext:
    """Everything the pair features need from one history, computed once."""

    counts: sparse.csr_matrix
    recent_counts: sparse.csr_matrix
    decayed: sparse.csr_matrix
    latest_age: sparse.csr_matrix  # days since the customer last bought the item, + 1
    parts: Components
    recent_popularity: np.ndarray
    customer_occasions: np.ndarray
    customer_items: np.ndarray
    days_since_customer: np.ndarray


def _pair_context(hist: History, window_days: int, parts: Components) -> _PairContext:
    counts = hist.matrix(np.inf)
    recent = hist.occasions[hist.occasions["age_days"] <= window_days * 2]
    latest = hist.occasions.groupby(["customer_idx", "item_idx"])["age_days"].min()
    by_customer = hist.occasions.groupby("customer_idx")["age_days"].min()
    days_since_customer = np.full(len(hist.customers), 1e4)
    days_since_customer[by_customer.index.to_numpy()] = by_customer.to_numpy()
    return _PairContext(
        counts=counts,
        recent_counts=sparse.csr_matrix(
            (np.ones(len(recent)), (recent["customer_idx"], recent["item_idx"])),
            shape=counts.shape,
        ),
        decayed=hist.matrix(4.0 * window_days),
        latest_age=sparse.csr_matrix(
            (
                latest.to_numpy() + 1.0,
                (latest.index.get_level_values(0), latest.index.get_level_values(1)),
            ),
            shape=counts.shape,
        ),
        parts=parts,
        recent_popularity=components_popularity(hist, 2.0 * window_days),
        customer_occasions=np.asarray(counts.sum(axis=1)).ravel(),
        customer_items=np.diff(counts.indptr).astype(float),
        days_since_customer=days_since_customer,
    )


def _pair_features(context: _PairContext, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Feature matrix ``(len(rows) * items.shape[1]) x len(_PAIR_FEATURES)``."""
    pair_rows = np.repeat(rows, items.shape[1])
    pair_items = items.ravel()

    def at(matrix: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(matrix[pair_rows, pair_items]).ravel()

    age = at(context.latest_age)
    occasions = at(context.counts)
    if context.parts.factors is not None:
        user_factors, item_factors = context.parts.factors
        cf = np.einsum("ij,ij->i", user_factors[pair_rows], item_factors[pair_items])
    else:
        cf = np.zeros(len(pair_rows))
    return np.column_stack(
        [
            occasions,
            at(context.recent_counts),
            at(context.decayed),
            np.where(age > 0, age - 1.0, 1e4),
            occasions / np.maximum(context.customer_occasions[pair_rows], 1.0),
            cf,
            context.parts.popularity[pair_items],
            context.recent_popularity[pair_items],
            context.customer_occasions[pair_rows],
            context.customer_items[pair_rows],
            context.days_since_customer[pair_rows],
        ]
    )


def components_popularity(hist: History, half_life: float) -> np.ndarray:
    """Recency-weighted distinct buyers per item, scaled to max 1."""
    latest = hist.occasions.groupby(["customer_idx", "item_idx"])["age_days"].min()
    weight = np.power(0.5, latest.to_numpy() / half_life)
    popularity = np.bincount(
        latest.index.get_level_values("item_idx"), weights=weight, minlength=len(hist.items)
    ).astype(float)
    return popularity / popularity.max() if popularity.max() > 0 else popularity


def fit_ranker(
    transactions: pd.DataFrame,
    cutoff: pd.Timestamp,
    k: int,
    window_days: int,
    seed: int = 0,
    n_factors: int = 32,
) -> Ranker | None:
    """Learn the blend on ``[cutoff - window_days, cutoff)``: features from the history
    before that window, label = the customer bought the item in it (net qty > 0).

    Returns None when the window has fewer than 30 positive pairs to learn from.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    start, _ = file_window(transactions)
    feature_cutoff = cutoff - pd.Timedelta(days=window_days)
    if feature_cutoff <= start:
        return None
    before = transactions[transactions["ts"] < cutoff]
    hist = history(before, feature_cutoff)
    relevant = _relevant(before, feature_cutoff, cutoff, hist)
    if sum(len(items) for items in relevant.values()) < 30:
        return None
    rows = np.fromiter(relevant.keys(), dtype=int)
    n_items = len(hist.items)
    base = components(hist, np.inf, seed, n_factors=n_factors)
    items = _candidates(base, rows, k, n_items)
    features = _pair_features(_pair_context(hist, window_days, base), rows, items)
    labels = np.array(
        [
            item in relevant[int(row)]
            for row, item in zip(np.repeat(rows, items.shape[1]), items.ravel(), strict=True)
        ]
    )
    if labels.all() or not labels.any():
        return None
    model = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        random_state=seed,
    )
    with threadpool_limits(1):
        model.fit(features, labels)
    return Ranker(
        model=model, window_days=window_days, candidates=items.shape[1], n_factors=n_factors
    )


def rank_with(
    ranker: Ranker, hist: History, rows: np.ndarray, k: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k items and purchase probabilities for the customer rows, best first."""
    n_items = len(hist.items)
    base = components(hist, np.inf, seed, n_factors=ranker.n_factors)
    context = _pair_context(hist, ranker.window_days, base)
    all_items, all_scores = [], []
    block_rows = max(1, _SCORE_CELLS // 20 // max(ranker.candidates, 1))
    for start in range(0, len(rows), block_rows):
        chunk = rows[start : start + block_rows]
        items = _candidates(base, chunk, k, n_items)
        features = _pair_features(context, chunk, items)
        with threadpool_limits(1):
            probability = ranker.model.predict_proba(features)[:, 1].reshape(items.shape)
        # Popularity breaks ties between equal probabilities, deterministically.
        keyed = probability + 1e-9 * base.popularity[items]
        order = np.lexsort((items, -keyed), axis=1)[:, : min(k, n_items)]
        all_items.append(np.take_along_axis(items, order, axis=1))
        all_scores.append(np.take_along_axis(probability, order, axis=1))
    return np.vstack(all_items), np.vstack(all_scores)


@dataclass
class Hybrid:
    """The trained recommender: the tuned weighted blend, or the learned ranker when it
    beat the blend on an earlier validation window."""

    method: str  # "blend" or "ranker"
    tuned: dict
    ranker: Ranker | None = None

    def rank(
        self, hist: History, rows: np.ndarray, k: int, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.method == "ranker" and self.ranker is not None:
            return rank_with(self.ranker, hist, rows, k, seed)
        parts = components(hist, self.tuned["half_life"], seed, n_factors=self.tuned["factors"])
        return top_k(parts, rows, self.tuned["weights"], k)


def _recall_of(hybrid: Hybrid, hist: History, relevant: dict, k: int, seed: int) -> float:
    rows = np.fromiter(relevant.keys(), dtype=int)
    items, _ = hybrid.rank(hist, rows, k, seed)
    ranked = {int(row): listed.tolist() for row, listed in zip(rows, items, strict=True)}
    return ranking_metrics(ranked, relevant, k, len(hist.items))["recall_at_k"]


def fit_hybrid(
    transactions: pd.DataFrame, cutoff: pd.Timestamp, k: int, window_days: int, seed: int = 0
) -> Hybrid:
    """Tune and train on data before ``cutoff`` only.

    The blend weights are tuned, and the ranker is trained, on the window
    ``[cutoff - window_days, cutoff)``. Which of the two is used is decided one window
    earlier: both are fitted on ``[cutoff - 2w, cutoff - w)`` and compared by recall@k on
    ``[cutoff - w, cutoff)``; the ranker must win outright (ties keep the simpler blend).
    """
    start, _ = file_window(transactions)
    method, selection = "blend", {}
    inner_cutoff = cutoff - pd.Timedelta(days=window_days)
    if inner_cutoff - pd.Timedelta(days=window_days) > start:
        inner_tuned = tune(transactions, inner_cutoff, k, window_days, seed)
        inner_ranker = fit_ranker(
            transactions, inner_cutoff, k, window_days, seed, inner_tuned["factors"]
        )
        if inner_ranker is not None:
            before = transactions[transactions["ts"] < cutoff]
            hist = history(before, inner_cutoff)
            relevant = _relevant(before, inner_cutoff, cutoff, hist)
            if relevant:
                inner_blend = Hybrid("blend", inner_tuned)
                selection = {
                    "selection_recall_blend": _recall_of(inner_blend, hist, relevant, k, seed),
                    "selection_recall_ranker": _recall_of(
                        Hybrid("ranker", {}, inner_ranker), hist, relevant, k, seed
                    ),
                }
                if selection["selection_recall_ranker"] > selection["selection_recall_blend"]:
                    method = "ranker"
    tuned = {**tune(transactions, cutoff, k, window_days, seed), **selection, "method": method}
    ranker = (
        fit_ranker(transactions, cutoff, k, window_days, seed, tuned["factors"])
        if method == "ranker"
        else None
    )
    if ranker is None:
        tuned["method"] = "blend"
    return Hybrid(tuned["method"], tuned, ranker)


@dataclass
class Evaluation:
    """Test-split metrics of the hybrid and its two baselines."""

    cutoff: pd.Timestamp
    test_days: int
    tuned: dict
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    def lift(self, baseline: str, metric: str = "recall_at_k") -> float:
        return self.metrics["hybrid"][metric] / self.metrics[baseline][metric]


def evaluate(
    transactions: pd.DataFrame, k: int = 10, test_days: int = 28, seed: int = 0
) -> Evaluation:
    """Train up to ``end - test_days``, test on the last ``test_days`` days.

    Customers evaluated: active in both periods. Baselines: ``popularity`` (the same
    recency-weighted popularity for everyone) and ``repeat`` (the customer's own most
    bought items by occasions, filled with popularity). The hybrid is fitted by
    `fit_hybrid` on the training period only.

    Raises:
        ValueError: the file is shorter than ``3 * test_days`` or no customer is active
            in both periods.
    """
    start, end = file_window(transactions)
    cutoff = end - pd.Timedelta(days=test_days)
    if cutoff - pd.Timedelta(days=2 * test_days) < start:
        raise ValueError(f"a {test_days}-day test split needs {3 * test_days} days of history")
    hybrid = fit_hybrid(transactions, cutoff, k, test_days, seed)
    hist = history(transactions, cutoff)
    relevant = _relevant(transactions, cutoff, end, hist)
    if not relevant:
        raise ValueError("no customer bought in both the training and the test period")
    n_items = len(hist.items)
    evaluation = Evaluation(cutoff=cutoff, test_days=test_days, tuned=hybrid.tuned)
    rows = np.fromiter(relevant.keys(), dtype=int)
    items, _ = hybrid.rank(hist, rows, k, seed)
    ranked = {int(row): listed.tolist() for row, listed in zip(rows, items, strict=True)}
    evaluation.metrics["hybrid"] = ranking_metrics(ranked, relevant, k, n_items)
    plain = components(hist, float("inf"), seed)
    evaluation.metrics["popularity"] = _evaluate_weights(plain, relevant, (0, 0, 1), k, n_items)
    # Own counts dominate (<= 1) and popularity (<= 1e-3 scale) only breaks ties and fills.
    evaluation.metrics["repeat"] = _evaluate_weights(plain, relevant, (1, 0, 1e-3), k, n_items)
    return evaluation


def recommend(
    transactions: pd.DataFrame, k: int = 10, *, seed: int = 0, test_days: int = 28
) -> tuple[pd.DataFrame, dict]:
    """Tune on the file's own history, train on all of it, and rank for every customer.

    Args:
        transactions: ``customer_id, sku, ts, qty`` as read by `ml.transactions`.
        k: list length per customer (> 0); capped at the number of distinct items.
        seed: ALS random seed.
        test_days: length of the validation window used for tuning (shortened for short
            files to a quarter of the span).

    Returns:
        ``(recommendations, tuned)``: columns ``customer_id, rank (1..k), sku, score``,
        ``k`` rows for every customer of the file (popularity fills short histories),
        ordered by customer_id then rank; and the tuned parameters.

    Raises:
        ValueError: ``k`` is not positive, or no row has a positive quantity.
    """
    if k <= 0:
        raise ValueError(f"k must be a positive number of items, got {k}")
    start, end = file_window(transactions)
    span = (end - start).days
    validation_days = max(1, min(test_days, span // 4))
    hist = history(transactions, end)
    if hist.occasions.empty:
        raise ValueError("no purchases to learn from (every quantity is zero or a return)")
    rows = np.arange(len(hist.customers))
    hybrid = fit_hybrid(transactions, end, k, validation_days, seed)
    items, scores = hybrid.rank(hist, rows, k, seed)
    tuned = hybrid.tuned
    width = items.shape[1]
    result = pd.DataFrame(
        {
            "customer_id": np.repeat(hist.customers.to_numpy(), width),
            "rank": np.tile(np.arange(1, width + 1), len(rows)),
            "sku": hist.items.to_numpy()[items.ravel()],
            "score": np.round(scores.ravel(), 6),
        }
    )
    return result, tuned
