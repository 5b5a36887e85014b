"""Bronze ingestion benchmark: one SF1 day and 30 days at SF0.1, against the parse floor.

For each case the landing files are ingested into a fresh lakehouse (all feeds) and,
separately, only decoded and parsed with polars (CSV: `read_csv` all-text; JSON lines:
`read_ndjson`; XLSX: calamine): the floor no ingestion can beat. Each measurement runs
in its own process so that peak RSS is the ingestion's alone.

    .venv/bin/python bench/bench_bronze.py                      # simulate both cases
    .venv/bin/python bench/bench_bronze.py --landing DIR        # an existing landing/
    .venv/bin/python bench/bench_bronze.py --repeat 3           # 3 back-to-back pairs

The machine is shared, so with `--repeat N` each case is measured as N pairs (ingest,
then floor, back to back): the table shows the median of each, and "× floor" is the
median of the pairs' ratios (each pair saw about the same load).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _landing_files(landing: Path) -> list[Path]:
    from ingestion.common.files import discover

    return [f.path for f in discover(landing)]


def worker_ingest(landing: Path) -> dict:
    # Library imports stay outside the timings, as the floor's polars and calamine do:
    # deltalake imports pandas on its first write (~0.5 s, once per process).
    import deltalake  # noqa: F401
    import pandas  # noqa: F401

    from bakehouse.config import Settings
    from ingestion import ingest

    home = Path(tempfile.mkdtemp(prefix="bench_bronze_"))
    try:
        settings = Settings(home=home)
        settings.ensure_dirs()
        settings.landing.rmdir()
        settings.landing.symlink_to(landing.resolve(), target_is_directory=True)
        began, cpu = time.perf_counter(), time.process_time()
        report = ingest(settings)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        totals = report.totals
        largest = max((p.stat().st_size for p in _landing_files(landing)), default=0)
        return {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "rows": totals.rows_read,
            "landed": totals.rows_landed,
            "quarantined": totals.rows_quarantined,
            "files": totals.files,
            "bytes": sum(p.stat().st_size for p in _landing_files(landing)),
            "largest_file_mb": largest / 2**20,
            "peak_rss_mb": _peak_rss_mb(),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def worker_floor(landing: Path) -> dict:
    import polars as pl
    from python_calamine import CalamineWorkbook

    from ingestion.common.files import discover

    files = discover(landing)
    began, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for landing_file in files:
        feed = landing_file.feed
        if feed is None:
            continue
        data = landing_file.path.read_bytes()
        if not data:
            continue
        if feed.format == "xlsx":
            try:
                sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(
                    feed.sheet
                )
            except Exception:
                continue
            rows += max(0, len(sheet.to_python()) - feed.header_row)
            continue
        codec = {"gbk": "gb18030"}.get(feed.encoding, feed.encoding)
        text = data.decode(codec, errors="replace").encode()
        if feed.format == "jsonl":
            try:
                rows += len(pl.read_ndjson(io.BytesIO(text)))
            except Exception:
                rows += text.count(b"\n")
        else:
            try:
                rows += len(
                    pl.read_csv(io.BytesIO(text), infer_schema=False, truncate_ragged_lines=True)
                )
            except Exception:
                rows += text.count(b"\n")
    return {
        "seconds": time.perf_counter() - began,
        "cpu_seconds": time.process_time() - cpu,
        "rows": rows,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _run_worker(kind: str, landing: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--landing", str(landing)],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _simulate(target: Path, scale: float, days: int) -> Path:
    from bakehouse.sim import simulate

    if not (target / "landing").exists():
        simulate(
            target / "landing",
            target / "truth",
            scale=scale,
            start=date(2026, 10, 1),
            days=days,
            seed=42,
            faults=False,
        )
    return target / "landing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--landing",
        type=Path,
        action="append",
        help="existing landing dir(s) to measure instead of simulating",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "bench_bronze",
        help="where simulated landings are kept between runs",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure each case as N ingest/floor pairs"
    )
    parser.add_argument("--worker", choices=["ingest", "floor"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = (worker_ingest if args.worker == "ingest" else worker_floor)(args.landing[0])
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.table import Table

    if args.landing:
        cases = [(str(p), p) for p in args.landing]
    else:
        cases = [
            ("SF1 × 1 day", _simulate(args.work / "sf1_1d", 1.0, 1)),
            ("SF0.1 × 30 days", _simulate(args.work / "sf01_30d", 0.1, 30)),
        ]
    table = Table(title="Bronze ingestion (all feeds, fresh lakehouse)")
    for column in (
        "case",
        "files",
        "rows",
        "MB",
        "ingest s",
        "rows/s",
        "MB/s",
        "peak RSS MB",
        "largest file MB",
        "parse floor s",
        "× floor",
    ):
        table.add_column(column, justify="right" if column != "case" else "left")
    for name, landing in cases:
        pairs = [
            (_run_worker("ingest", landing), _run_worker("floor", landing))
            for _ in range(max(1, args.repeat))
        ]
        ingested = dict(pairs[0][0])
        ingested["seconds"] = statistics.median(i["seconds"] for i, _ in pairs)
        ingested["peak_rss_mb"] = max(i["peak_rss_mb"] for i, _ in pairs)
        floor = {"seconds": statistics.median(f["seconds"] for _, f in pairs)}
        ratio = statistics.median(i["seconds"] / f["seconds"] for i, f in pairs)
        # CPU seconds (all threads) are less bent by other processes than wall time.
        each = ", ".join(
            f"{i['seconds']:.1f}/{f['seconds']:.1f}={i['seconds'] / f['seconds']:.2f}"
            f" (CPU {i['cpu_seconds']:.1f}/{f['cpu_seconds']:.1f})"
            for i, f in pairs
        )
        print(f"{name}: ingest s / floor s per pair: {each}", flush=True)
        mb = ingested["bytes"] / 2**20
        table.add_row(
            name,
            str(ingested["files"]),
            f"{ingested['rows']:,}",
            f"{mb:.1f}",
            f"{ingested['seconds']:.2f}",
            f"{ingested['rows'] / ingested['seconds']:,.0f}",
            f"{mb / ingested['seconds']:.1f}",
            f"{ingested['peak_rss_mb']:.0f}",
            f"{ingested['largest_file_mb']:.1f}",
            f"{floor['seconds']:.2f}",
            f"{ratio:.2f}",
        )
    console = Console(width=220)
    console.print(table)
    # The machine is shared (2 cores): the load says how much the figures are inflated.
    one, five, fifteen = os.getloadavg()
    console.print(f"load average after the run: {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)")


if __name__ == "__main__":
    main()
