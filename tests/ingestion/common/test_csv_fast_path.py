"""The CSV fast path (`csv_reader._read_simple`) gives exactly what the general path gives.

It is taken only for files without quotes or stray carriage returns; any file it
declines (blank line, wrong field count, missing column, ...) is read the general way.
"""

from __future__ import annotations

import pytest

from ingestion.common import csv_reader
from ingestion.common.csv_reader import read_csv
from ingestion.common.rows import FileRejected
from ingestion.schemas import FEEDS_BY_NAME
from tests.ingestion.conftest import POS_HEADER, POS_ROW, POS_ROW_2, pos_text

FEED = FEEDS_BY_NAME["pos_sales"]
REORDERED = ",".join(reversed(POS_HEADER.split(",")))


def _reversed(row: str) -> str:
    return ",".join(reversed(row.split(",")))


CASES = {
    "crlf": pos_text(POS_ROW, POS_ROW_2),
    "lf": pos_text(POS_ROW, POS_ROW_2, newline="\n"),
    "no final newline": pos_text(POS_ROW, POS_ROW_2).removesuffix("\r\n"),
    "truncated last line": pos_text(POS_ROW, POS_ROW_2[:30]).removesuffix("\r\n"),
    "blank line": pos_text(POS_ROW, "", POS_ROW_2),
    "wrong field count": pos_text(POS_ROW, POS_ROW_2 + ",x"),
    "extra column": pos_text(POS_ROW + ",x", POS_ROW_2 + ",", header=POS_HEADER + ",备注"),
    "missing optional column": pos_text(
        POS_ROW.rsplit(",", 1)[0], POS_ROW_2.rsplit(",", 1)[0], header=POS_HEADER.rsplit(",", 1)[0]
    ),
    "missing required column": pos_text(
        POS_ROW.split(",", 1)[1], POS_ROW_2.split(",", 1)[1], header=POS_HEADER.split(",", 1)[1]
    ),
    "reordered header": pos_text(_reversed(POS_ROW), _reversed(POS_ROW_2), header=REORDERED),
    "quoted field": pos_text(POS_ROW.replace("法式长棍", '"法式,长棍"'), POS_ROW_2),
    "stray carriage return": pos_text(POS_ROW.replace("法式长棍", "法式\r长棍"), POS_ROW_2),
    "header only": pos_text(),
    "header without newline": POS_HEADER,
}


def _read(data: bytes):
    try:
        return read_csv(FEED, data)
    except FileRejected as rejected:
        return rejected


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
@pytest.mark.parametrize("case", CASES)
def test_fast_path_equals_general(
    case: str, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = CASES[case].encode(encoding)
    got = _read(data)
    monkeypatch.setattr(csv_reader, "_read_simple", lambda *args: None)
    expected = _read(data)
    if isinstance(expected, FileRejected):
        assert got == expected
        return
    assert (got.notes, got.rejects, got.rows_read, got.encoding) == (
        expected.notes,
        expected.rejects,
        expected.rows_read,
        expected.encoding,
    )
    assert got.frame.schema == expected.frame.schema
    assert got.frame.equals(expected.frame), case


def test_fast_path_is_taken_on_a_plain_file() -> None:
    text = pos_text(POS_ROW, POS_ROW_2)
    assert csv_reader._read_simple(FEED, text, "gbk", []) is not None
    assert csv_reader._read_simple(FEED, pos_text(POS_ROW, "", POS_ROW_2), "gbk", []) is None
