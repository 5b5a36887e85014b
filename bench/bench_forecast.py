"""Demand forecast benchmarks on generated data with known true demand (`ml.forecast_eval`).

    .venv/bin/python bench/bench_forecast.py accuracy --stores 10 --skus 10 --days 1095
    .venv/bin/python bench/bench_forecast.py accuracy --stock-cover 0 --censoring ignore
    .venv/bin/python bench/bench_forecast.py scale --stores 100 --skus 20 --days 365

`accuracy` runs the rolling-origin backtest (4 origins, 14-day horizon, scored against
true demand) for each censoring method and prints one JSON line per method with WAPE,
bias, pinball losses and coverage of the model, the two seasonal baselines and the
oracle mean. `scale` times one `forecast` call (train + 14-day forecast) and prints the
seconds and peak RSS. The generated data has weekly, yearly and holiday shapes drawn at
random per series (see `generate_history`); nothing in it is fitted to the simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.forecast import forecast
from ml.forecast_eval import backtest, generate_history


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def accuracy(args: argparse.Namespace) -> None:
    cover = None if args.stock_cover <= 0 else args.stock_cover
    history = generate_history(
        n_stores=args.stores, n_skus=args.skus, days=args.days, seed=args.seed, stock_cover=cover
    )
    for method in args.censoring:
        started = time.perf_counter()
        results = backtest(
            history,
            origins=args.origins,
            horizon=args.horizon,
            step=args.horizon,
            actual_column="demand",
            censoring=method,
        )
        by_method = {row.pop("method"): row for row in results.iter_rows(named=True)}
        model_wape = by_method["model"]["wape"]
        print(
            json.dumps(
                {
                    "bench": "forecast_accuracy",
                    "censoring": method,
                    "series": args.stores * args.skus,
                    "days": args.days,
                    "stock_cover": cover,
                    "sold_out_share": round(float(history["sold_out"].mean()), 3),
                    "wape_gain_vs_seasonal_naive": round(
                        1 - model_wape / by_method["seasonal_naive"]["wape"], 3
                    ),
                    "wape_gain_vs_mean_4w": round(1 - model_wape / by_method["mean_4w"]["wape"], 3),
                    "methods": {
                        name: {
                            k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                        }
                        for name, row in by_method.items()
                    },
                    "seconds": round(time.perf_counter() - started, 1),
                    "load": os.getloadavg()[0],
                }
            )
        )


def scale(args: argparse.Namespace) -> None:
    history = generate_history(
        n_stores=args.stores, n_skus=args.skus, days=args.days, seed=args.seed
    ).drop("demand", "expected_demand")
    started = time.perf_counter()
    output, summary = forecast(history, args.horizon)
    print(
        json.dumps(
            {
                "bench": "forecast_scale",
                "rows": history.height,
                "series": summary.series,
                "horizon": args.horizon,
                "output_rows": output.height,
                "seconds": round(time.perf_counter() - started, 1),
                "peak_rss_mib": round(_peak_rss_mib()),
                "load": os.getloadavg()[0],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, function in (("accuracy", accuracy), ("scale", scale)):
        command = sub.add_parser(name)
        command.add_argument("--stores", type=int, default=10)
        command.add_argument("--skus", type=int, default=10)
        command.add_argument("--days", type=int, default=1095)
        command.add_argument("--horizon", type=int, default=14)
        command.add_argument("--seed", type=int, default=0)
        command.set_defaults(function=function)
        if name == "accuracy":
            command.add_argument("--origins", type=int, default=4)
            command.add_argument(
                "--stock-cover",
                type=float,
                default=1.2,
                help="stock as a multiple of last week's demand; 0: no stock limit",
            )
            command.add_argument(
                "--censoring",
                nargs="+",
                default=["impute", "ignore"],
                choices=["impute", "exclude", "ignore"],
            )
    args = parser.parse_args()
    args.function(args)


if __name__ == "__main__":
    main()
