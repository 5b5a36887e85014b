"""Evaluation metrics for the ML jobs (standard definitions, stated in each docstring)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def mean_absolute_error(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean over customers of ``|actual - predicted|`` (same unit as the inputs)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    return float(np.mean(np.abs(actual - predicted)))


def total_ratio(actual: np.ndarray, predicted: np.ndarray) -> float:
    """``sum(predicted) / sum(actual)``: 1.0 means the total is exactly right."""
    total = float(np.sum(actual))
    return float(np.sum(predicted)) / total if total else float("nan")


def recall_at_k(recommended: Sequence, relevant: set, k: int) -> float:
    """Hits in the top k divided by ``min(k, |relevant|)`` (so 1.0 is reachable).

    This is the "recall@k" of the RecSys literature with the denominator capped at k
    (e.g. Liang et al. 2018, "Variational Autoencoders for Collaborative Filtering").
    """
    if not relevant:
        raise ValueError("recall@k is undefined for a customer with nothing relevant")
    hits = sum(1 for item in list(recommended)[:k] if item in relevant)
    return hits / min(k, len(relevant))


def ndcg_at_k(recommended: Sequence, relevant: set, k: int) -> float:
    """Binary-relevance NDCG@k (Järvelin & Kekäläinen 2002) with log2 discounts."""
    if not relevant:
        raise ValueError("NDCG@k is undefined for a customer with nothing relevant")
    gains = [1.0 if item in relevant else 0.0 for item in list(recommended)[:k]]
    dcg = sum(gain / np.log2(rank + 2) for rank, gain in enumerate(gains))
    ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return float(dcg / ideal)


def ranking_metrics(
    recommendations: Mapping[object, Sequence],
    relevant: Mapping[object, set],
    k: int,
    catalogue_size: int,
) -> dict[str, float]:
    """Average recall@k and NDCG@k over the customers in ``relevant``, and coverage.

    Args:
        recommendations: customer -> ranked items (a customer missing here counts as
            an empty list, i.e. zero).
        relevant: customer -> items bought in the test period (customers with none are
            not passed).
        k: cut-off.
        catalogue_size: number of distinct items that could have been recommended.

    Returns:
        ``{"recall_at_k", "ndcg_at_k", "coverage", "customers"}``; coverage is the share
        of the catalogue appearing in at least one evaluated customer's top k.
    """
    recalls, ndcgs, shown = [], [], set()
    for customer, items in relevant.items():
        ranked = list(recommendations.get(customer, ()))[:k]
        shown.update(ranked)
        recalls.append(recall_at_k(ranked, items, k))
        ndcgs.append(ndcg_at_k(ranked, items, k))
    return {
        "recall_at_k": float(np.mean(recalls)) if recalls else float("nan"),
        "ndcg_at_k": float(np.mean(ndcgs)) if ndcgs else float("nan"),
        "coverage": len(shown) / catalogue_size if catalogue_size else float("nan"),
        "customers": float(len(recalls)),
    }
