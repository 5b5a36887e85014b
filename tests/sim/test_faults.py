"""Each fault kind is injected where truth/faults.jsonl says, and only with the flag."""

from __future__ import annotations

import json

import pytest
from python_calamine import CalamineWorkbook

from bakehouse.sim.faults import FAULT_KINDS
from tests.sim.readers import read_csv

# The ledger statuses and keys `expected` may use: bronze's own (bakehouse.sim.faults).
_STATUSES = {"landed", "rejected", "duplicate"}
_VOCABULARY = {
    "status",
    "reason",
    "rows_read",
    "rows_landed",
    "rows_quarantined",
    "quarantine_reason",
    "notes",
    "bronze_values",
}


def _faults(run) -> dict[str, dict]:
    entries = [json.loads(line) for line in (run.truth / "faults.jsonl").read_text().splitlines()]
    return {entry["fault"]: entry for entry in entries}


def test_every_fault_kind_is_injected_once_with_expected_handling(faulty_run) -> None:
    faults = _faults(faulty_run)
    assert set(faults) == set(FAULT_KINDS)
    assert len({entry["business_date"] for entry in faults.values()}) == 3
    for entry in faults.values():
        assert (faulty_run.landing / entry["file"]).is_file()
        expected = entry["expected"]
        assert set(expected) <= _VOCABULARY and expected["status"] in _STATUSES, entry
        assert expected["rows_read"] == expected["rows_landed"] + expected["rows_quarantined"]
        if expected["status"] != "landed":
            assert expected["reason"] and expected["rows_read"] == 0, entry
    assert faulty_run.summary.faults_injected == len(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_fault_is_visible_in_its_file(faulty_run, kind: str) -> None:
    entry = _faults(faulty_run)[kind]
    path = faulty_run.landing / entry["file"]
    data = path.read_bytes()
    if kind == "wrong_encoding":
        assert "门店编码" in data.decode("utf-8")
    elif kind == "truncated_last_line":
        assert not data.endswith(b"\n")
    elif kind == "empty_file":
        assert data == b""
    elif kind == "header_only":
        assert data.count(b"\r\n") == 1
    elif kind == "missing_column":
        assert "税率" not in read_csv(path).columns
    elif kind == "extra_column":
        assert read_csv(path).columns[-1] == "备注"
    elif kind == "bad_timestamp":
        assert "2026/13/45" in data.decode("gbk")
    elif kind == "non_numeric_amount":
        assert "12.3O" in data.decode("utf-8")
    elif kind == "duplicate_file":
        original = entry["detail"].split(" of ")[1].split(" written")[0]
        assert data == (faulty_run.landing / original).read_bytes()
        assert entry["expected"]["reason"] == f"duplicate_of:{original}"
    elif kind == "malformed_json":
        lines = data.decode("utf-8").splitlines()
        broken = 0
        for line in lines:
            try:
                json.loads(line)
            except json.JSONDecodeError:
                broken += 1
        assert broken == 1
    elif kind == "xlsx_missing_sheet":
        assert "订单明细" not in CalamineWorkbook.from_path(str(path)).sheet_names
    elif kind == "unknown_store":
        assert "ZZ999" in read_csv(path)["门店编码"].to_list()
    elif kind == "unknown_sku":
        assert "X9999" in read_csv(path)["商品编码"].to_list()
    elif kind == "unreconciled_amount":
        frame = read_csv(path)
        mismatched = [
            row
            for row in frame.select("数量", "单价", "折扣金额", "实收金额").iter_rows()
            if round(int(row[0]) * float(row[1]) * 100) - round(float(row[2]) * 100)
            != round(float(row[3]) * 100)
        ]
        assert len(mismatched) == 1


def test_no_faults_without_the_flag(clean_run) -> None:
    assert (clean_run.truth / "faults.jsonl").read_bytes() == b""
    for path in clean_run.landing.rglob("*"):
        if not path.is_file():
            continue
        assert " (1)" not in path.name and "_copy" not in path.name
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            for line in data.decode("utf-8").splitlines():
                json.loads(line)
        elif path.suffix == ".xlsx":
            assert CalamineWorkbook.from_path(str(path)).sheet_names == ["订单明细"]
        else:
            frame = read_csv(path)
            assert frame.height > 0 and data.endswith(b"\r\n")
            if "商品编码" in frame.columns:
                assert not frame["商品编码"].is_in(["X9999"]).any()
