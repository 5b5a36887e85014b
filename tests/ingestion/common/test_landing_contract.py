"""Landing contract feedback: patterns people read, closest matches, never-ignored paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bakehouse.config import Settings
from ingestion import ingest
from ingestion.common.files import (
    ContractProblem,
    closest_pattern,
    contract_problems,
    landing_pattern,
)
from ingestion.report import landing_notices, problems
from ingestion.schemas import FEEDS_BY_NAME
from tests.ingestion.conftest import POS_FILE, POS_ROW, ledger_row, pos_text


def test_patterns_are_generated_from_the_contract() -> None:
    assert landing_pattern(FEEDS_BY_NAME["meituan_orders"]) == (
        "landing/meituan/meituan_orders_<yyyymmdd>.xlsx"
    )
    assert landing_pattern(FEEDS_BY_NAME["pos_sales"]) == (
        "landing/pos/pos_sales_<store_code>_<yyyymmdd>.csv"
    )
    assert landing_pattern(FEEDS_BY_NAME["erp_store_costs"]) == (
        "landing/erp/erp_store_costs_<yyyymm>.csv"
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Meituan/meituan_orders_20261001.xlsx", "landing/meituan/meituan_orders_<yyyymmdd>.xlsx"),
        ("meituan/meituan_order_20261001.xlsx", "landing/meituan/meituan_orders_<yyyymmdd>.xlsx"),
        ("pos/pos_SH001_20261001.csv", "landing/pos/pos_sales_<store_code>_<yyyymmdd>.csv"),
        ("pos_sales_SH001_20261001.csv", "landing/pos/pos_sales_<store_code>_<yyyymmdd>.csv"),
        ("erp/store_costs_202610.csv", "landing/erp/erp_store_costs_<yyyymm>.csv"),
        ("miniprogram/members_20261001.json", "landing/miniprogram/mp_members_<yyyymmdd>.jsonl"),
    ],
)
def test_closest_pattern(path: str, expected: str) -> None:
    assert closest_pattern(path) == expected


def _touch(root: Path, relative: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_every_path_no_feed_can_take_is_reported(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for relative in (
        "Meituan/meituan_orders_20261001.xlsx",
        "meituan/meituan_order_20261001.xlsx",
        "pos_sales_SH001_20261001.csv",
        "pos/2026/pos_sales_SH001_20261001.csv",
        "pos/pos_sales_SH001_20261001.csv",  # fine
        "pos/pos_sales_SH001_20261002.csv.part",  # still being written: not a problem
        "pos/pos_sales_SH001_20261001.csv.done",  # a completion marker
        "pos/.DS_Store",
    ):
        _touch(landing, relative)
    assert contract_problems(landing) == [
        ContractProblem(
            "Meituan/meituan_orders_20261001.xlsx",
            "unknown_folder",
            "landing/meituan/meituan_orders_<yyyymmdd>.xlsx",
        ),
        ContractProblem(
            "meituan/meituan_order_20261001.xlsx",
            "unknown_file_name",
            "landing/meituan/meituan_orders_<yyyymmdd>.xlsx",
        ),
        ContractProblem(
            "pos/2026/pos_sales_SH001_20261001.csv",
            "nested_folder",
            "landing/pos/pos_sales_<store_code>_<yyyymmdd>.csv",
        ),
        ContractProblem(
            "pos_sales_SH001_20261001.csv",
            "outside_source_folder",
            "landing/pos/pos_sales_<store_code>_<yyyymmdd>.csv",
        ),
    ]
    assert contract_problems(landing)[0].message == (
        "landing/Meituan/meituan_orders_20261001.xlsx: folder Meituan/ is not a source folder; "
        "expected landing/meituan/meituan_orders_<yyyymmdd>.xlsx"
    )


def test_misnamed_file_is_rejected_with_the_expected_pattern(
    settings: Settings, landing: Callable[..., Path]
) -> None:
    landing(POS_FILE, pos_text(POS_ROW), encoding="gbk")
    landing("meituan/meituan_order_20261121.xlsx", b"not really a workbook")
    landing("Meituan/meituan_orders_20261121.xlsx", b"not really a workbook")
    ingest(settings)
    row = ledger_row(settings, "meituan/meituan_order_20261121.xlsx")
    assert (row["status"], row["reason"], row["notes"]) == (
        "rejected",
        "unknown_file_name",
        "expected landing/meituan/meituan_orders_<yyyymmdd>.xlsx",
    )
    (problem,) = [p for p in problems(settings) if p.kind == "rejected file"]
    assert problem.reason == (
        "unknown_file_name; expected landing/meituan/meituan_orders_<yyyymmdd>.xlsx"
    )
    from datetime import date

    notices = landing_notices(settings, [date(2026, 11, 21)], check_completeness=False)
    assert [(n.severity, n.message) for n in notices] == [
        (
            "warning",
            "ignored landing/Meituan/meituan_orders_20261121.xlsx: folder Meituan/ is not a "
            "source folder; expected landing/meituan/meituan_orders_<yyyymmdd>.xlsx",
        )
    ]


def test_a_date_without_files_is_a_warning_even_on_a_fresh_lake(settings: Settings) -> None:
    """Completeness needs a baseline; the summary must not wait for one to say it."""
    from datetime import date

    day = date(2026, 10, 3)
    notices = landing_notices(settings, [day])
    assert [(n.severity, n.message) for n in notices] == [
        ("warning", "2026-10-03: no landing files at all")
    ]


def test_ignored_files_come_before_a_long_list_of_errors(settings: Settings) -> None:
    """Overdue files of other days must not push a misplaced file out of the panel."""
    from datetime import date

    (settings.landing / "Meituan").mkdir(parents=True)
    (settings.landing / "Meituan" / "meituan_orders_20261102.xlsx").write_bytes(b"x")
    notices = landing_notices(settings, [date(2026, 11, 2)])
    assert notices[0].message.startswith("ignored landing/Meituan/meituan_orders_20261102.xlsx")
