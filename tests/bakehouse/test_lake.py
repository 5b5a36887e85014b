"""The lake core: Spark writes, replaceWhere, MERGE, delta-rs writes and maintenance."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from bakehouse.lake import LakeError

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
SCHEMA = "id long, amount double, business_date date"


def _rows(lake, layer, table):
    return sorted(tuple(r) for r in lake.read(layer, table).collect())


def test_replace_where_rewrites_only_the_matching_rows_atomically(lake, spark) -> None:
    # A timestamp column under the Asia/Shanghai session zone: Sail's own replaceWhere
    # fails on exactly this, so Lake must not depend on it.
    schema = "id long, sold_at timestamp, business_date date"
    at = dt.datetime(2026, 11, 1, 8, 15)
    first = spark.createDataFrame([(1, at, D1), (2, at, D2)], schema)
    lake.write(first, "silver", "t", partition_by=["business_date"])
    again = spark.createDataFrame([(3, at, D1)], schema)
    lake.write(again, "silver", "t", replace_where="business_date = DATE'2026-11-01'")
    assert _rows(lake, "silver", "t") == [(2, at, D2), (3, at, D1)]
    assert lake.version("silver", "t") == 1


def test_merge_upserts_creates_and_deletes(lake, spark) -> None:
    lake.merge(spark.createDataFrame([(1, 1.0, D1), (2, 2.0, D1)], SCHEMA), "silver", "m", ["id"])
    update = spark.createDataFrame([(1, 10.0, D1), (2, -1.0, D1), (3, 3.0, D2)], SCHEMA)
    lake.merge(update, "silver", "m", ["id"], delete_when="s.amount < 0")
    assert _rows(lake, "silver", "m") == [(1, 10.0, D1), (3, 3.0, D2)]


def test_merge_names_the_missing_columns(lake, spark) -> None:
    lake.merge(spark.createDataFrame([(1, 1.0, D1)], SCHEMA), "silver", "m", ["id"])
    narrower = spark.createDataFrame([(1, 1.0)], "id long, amount double")
    with pytest.raises(LakeError, match=r"not in source \['business_date'\]"):
        lake.merge(narrower, "silver", "m", ["id"])
    with pytest.raises(LakeError, match=r"source lacks key columns \['order_id'\]"):
        lake.merge(narrower, "silver", "m", ["order_id"])


def test_write_arrow_predicate_replaces_atomically(lake) -> None:
    data = pa.table({"source_file": ["a", "a", "b"], "x": [1, 2, 3]})
    lake.write_arrow(data, "bronze", "f")
    lake.write_arrow(
        pa.table({"source_file": ["a"], "x": [9]}),
        "bronze",
        "f",
        mode="overwrite",
        predicate="source_file = 'a'",
    )
    rows = sorted(lake.read_arrow("bronze", "f").to_pylist(), key=lambda r: r["x"])
    assert rows == [{"source_file": "b", "x": 3}, {"source_file": "a", "x": 9}]
    assert lake.version("bronze", "f") == 1  # one commit for delete + insert
    assert lake.history("bronze", "f", 1)[0]["operation"] == "WRITE"


def test_spark_reads_what_delta_rs_wrote_and_time_travels(lake) -> None:
    lake.write_arrow(pa.table({"x": [1, 2]}), "bronze", "rs")
    lake.write_arrow(pa.table({"x": [3]}), "bronze", "rs")
    assert lake.read("bronze", "rs").count() == 3
    assert lake.read("bronze", "rs", version=0).count() == 2


def test_maintenance_compacts_and_vacuums(lake) -> None:
    for x in range(4):
        lake.write_arrow(pa.table({"x": [x]}), "gold", "small_files")
    metrics = lake.optimize("gold", "small_files")
    assert metrics["numFilesRemoved"] == 4 and metrics["numFilesAdded"] == 1
    removed = lake.vacuum("gold", "small_files", retention_hours=0)
    assert len(removed) == 4
    assert lake.read_arrow("gold", "small_files").num_rows == 4
    assert lake.tables("gold") == ["small_files"]


def test_bad_names_and_missing_tables_are_clear_errors(lake) -> None:
    with pytest.raises(LakeError, match="invalid table name"):
        lake.path("silver", "a/b")
    with pytest.raises(ValueError, match="unknown lake layer"):
        lake.path("platinum", "t")
    with pytest.raises(LakeError, match=r"silver\.absent does not exist"):
        lake.read("silver", "absent")
