"""Cost of the export-fault checks on the JSON-lines fast path (issue 15).

Reads one synthetic `mp_members` body (the sample's first record repeated with distinct
ids; ~100 MB, 200,000 lines) with `read_jsonl(keep_lines=False)` and with the same
reading without the checks (`_read_jsonl`), twice each, and prints the seconds and the
parts: splitting the lines out, the per-line checks (`line_faults`, `id_number_faults`)
and the `normalisable:N` count.

    .venv/bin/python bench/bench_jsonl_checks.py [--lines 200000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SAMPLE = REPO.parent / "shared" / "samples" / "landing" / "miniprogram"


def main() -> None:
    from ingestion.common import jsonl_reader as reader
    from ingestion.common.rows import normalisable_count
    from ingestion.schemas import FEEDS_BY_NAME

    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--sample-dir", type=Path, default=SAMPLE)
    args = parser.parse_args()
    feed = FEEDS_BY_NAME["mp_members"]
    first = sorted(args.sample_dir.glob("mp_members_*.jsonl"))[0]
    record = json.loads(first.read_text(encoding="utf-8").splitlines()[0])
    body = (
        "\n".join(
            json.dumps({**record, "member_id": f"U{i}"}, ensure_ascii=False)
            for i in range(args.lines)
        )
        + "\n"
    ).encode()

    def timed(call, *args, **kwargs) -> tuple[float, object]:
        started = time.perf_counter()
        result = call(*args, **kwargs)
        return time.perf_counter() - started, result

    for _ in range(2):
        checked, raw = timed(reader.read_jsonl, feed, body, keep_lines=False)
        unchecked, bare = timed(reader._read_jsonl, feed, body, keep_lines=False)
        split, lines = timed(reader.split_lines, body)
        per_line, _ = timed(reader.line_faults, lines, bare.frame, feed)
        numbers, _ = timed(reader.id_number_faults, feed, lines)
        counted, _ = timed(normalisable_count, feed, raw.frame)
        print(
            json.dumps(
                {
                    "mb": round(len(body) / 1e6, 1),
                    "read_jsonl_s": round(checked, 2),
                    "without_checks_s": round(unchecked, 2),
                    "split_lines_s": round(split, 2),
                    "line_faults_s": round(per_line, 2),
                    "id_number_faults_s": round(numbers, 2),
                    "normalisable_s": round(counted, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
