"""Figures for `bakehouse clv` and `bakehouse recommend` on a generated set.

    .venv/bin/python bench/bench_ml_cli.py                       # 20,000 customers, 365 days
    .venv/bin/python bench/bench_ml_cli.py --customers 2000 --items 120 --seed 7
    .venv/bin/python bench/bench_ml_cli.py --simulated --scale 0.01 --days 182

Generates basket lines with `ml.synthetic.generate_transactions` (BG/NBD-style arrivals
and drop-out, staples + taste groups + popularity, ~1% returns), writes the two plain
CSVs the CLIs take, and reports:

* clv: the time-split evaluation (holdout = the horizon) of the baseline, BG/NBD +
  Gamma-Gamma and the boosted model: MAE per customer, improvement over the baseline,
  total predicted / actual; then the wall time of the full CLI run.
* recommend: the time-split evaluation (last 28 days) of the hybrid, popularity and
  repeat baselines: recall@10, NDCG@10, coverage, lifts; then the full CLI wall time.

With ``--simulated`` the transactions come from the chain simulator instead: it runs
`bakehouse.sim.simulate` (no faults) into a temp dir and takes the POS till lines of
member tickets (card number as customer_id, sku, sale time, quantity, amount received;
voided tickets dropped, returns kept as negative lines). Card numbers stay in the temp
dir; only figures are printed.

Prints one JSON line per section. Wall times depend on the machine's load: the output
includes the load average when it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bakehouse.cli import app
from ml import clv, recommend
from ml.synthetic import generate_transactions


def _timed_cli(*args: str) -> float:
    began = time.perf_counter()
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return round(time.perf_counter() - began, 1)


def simulated_lines(scale: float, days: int, seed: int) -> pd.DataFrame:
    """Member POS lines of a simulated chain: customer_id, sku, ts, qty, amount."""
    from bakehouse.sim import simulate

    start = date(2026, 11, 1) - timedelta(days=days)  # the simulator refuses future dates
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        simulate(root / "landing", root / "truth", scale=scale, start=start, days=days, seed=seed)
        frames = [
            pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)
            for path in sorted((root / "landing" / "pos").glob("pos_sales_*.csv"))
        ]
    pos = pd.concat(frames, ignore_index=True)
    pos = pos[(pos["单据类型"] != "作废") & (pos["会员卡号"] != "")]
    return pd.DataFrame(
        {
            "customer_id": pos["会员卡号"],
            "sku": pos["商品编码"],
            "ts": pd.to_datetime(pos["销售时间"], format="%Y/%m/%d %H:%M:%S"),
            "qty": pos["数量"].astype(float),
            "amount": pos["实收金额"].astype(float),
        }
    ).sort_values("ts", kind="stable", ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=150)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--horizon-days", type=int, default=90)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--simulated", action="store_true", help="Use the chain simulator.")
    parser.add_argument("--section", choices=("all", "clv", "recommend"), default="all")
    parser.add_argument("--scale", type=float, default=0.01, help="Simulator scale.")
    args = parser.parse_args()

    if args.simulated:
        lines = simulated_lines(args.scale, args.days, args.seed)
    else:
        lines = generate_transactions(args.customers, args.items, args.days, seed=args.seed)
    data = {
        "source": f"simulator scale {args.scale}" if args.simulated else "ml.synthetic",
        "customers": int(lines["customer_id"].nunique()),
        "items": int(lines["sku"].nunique()),
        "lines": len(lines),
        "returns": int((lines["qty"] < 0).sum()),
        "seed": args.seed,
    }
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        lines[list(clv.COLUMNS)].to_csv(root / "clv_tx.csv", index=False)
        lines[list(recommend.COLUMNS)].to_csv(root / "recs_tx.csv", index=False)

        if args.section in ("all", "clv"):
            _clv_section(args, root, lines, data)
        if args.section in ("all", "recommend"):
            _recommend_section(args, root, lines, data)


def _clv_section(args, root: Path, lines: pd.DataFrame, data: dict) -> None:
    began = time.perf_counter()
    evaluation = clv.evaluate(lines[list(clv.COLUMNS)], args.horizon_days)
    clv_eval_seconds = round(time.perf_counter() - began, 1)
    clv_cli_seconds = _timed_cli(
        "clv", "--transactions", str(root / "clv_tx.csv"),
        "--horizon-days", str(args.horizon_days), "--output", str(root / "clv.csv"),
    )  # fmt: skip
    print(
        json.dumps(
            {
                "section": "clv",
                **data,
                "holdout_days": evaluation.split.holdout_days,
                "evaluated_customers": evaluation.customers,
                "actual_holdout_amount": round(evaluation.actual_total, 2),
                "mae": {name: round(value, 2) for name, value in evaluation.mae.items()},
                "mae_vs_baseline": {
                    name: round(evaluation.improvement(name), 3) for name in evaluation.mae
                },
                "total_ratio": {n: round(v, 3) for n, v in evaluation.total_ratio.items()},
                "chosen": evaluation.best,
                "evaluate_seconds": clv_eval_seconds,
                "cli_seconds": clv_cli_seconds,
                "load_average": os.getloadavg()[0],
            }
        )
    )


def _recommend_section(args, root: Path, lines: pd.DataFrame, data: dict) -> None:
    began = time.perf_counter()
    ranking = recommend.evaluate(lines[list(recommend.COLUMNS)], k=args.k)
    recs_eval_seconds = round(time.perf_counter() - began, 1)
    recs_cli_seconds = _timed_cli(
        "recommend", "--transactions", str(root / "recs_tx.csv"),
        "--k", str(args.k), "--output", str(root / "recs.csv"),
    )  # fmt: skip
    print(
        json.dumps(
            {
                "section": "recommend",
                **data,
                "test_days": ranking.test_days,
                "metrics": {
                    name: {metric: round(value, 4) for metric, value in values.items()}
                    for name, values in ranking.metrics.items()
                },
                "recall_lift_vs_popularity": round(ranking.lift("popularity"), 3),
                "recall_lift_vs_repeat": round(ranking.lift("repeat"), 3),
                "method": ranking.tuned.get("method"),
                "evaluate_seconds": recs_eval_seconds,
                "cli_seconds": recs_cli_seconds,
                "load_average": os.getloadavg()[0],
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
