"""A JSON-lines file streamed in chunks lands exactly as if it had been read whole."""

from __future__ import annotations

import polars as pl
import pytest

from bakehouse.config import Settings
from bakehouse.lake import Lake
from ingestion import ingest, pipeline
from ingestion.common import jsonl_reader
from tests.ingestion.common.test_jsonl_faults import FILE, _line
from tests.ingestion.conftest import assert_accounting, ledger_row, read_table


def _landing_text() -> str:
    """Faults spread over what become several chunks: a bad line, a bad value, an extra
    key only late in the file, blank lines, and a truncated last line."""
    lines = [_line(order_id=f"MP{i}", points_used=...) for i in range(40)]
    lines[12] = "{not json"
    lines[25] = _line(order_id="MP25", created_at="2026-13-45T00:00:00+08:00", points_used=...)
    lines[30] = _line(order_id="MP30", gift_note="生日快乐", points_used=...)
    lines.insert(20, "")
    return "\n".join(lines) + "\n" + _line(order_id="MP_last")[:40]


def _ingest(settings: Settings, landing) -> dict[str, object]:
    landing(FILE, _landing_text())
    ingest(settings)
    assert_accounting(settings)
    row = ledger_row(settings, FILE)
    bronze = read_table(settings, "bronze", "mp_orders").drop("batch_id", "ingested_at")
    quarantine = read_table(settings, "quarantine", "mp_orders").select(
        "source_row", "reason_code", "reason_detail", "raw_line"
    )
    return {
        "ledger": {k: row[k] for k in ("status", "notes", "rows_read", "rows_landed")}
        | {"rows_quarantined": row["rows_quarantined"]},
        "bronze": bronze.sort("source_row"),
        "quarantine": quarantine.sort("source_row"),
        "versions": Lake(settings).version("bronze", "mp_orders"),
    }


def test_streamed_file_lands_as_if_read_whole(
    settings: Settings, landing, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _ingest(settings, landing)
    other = Settings(home=tmp_path / "streamed")
    other.ensure_dirs()

    def landing_other(relative: str, content: str) -> None:
        path = other.landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode())

    monkeypatch.setattr(pipeline, "STREAM_CHUNK_BYTES", 2_000)  # about 4 lines a chunk
    streamed = _ingest(other, landing_other)
    assert streamed["ledger"] == whole["ledger"]
    assert whole["ledger"]["rows_quarantined"] == 3
    assert "extra_columns:gift_note" in whole["ledger"]["notes"]
    assert streamed["quarantine"].equals(whole["quarantine"])
    assert streamed["bronze"].equals(whole["bronze"])
    assert streamed["versions"] == whole["versions"]  # one commit, however many chunks
    assert pl.Series(streamed["bronze"]["extra_json"]).drop_nulls().len() == 1


@pytest.mark.parametrize("size", [1, 7, 40, 1_000, 10_000])
def test_read_chunks_cuts_after_the_first_newline_past_size(tmp_path, size: int) -> None:
    data = _landing_text().encode()
    path = tmp_path / "file.jsonl"
    path.write_bytes(data)
    expected, start = [], 0
    while start < len(data):
        end = data.find(b"\n", start + size)
        end = len(data) if end < 0 else end + 1
        expected.append(data[start:end])
        start = end
    assert list(jsonl_reader.read_chunks(path, size)) == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"plain", "门店".encode(), b"\xff", "门".encode()[:2], b"\xc0\xaf", b"\xed\xa0\x80"],
)
def test_utf8_check_agrees_with_python(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        assert not jsonl_reader.valid_utf8(data)
    else:
        assert jsonl_reader.valid_utf8(data)
