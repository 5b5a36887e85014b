"""`bakehouse resolve` against a stock splink model on labelled sets, and at 100k records.

    .venv/bin/python bench/bench_resolve.py quality --people 2000
    .venv/bin/python bench/bench_resolve.py quality --kinds typo --people 2000 --family-rate 0
    .venv/bin/python bench/bench_resolve.py scale --records 100000

`quality` generates each kind of labelled set (bench/resolve/generate.py) for each
people count, resolves it with `resolve` and with the stock splink model
(bench/resolve/evaluate.py), and prints one JSON line per set and method: pairwise
precision, recall, F1, seconds. `scale` times `resolve_file` on a typo-kind file of
about the given number of records (CSV in, CSV out) and prints its scores too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _scores(scores) -> dict:
    return {k: getattr(scores, k) for k in ("precision", "recall", "f1", "records", "true_people")}


def quality(kinds: list[str], people_counts: list[int], seed: int, family_rate: float) -> None:
    from bakehouse.resolve import resolve_frame
    from bench.resolve.evaluate import score, stock_splink
    from bench.resolve.generate import labelled_people

    for kind in kinds:
        for people in people_counts:
            data = labelled_people(kind, people, seed=seed, family_rate=family_rate)
            started = time.perf_counter()
            result, _, _ = resolve_frame(data.drop("true_id"))
            seconds = time.perf_counter() - started
            line = {"kind": kind, "people": people, "families": family_rate, "method": "resolve"}
            print(
                json.dumps({**line, **_scores(score(result, data)), "seconds": round(seconds, 1)})
            )
            started = time.perf_counter()
            stock = stock_splink(data.drop("true_id"))
            seconds = time.perf_counter() - started
            line["method"] = "stock splink"
            print(json.dumps({**line, **_scores(score(stock, data)), "seconds": round(seconds, 1)}))
            sys.stdout.flush()


def scale(records: int, seed: int) -> None:
    from bakehouse.resolve import resolve_file
    from bench.resolve.evaluate import evaluate_resolve
    from bench.resolve.generate import labelled_people

    data = labelled_people("typo", round(records / 1.93), seed=seed)
    with tempfile.TemporaryDirectory() as home:
        source, output, truth = (Path(home) / n for n in ("people.csv", "out.csv", "truth.csv"))
        data.drop("true_id").write_csv(source)
        data.select("record_id", "true_id").write_csv(truth)
        started = time.perf_counter()
        summary = resolve_file(source, output)
        seconds = time.perf_counter() - started
        scores = evaluate_resolve(output, truth)
    print(
        json.dumps(
            {
                "bench": "resolve_scale",
                "records": data.height,
                "seconds": round(seconds, 1),
                "linked_pairs": summary.linked_pairs,
                **_scores(scores),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--kinds", nargs="+", default=["typo", "nickname", "crowd", "chinese"])
    q.add_argument("--people", nargs="+", type=int, default=[2000])
    q.add_argument("--seed", type=int, default=7)
    q.add_argument("--family-rate", type=float, default=0.04)
    s = sub.add_parser("scale")
    s.add_argument("--records", type=int, default=100_000)
    s.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.command == "quality":
        quality(args.kinds, args.people, args.seed, args.family_rate)
    else:
        scale(args.records, args.seed)


if __name__ == "__main__":
    main()
