"""Silver benchmark: one SF1 night incrementally, 30 days at SF0.1, Sail vs JVM Spark.

    .venv/bin/python bench/bench_silver.py night   --scale 1   --home /tmp/bh-sf1
    .venv/bin/python bench/bench_silver.py night   --scale 1   --home /tmp/bh-sf1i --identity
    .venv/bin/python bench/bench_silver.py history --scale 0.1 --days 30 --home /tmp/bh-sf01
    .venv/bin/python bench/bench_silver.py engines --home /tmp/bh-sf01

`night`: simulate `--days` days (default 2), ingest and build silver for all but the
last, then time the last night: its bronze ingest, and silver's incremental build
(`build_pending`, which reads the ledger). Goal: silver for one SF1 night <= 90 s.

`history`: simulate and ingest `--days` days, time a full silver rebuild over them, and
one more incremental night (a late copy of a file re-landed).

`engines`: export the home's bronze to parquet, run the same `transforms.pipeline`
code on Sail and on JVM PySpark local[2] (a subprocess), parquet in and out, and print
the ratio. Goal: Sail >= 5x faster. Each phase prints one line of JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
START = dt.date(2026, 10, 1)
BENCH_KEY = "bench-key-not-secret"


def _settings(home: Path):
    from bakehouse.config import Settings, apply_telemetry_off

    apply_telemetry_off()
    os.environ.setdefault("BAKEHOUSE_PII_KEY", BENCH_KEY)
    settings = Settings(home=home)
    settings.ensure_dirs()
    return settings


def _report(phase: str, **values) -> None:
    print(json.dumps({"phase": phase, **values}, default=str), flush=True)


def _simulate(settings, scale: float, days: int, seed: int) -> float:
    from bakehouse.sim import simulate

    if any(settings.landing.rglob("*.*")):
        return 0.0
    started = time.perf_counter()
    simulate(settings.landing, settings.truth, scale=scale, start=START, days=days, seed=seed)
    return time.perf_counter() - started


def _ingest(settings, dates: list[dt.date]) -> float:
    from ingestion import ingest

    started = time.perf_counter()
    ingest(settings, dates)
    return time.perf_counter() - started


def _lake(settings):
    from bakehouse.lake import Lake
    from bakehouse.spark import spark_session

    return Lake(settings, spark_session())


def night(home: Path, scale: float, days: int, seed: int, identity: bool = False) -> None:
    from bakehouse.pii import load_key
    from transforms.build import build_pending
    from transforms.identity.pipeline import run_identity

    settings = _settings(home)
    sim_seconds = _simulate(settings, scale, days, seed)
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    lake = _lake(settings)
    key = load_key(settings.pii_key_file)
    # The member base arrives as an onboarding dump dated START - 1.
    history = [START - dt.timedelta(days=1), *dates[:-1]] if identity else dates[:-1]
    history_ingest = _ingest(settings, history)
    started = time.perf_counter()
    build_pending(lake, key)
    history_silver = time.perf_counter() - started
    identity_figures = {}
    if identity:
        started = time.perf_counter()
        run_identity(lake, night=dates[-2], key=key)
        identity_figures["history_identity_full_s"] = round(time.perf_counter() - started, 1)
    night_ingest = _ingest(settings, dates[-1:])
    result = build_pending(lake, key)
    if identity:
        started = time.perf_counter()
        summary = run_identity(lake, night=dates[-1], key=key)
        seconds = time.perf_counter() - started
        identity_figures.update(
            night_identity_s=round(seconds, 1),
            night_identity_mode=summary.mode,
            night_affected_identifiers=summary.affected_identifiers,
            identifiers=summary.identifiers,
            people=summary.clusters,
            night_silver_and_identity_s=round(result.seconds + seconds, 1),
        )
    _report(
        "night",
        scale=scale,
        history_days=days - 1,
        simulate_s=round(sim_seconds, 1),
        history_ingest_s=round(history_ingest, 1),
        history_silver_full_s=round(history_silver, 1),
        night_ingest_s=round(night_ingest, 1),
        night_silver_s=round(result.seconds, 1),
        night_mode=result.mode,
        rebuilt_order_dates=sorted(d.isoformat() for d in result.dates.orders),
        orders=result.row_counts.get("orders"),
        order_lines=result.row_counts.get("order_lines"),
        **identity_figures,
    )


def history(home: Path, scale: float, days: int, seed: int) -> None:
    from bakehouse.pii import load_key
    from transforms.build import build_full, build_incremental

    settings = _settings(home)
    sim_seconds = _simulate(settings, scale, days, seed)
    dates = [START + dt.timedelta(days=i) for i in range(days)]
    ingest_seconds = _ingest(settings, dates)
    lake = _lake(settings)
    key = load_key(settings.pii_key_file)
    full = build_full(lake, key)
    # One more night: the last day's mini-program file changed (a re-export).
    last = dates[-1].strftime("%Y%m%d")
    incremental = build_incremental(lake, key, [f"miniprogram/mp_orders_{last}.jsonl"])
    _report(
        "history",
        scale=scale,
        days=days,
        simulate_s=round(sim_seconds, 1),
        ingest_s=round(ingest_seconds, 1),
        silver_full_s=round(full.seconds, 1),
        silver_incremental_s=round(incremental.seconds, 1),
        rows=full.row_counts,
    )


# -- Sail vs JVM on the same code, parquet in and out ------------------------------------
def _export_bronze(settings, out: Path) -> None:
    import pyarrow.parquet as pq

    from bakehouse.lake import Lake
    from transforms.pipeline import BRONZE_INPUTS

    lake = Lake(settings)
    out.mkdir(parents=True, exist_ok=True)
    for table in BRONZE_INPUTS:
        target = out / f"{table}.parquet"
        if lake.exists("bronze", table) and not target.exists():
            pq.write_table(lake.read_arrow("bronze", table), target)


def run_engine(engine: str, bronze_dir: Path, out_dir: Path) -> float:
    """Run `silver_frames` on parquet bronze and write every table as parquet."""
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from transforms.common.bronze import bronze_schema
    from transforms.pipeline import BRONZE_INPUTS, DAILY_TABLES, MASTER_TABLES, silver_frames

    if engine == "sail":
        from bakehouse.spark import spark_session

        spark = spark_session()
    else:
        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.sql.session.timeZone", "Asia/Shanghai")
            .config("spark.driver.memory", "6g")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
    started = time.perf_counter()
    bronze = {}
    for table in BRONZE_INPUTS:
        schema = bronze_schema(table)
        path = bronze_dir / f"{table}.parquet"
        if path.exists():
            raw = spark.read.parquet(str(path))
            present = set(raw.columns)
            bronze[table] = raw.select(
                *[
                    (F.col(f.name) if f.name in present else F.lit(None))
                    .cast(f.dataType)
                    .alias(f.name)
                    for f in schema.fields
                ]
            )
        else:
            bronze[table] = spark.createDataFrame([], schema)
    frames = silver_frames(bronze, BENCH_KEY.encode())
    for table in (*MASTER_TABLES, *DAILY_TABLES):
        frames[table].write.mode("overwrite").parquet(str(out_dir / engine / table))
    return time.perf_counter() - started


def engines(home: Path) -> None:
    settings = _settings(home)
    bronze_dir = home / "bench" / "bronze_parquet"
    out_dir = home / "bench" / "silver_parquet"
    _export_bronze(settings, bronze_dir)
    sail = run_engine("sail", bronze_dir, out_dir)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED"}
    }
    completed = subprocess.run(
        [sys.executable, __file__, "_jvm", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    jvm = float(completed.stdout.strip().splitlines()[-1])
    _report(
        "engines", sail_s=round(sail, 1), jvm_s=round(jvm, 1), sail_speedup=round(jvm / sail, 1)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("phase", choices=["night", "history", "engines", "_jvm"])
    parser.add_argument("--home", type=Path, required=True, help="bench home (created)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--identity", action="store_true", help="night: OneID too (silver + identity night)"
    )
    args = parser.parse_args()
    home = args.home.resolve()
    if args.phase == "night":
        night(home, args.scale, args.days, args.seed, identity=args.identity)
    elif args.phase == "history":
        history(home, args.scale, args.days, args.seed)
    elif args.phase == "engines":
        engines(home)
    else:
        seconds = run_engine(
            "jvm", home / "bench" / "bronze_parquet", home / "bench" / "silver_parquet"
        )
        print(seconds)


if __name__ == "__main__":
    main()
