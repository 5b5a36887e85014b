"""The silver transforms are plain Spark: JVM PySpark local[2] gives what Sail gives.

The JVM half runs in a subprocess (`jvm_silver_job.py`): a classic session and the
test process's Spark Connect session do not mix in one interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from silver_testkit import TEST_KEY, bronze_frames, canonical_rows, scenario_rows

from transforms.pipeline import DAILY_TABLES, MASTER_TABLES, silver_frames

pytestmark = [
    pytest.mark.jvm,
    pytest.mark.skipif(shutil.which("java") is None, reason="needs java"),
]
JOB = Path(__file__).with_name("jvm_silver_job.py")
TABLES = (*MASTER_TABLES, *DAILY_TABLES)


def test_jvm_spark_gives_the_same_silver(spark, tmp_path):
    out = tmp_path / "jvm.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED"}
    }
    completed = subprocess.run(
        [sys.executable, str(JOB), str(out), ",".join(TABLES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    jvm = json.loads(out.read_text(encoding="utf-8"))

    frames = silver_frames(bronze_frames(spark, scenario_rows()), TEST_KEY)
    for table in TABLES:
        sail = [list(row) for row in canonical_rows(frames[table])]
        assert sail == jvm[table], table
    assert jvm["orders"], "the scenario has orders"
