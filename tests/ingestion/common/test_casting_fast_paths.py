"""Typing a column through its common form first gives what the general parser gives."""

from __future__ import annotations

import polars as pl
import pytest

from ingestion.common import casting

VALUES = {
    "date": ["2026-11-01", "2026/11/01", " 2026-11-01 ", "2026-02-30", "", None, "11/01/2026"],
    "timestamp": [
        "2026-10-15T10:01:52+08:00",
        "2026-10-15T10:01:52Z",
        "2026/11/01 07:02:01",
        "2026-11-01 07:02",
        " 2026-10-15T10:01:52+08:00 ",
        "2026-13-45T00:00:00+08:00",
        "",
        None,
        "soon",
    ],
    "int": [
        "12",
        "-7",
        "0",
        "-0",
        "+5",
        "007",
        " 42 ",
        "",
        None,
        "1.0",
        "1e3",
        "x",
        "999999999999999999",
        "1000000000000000000",
        "-999999999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
    ],
    "bool": ["true", "false", "True", " false ", "1", "0", "是", "否", "", None, "maybe"],
}


@pytest.mark.parametrize("type_name", VALUES)
def test_fast_path_equals_general(type_name: str) -> None:
    rows = pl.DataFrame({"v": VALUES[type_name]}, schema={"v": pl.String})
    parsed = casting._parse_column(rows, "v", type_name)
    assert parsed is not None
    value, failed = casting._typed(pl.col("v"), type_name)
    expected = rows.select(
        value.cast(casting.polars_type(type_name)).alias("value"), failed.alias("failed")
    )
    assert parsed[0].to_list() == expected["value"].to_list()
    assert parsed[1].to_list() == expected["failed"].to_list()
