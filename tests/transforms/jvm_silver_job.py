"""Run the silver pipeline on JVM PySpark local[2] and dump its tables as JSON.

Started in a subprocess by `test_jvm_spark.py`: a classic (JVM) session cannot live
beside the Spark Connect session of the test process. No Delta jars are needed: the
inputs are built from the scenario's Python rows.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.pop("SPARK_REMOTE", None)
os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)


def main(out: str, tables: list[str]) -> None:
    from pyspark.sql import SparkSession
    from silver_testkit import TEST_KEY, bronze_frames, canonical_rows, scenario_rows

    from transforms.pipeline import silver_frames

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("bakehouse-silver-jvm")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        frames = silver_frames(bronze_frames(spark, scenario_rows()), TEST_KEY)
        result = {t: canonical_rows(frames[t]) for t in tables}
    finally:
        spark.stop()
    Path(out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].split(","))
