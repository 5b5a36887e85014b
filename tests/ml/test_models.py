"""The model cores: returns netting, metrics, and the time-split evaluations vs baselines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml import clv, recommend
from ml.metrics import ndcg_at_k, ranking_metrics, recall_at_k
from ml.transactions import read_transactions


def frame(rows: list[tuple], columns: tuple[str, ...]) -> pd.DataFrame:
    data = pd.DataFrame(rows, columns=list(columns))
    data["ts"] = pd.to_datetime(data["ts"], format="mixed")
    return data


def test_clv_returns_are_netted_against_the_customers_purchases() -> None:
    tx = frame(
        [
            ("a", "2026-01-01 09:00", 60.0),
            ("a", "2026-01-01 18:00", 40.0),  # same day: one visit of 100
            ("a", "2026-01-05", 50.0),
            ("a", "2026-01-06", -30.0),  # a return: net 120 of gross 150
            ("b", "2026-01-02", 20.0),
            ("b", "2026-01-03", -25.0),  # returned more than bought: no spend left
            ("c", "2026-01-04", -5.0),  # only a return: no visit at all
        ],
        clv.COLUMNS,
    )
    visits = clv.visits(tx).sort_values(["customer_id", "day"])
    assert visits["customer_id"].tolist() == ["a", "a", "b"]
    assert visits["day"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-01-01",
        "2026-01-05",
        "2026-01-02",
    ]
    assert visits["amount"].tolist() == pytest.approx([80.0, 40.0, 0.0])


def test_clv_predicts_zero_for_a_customer_who_returned_everything() -> None:
    rows = [
        (f"c{i}", f"2026-01-{1 + (i * 7 + j * 3) % 28:02d}", 10.0 + i)
        for i in range(30)
        for j in range(3)
    ]
    rows.append(("gone", "2026-01-03", 30.0))
    rows.append(("gone", "2026-01-04", -30.0))
    predictions, _, used = clv.predict(frame(rows, clv.COLUMNS), 14, model="bgnbd")
    assert used == "bgnbd"
    gone = predictions.set_index("customer_id").loc["gone"]
    assert gone["predicted_purchases"] > 0  # the visit happened
    assert gone["predicted_value"] == 0.0  # but nothing of it was kept


def test_recommend_history_drops_fully_returned_items() -> None:
    tx = frame(
        [
            ("a", "x", "2026-01-01", 2.0),
            ("a", "x", "2026-01-03", -2.0),  # x fully returned: gone from a's history
            ("a", "y", "2026-01-02", 1.0),
            ("a", "y", "2026-01-04", 3.0),
            ("a", "y", "2026-01-05", -1.0),  # partly returned: both occasions stay
            ("b", "x", "2026-01-02", 1.0),
        ],
        recommend.COLUMNS,
    )
    hist = recommend.history(tx, pd.Timestamp("2026-01-06"))
    counts = hist.matrix(math.inf).toarray()
    assert hist.customers.tolist() == ["a", "b"] and hist.items.tolist() == ["x", "y"]
    assert counts.tolist() == [[0.0, 2.0], [1.0, 0.0]]


def test_metrics_follow_their_definitions() -> None:
    assert recall_at_k(["a", "b", "c"], {"b", "z"}, 3) == 0.5
    assert recall_at_k(list("abcdefghij"), set("abcdefghijkl"), 10) == 1.0  # capped at k
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / np.log2(3))
    result = ranking_metrics({"u": ["a", "b"], "v": ["a", "c"]}, {"u": {"b"}, "v": {"d"}}, 2, 8)
    assert result == {
        "recall_at_k": 0.5,
        "ndcg_at_k": pytest.approx(0.5 / np.log2(3)),
        "coverage": 3 / 8,
        "customers": 2.0,
    }


def test_reader_keeps_string_ids_and_converts_offsets_to_utc(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text(
        "customer_id, ts, amount, extra\n"
        "007,2026-01-01T08:00:00+08:00,1.5,x\n"
        " 007 ,2026-01-01 03:00,-2,y\n"
    )
    data = read_transactions(path, ids=("customer_id",), numbers=("amount",))
    assert list(data.columns) == ["customer_id", "ts", "amount"]
    assert data["customer_id"].tolist() == ["007", "007"]
    assert data["ts"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2026-01-01 00:00",
        "2026-01-01 03:00",
    ]
    assert data["amount"].tolist() == [1.5, -2.0]


def test_clv_evaluation_beats_the_baseline_on_a_time_split(lines) -> None:
    evaluation = clv.evaluate(lines[list(clv.COLUMNS)], horizon_days=30)
    assert evaluation.split.holdout_days == 30
    assert (
        evaluation.customers
        == lines.loc[lines["ts"] < evaluation.split.cutoff, "customer_id"].nunique()
    )
    # BG/NBD + Gamma-Gamma: MAE clearly below the spend-rate baseline, total within 15%.
    assert evaluation.improvement("bgnbd") > 0.15
    assert abs(evaluation.total_ratio["bgnbd"] - 1) < 0.15
    assert evaluation.best in {"bgnbd", "gbm"}
    assert abs(evaluation.total_ratio[evaluation.best] - 1) < 0.15


def test_recommend_evaluation_beats_both_baselines(lines) -> None:
    evaluation = recommend.evaluate(lines[list(recommend.COLUMNS)], k=10, test_days=28)
    metrics = evaluation.metrics
    assert set(metrics) == {"hybrid", "popularity", "repeat"}
    assert metrics["hybrid"]["customers"] == metrics["repeat"]["customers"] > 100
    assert evaluation.lift("popularity") >= 1.5
    assert evaluation.lift("repeat") >= 1.0
    assert metrics["hybrid"]["coverage"] > metrics["popularity"]["coverage"]
    # Tuning saw only the training period: its windows end at the test cutoff.
    assert evaluation.tuned["method"] in {"blend", "ranker"}


def test_recommend_tuning_never_reads_the_test_period(lines) -> None:
    tx = lines[list(recommend.COLUMNS)]
    cutoff = tx["ts"].max().normalize() - pd.Timedelta(days=27)
    with_future = recommend.fit_hybrid(tx, cutoff, k=10, window_days=28)
    without_future = recommend.fit_hybrid(tx[tx["ts"] < cutoff], cutoff, k=10, window_days=28)
    assert with_future.tuned == without_future.tuned


def test_clv_models_never_read_the_holdout(lines) -> None:
    tx = lines[list(clv.COLUMNS)]
    cutoff = tx["ts"].max().normalize() - pd.Timedelta(days=29)
    # A different future, including a return of something bought before the cutoff.
    changed = pd.concat(
        [
            tx[tx["ts"] < cutoff],
            pd.DataFrame(
                {"customer_id": [tx["customer_id"].iloc[0]], "ts": [cutoff], "amount": [-500.0]}
            ),
        ]
    )
    for model in ("baseline", "bgnbd", "gbm"):
        pd.testing.assert_frame_equal(
            clv.predict_at(tx, cutoff, 30, model), clv.predict_at(changed, cutoff, 30, model)
        )
