"""Edges of the silver build that the channel tests do not reach."""

from __future__ import annotations

import datetime as dt

from transforms.build import _stage, replace_dates


def test_an_empty_night_keeps_its_schema_through_staging(spark, tmp_path) -> None:
    empty = spark.createDataFrame([], "business_date date, platform string, revenue double")
    staged = _stage(empty, tmp_path / "unmapped")
    assert staged.columns == ["business_date", "platform", "revenue"]
    assert staged.count() == 0


def test_replacing_a_date_with_nothing_deletes_its_rows(lake, spark, tmp_path) -> None:
    schema = "business_date date, platform string, revenue double"
    day1, day2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
    first = spark.createDataFrame([(day1, "meituan", 1.0), (day2, "eleme", 2.0)], schema)
    replace_dates(lake, first, "unmapped_platform_names", ["business_date", "platform"], [day1])
    nothing = _stage(spark.createDataFrame([], schema), tmp_path / "empty")
    replace_dates(lake, nothing, "unmapped_platform_names", ["business_date", "platform"], [day1])
    rows = lake.read("silver", "unmapped_platform_names").collect()
    assert [(r.business_date, r.platform) for r in rows] == [(day2, "eleme")]
