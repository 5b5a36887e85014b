"""The JSON-lines fast paths give exactly what the general path gives.

- the key census (`_census_parse`): a flat feed is parsed with the contract's keys only
  when counting proves no key is lost; extra and missing keys stay exact;
- `keep_lines=False`: no raw lines are split out, and the few rows that fail typing
  get theirs back from the bytes.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from bakehouse.config import Settings
from ingestion import ingest, pipeline
from ingestion.common import jsonl_reader
from ingestion.common.jsonl_reader import read_jsonl
from ingestion.schemas import FEEDS_BY_NAME
from tests.ingestion.conftest import assert_accounting, ledger_row, read_table

FEED = FEEDS_BY_NAME["mp_members"]
FILE = "miniprogram/mp_members_20261121.jsonl"
MEMBER = {
    "member_id": "U1",
    "card_no": "M1",
    "unionid": "oUn1",
    "openid": "oOp1",
    "phone": "13812345678",
    "name": "张雨桐",
    "gender": "F",
    "birthday": "1999-02-08",
    "register_time": "2026-10-15T10:01:52+08:00",
    "register_channel": "POS",
    "register_store": "SH101",
    "level": "GOLD",
    "points_balance": 120,
    "marketing_consent": True,
    "consent_updated_at": "2026-10-15T10:01:52+08:00",
    "is_deleted": False,
    "updated_at": "2026-11-21T09:12:44+08:00",
}


def _member(i: int, separators: tuple[str, str] = (", ", ": "), **changes) -> str:
    record = {**MEMBER, "member_id": f"U{i}", **changes}
    record = {k: v for k, v in record.items() if v is not ...}
    return json.dumps(record, ensure_ascii=False, separators=separators)


def _body(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _general(body: bytes):
    """The reference: schema inference over every record, raw lines kept."""
    census = jsonl_reader._census_parse
    try:
        jsonl_reader._census_parse = lambda feed, body: None
        return read_jsonl(FEED, body)
    finally:
        jsonl_reader._census_parse = census


CASES = {
    "plain, nulls": [_member(1, birthday=None), _member(2, unionid=None)],
    "compact separators": [
        _member(1, (",", ":"), birthday=None),
        _member(2, (",", ":"), unionid=None),
    ],
    "extra key": [_member(1), _member(2, gift="x")],
    "extra key only ever null": [_member(1), _member(2, gift=None)],
    "extra key, nested object": [_member(1), _member(2, extra={"member_id": "U9"})],
    "extra key with space before the colon": [
        _member(1),
        _member(2).replace('{"member_id"', '{"gift" : 1, "member_id"'),
    ],
    "optional key absent everywhere": [_member(1, level=...), _member(2, level=...)],
    "optional key only ever null": [_member(1, level=None), _member(2, level=None)],
    "optional key absent from some records": [_member(1, level=...), _member(2)],
    "known key nested in a known key": [_member(1), _member(2, name={"phone": None})],
    "escaped quote and colon in a value": [_member(1, name='a\\": "b'), _member(2)],
    "value starting with a colon": [_member(1, name=":)"), _member(2)],
    "escaped key name": [_member(1).replace('"level"', '"\\u006cevel"'), _member(2)],
    "duplicate key": [_member(1).replace('{"member_id"', '{"phone": "1", "member_id"')],
    "required key absent everywhere": [_member(1, is_deleted=...), _member(2, is_deleted=...)],
}


@pytest.mark.parametrize("overlap", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_census_parse_equals_inference(
    case: str, overlap: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if overlap:  # count bytes in this thread while polars parses in another
        monkeypatch.setattr(jsonl_reader, "_OVERLAP_BYTES", 0)
    body = _body(*CASES[case])
    expected = _general(body)
    for keep_lines in (True, False):
        got = read_jsonl(FEED, body, keep_lines=keep_lines)
        assert got.notes == expected.notes, case
        assert got.rejects == expected.rejects, case
        assert got.rows_read == expected.rows_read
        frame = got.frame
        if got.lines_from is not None:
            assert frame["__raw_line"].is_null().all()
            frame = frame.with_columns(
                jsonl_reader.raw_lines(got.lines_from, frame["source_row"]).alias("__raw_line")
            )
        assert frame.equals(expected.frame), case


def test_census_is_used_on_a_plain_dump() -> None:
    body = _body(*[_member(i, birthday=None if i % 3 else "2000-01-01") for i in range(50)])
    assert jsonl_reader._census_parse(FEED, body) is not None
    assert jsonl_reader._census_parse(FEED, _body(_member(1), _member(2, gift=None))) is None


def test_streamed_fast_path_quarantines_the_raw_line(
    settings: Settings, landing, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [_member(i) for i in range(40)]
    lines[17] = _member(17, updated_at="2026-13-45T00:00:00+08:00")
    lines[33] = _member(33, points_balance="lots")
    text = "\n".join(lines) + "\n"

    def run(home: Settings, chunk: int | None) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
        path = home.landing / FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if chunk:
            monkeypatch.setattr(pipeline, "STREAM_CHUNK_BYTES", chunk)
        ingest(home)
        assert_accounting(home)
        row = ledger_row(home, FILE)
        quarantine = read_table(home, "quarantine", "mp_members").sort("source_row")
        bronze = read_table(home, "bronze", "mp_members").drop("batch_id", "ingested_at")
        return row, quarantine, bronze.sort("source_row")

    whole_row, whole_q, whole_b = run(settings, None)
    other = Settings(home=tmp_path / "streamed")
    other.ensure_dirs()
    row, quarantine, bronze = run(other, 3_000)
    assert (row["rows_read"], row["rows_landed"], row["rows_quarantined"]) == (40, 38, 2)
    assert quarantine["source_row"].to_list() == [18, 34]
    assert quarantine["raw_line"].to_list() == [lines[17], lines[33]]
    assert quarantine["reason_code"].to_list() == ["bad_timestamp", "bad_number"]
    cols = ["source_row", "reason_code", "reason_detail", "raw_line"]
    assert quarantine.select(cols).equals(whole_q.select(cols))
    assert bronze.equals(whole_b)
    assert row["notes"] == whole_row["notes"]


def test_prefetched_keeps_order_raises_and_stops() -> None:
    assert list(pipeline._prefetched(iter(range(100)))) == list(range(100))

    def failing():
        yield 1
        raise ValueError("boom")

    got = pipeline._prefetched(failing())
    assert next(got) == 1
    with pytest.raises(ValueError, match="boom"):
        next(got)

    produced = []

    def endless():
        for i in range(10_000):
            produced.append(i)
            yield i

    early = pipeline._prefetched(endless())
    assert next(early) == 0
    early.close()  # the worker stops, at most a few items ahead
    assert len(produced) <= 4


@pytest.mark.parametrize(
    "body",
    [
        *(_body(*lines) for lines in CASES.values()),
        b':{"a":1}\n',
        b'{"a"\t:1}\n',
        b'{"a" :1}\n',
        b'{"a": "x:y", "b":2}\n',
        b"",
    ],
)
def test_key_tokens_is_the_guarded_byte_count(body: bytes) -> None:
    guarded = b"\\" in body or b" :" in body or b"\t:" in body
    assert jsonl_reader._key_tokens(body) == (None if guarded else body.count(b'":'))
