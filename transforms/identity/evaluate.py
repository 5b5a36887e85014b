"""Measuring identity resolution: pairwise precision, recall, F1 and over-merge rate.

Pairwise metrics count record pairs: a predicted pair is correct when both records
belong to the same true person. They are computed from cluster-intersection sizes
(sum of n*(n-1)/2), never by enumerating pairs, so they are cheap at any size. The
over-merge rate is the share of predicted clusters holding more than one true person.

Also here: `evaluate_oneid`, which scores silver/identity_map against the simulator's
truth. Labelled person records and the scoring of `bakehouse resolve` are in
bench/resolve/.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl


@dataclass(frozen=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    over_merge_rate: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    records: int
    predicted_clusters: int
    true_people: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(sizes: pl.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(assignment: pl.DataFrame) -> PairwiseScores:
    """Scores of an `item, predicted, truth` frame (one row per record)."""
    predicted_pairs = _pairs(assignment.group_by("predicted").len()["len"])
    true_pairs = _pairs(assignment.group_by("truth").len()["len"])
    correct_pairs = _pairs(assignment.group_by(["predicted", "truth"]).len()["len"])
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    people_per_cluster = assignment.group_by("predicted").agg(pl.col("truth").n_unique())
    clusters = people_per_cluster.height
    over = people_per_cluster.filter(pl.col("truth") > 1).height
    return PairwiseScores(
        precision=round(precision, 5),
        recall=round(recall, 5),
        f1=round(f1, 5),
        over_merge_rate=round(over / clusters, 5) if clusters else 0.0,
        predicted_pairs=predicted_pairs,
        true_pairs=true_pairs,
        correct_pairs=correct_pairs,
        records=assignment.height,
        predicted_clusters=clusters,
        true_people=assignment["truth"].n_unique(),
    )


# -- OneID against the simulator's truth -----------------------------------------------
TRUTH_ID_TYPES = {
    # simulator's id_type -> OneID id_type (identical unless listed)
    "wecom_external_userid": "wecom_external_id",
    "external_userid": "wecom_external_id",
    "card": "card_no",
    "member_card_no": "card_no",
}
STRONG_ID_TYPES = {"phone", "card_no", "member_id", "unionid", "openid", "wecom_external_id"}


def evaluate_oneid(lake: Any, truth_dir: Path, key: bytes) -> dict[str, Any]:
    """Score silver/identity_map against `truth/identifiers.parquet`.

    Each true identifier (id_type, id_value in clear, person_id) is pseudonymised with
    the pipeline's key and looked up in the map. Scored are the identifiers the
    pipeline has seen (the map holds every observed, non-shared identifier); the
    others are reported as coverage. Identifiers the truth gives no person (store
    phones typed for walk-ins) must not be in the map: `shared_in_map` counts them.
    Returns scores overall, strong identifiers only, and pairs touching a platform
    (weak) identifier.
    """
    from bakehouse.pii import normalize_phone, pseudonym

    truth = pl.read_parquet(truth_dir / "identifiers.parquet")
    truth = truth.with_columns(
        pl.col("id_type").replace(TRUTH_ID_TYPES).alias("id_type"),
        pl.col("person_id").cast(pl.String),
    )

    def hash_row(id_type: str, value: str) -> str | None:
        value = value.strip()
        if id_type == "phone":
            value = normalize_phone(value) or value
        return pseudonym(key, id_type, value)

    truth = truth.with_columns(
        pl.struct("id_type", "id_value")
        .map_elements(lambda r: hash_row(r["id_type"], str(r["id_value"])), return_dtype=pl.String)
        .alias("id_hash")
    )
    mapped = pl.from_arrow(
        lake.read_arrow("silver", "identity_map", columns=["id_type", "id_hash", "one_id"])
    )
    assert isinstance(mapped, pl.DataFrame)
    joined = truth.join(mapped, on=["id_type", "id_hash"], how="inner")
    shared_in_map = joined.filter(pl.col("person_id").is_null()).height
    joined = (
        joined.filter(pl.col("person_id").is_not_null())
        .unique(["id_type", "id_hash"])
        .with_columns(pl.col("one_id").alias("predicted"), pl.col("person_id").alias("truth"))
    )
    strong = joined.filter(pl.col("id_type").is_in(list(STRONG_ID_TYPES)))
    return {
        "overall": pairwise_scores(joined),
        "strong": pairwise_scores(strong),
        "weak": _weak_scores(joined),
        "coverage": round(joined.height / max(truth.height, 1), 4),
        "shared_in_map": shared_in_map,
    }


def _weak_scores(joined: pl.DataFrame) -> PairwiseScores:
    """Pairs involving at least one platform identifier: did weak ids land right?

    Computed as all pairs among records of people or clusters that hold a platform
    id, minus the pairs among their strong identifiers.
    """
    weak = joined.filter(~pl.col("id_type").is_in(list(STRONG_ID_TYPES)))
    people = weak["truth"].unique()
    clusters = weak["predicted"].unique()
    related = joined.filter(pl.col("truth").is_in(people) | pl.col("predicted").is_in(clusters))
    every = pairwise_scores(related)
    strong = pairwise_scores(related.filter(pl.col("id_type").is_in(list(STRONG_ID_TYPES))))
    predicted = every.predicted_pairs - strong.predicted_pairs
    true = every.true_pairs - strong.true_pairs
    correct = every.correct_pairs - strong.correct_pairs
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(
        precision=round(precision, 5),
        recall=round(recall, 5),
        f1=round(f1, 5),
        over_merge_rate=every.over_merge_rate,
        predicted_pairs=predicted,
        true_pairs=true,
        correct_pairs=correct,
        records=weak.height,
        predicted_clusters=every.predicted_clusters,
        true_people=every.true_people,
    )
