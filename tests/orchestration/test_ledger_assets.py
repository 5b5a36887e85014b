"""The file ledger and the quarantine as assets: counts and reasons, never raw rows;
and gold's as-of date, the latest complete business date in the ledger."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pyarrow as pa

from bakehouse.config import Settings
from bakehouse.lake import Lake
from ingestion.common.arrow import arrow_schema
from ingestion.common.ledger import LEDGER_SCHEMA
from ingestion.schemas import QUARANTINE_COLUMNS
from orchestration.defs.ledger.assets import (
    LEDGER_KEY,
    QUARANTINE_KEY,
    latest_complete_business_date,
    ledger_and_quarantine,
)
from orchestration.resources import LakehouseResource

NOV = dt.date(2026, 11, 1)
CLEAR_PHONE = "13800138000"


def _file(feed: str, day: dt.date, status: str = "landed", source: str = "pos") -> dict:
    return {
        "source_file": f"{source}/{feed}_{day:%Y%m%d}.csv",
        "source": source,
        "feed": feed,
        "business_date": day,
        "status": status,
        "rows_quarantined": 0,
        "batch_id": "b1",
        "ingested_at": dt.datetime(2026, 11, 5, tzinfo=dt.UTC),
    }


def _write_ledger(lake: Lake, rows: list[dict]) -> None:
    lake.write_arrow(pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA), "bronze", "file_ledger")


def test_the_as_of_date_is_the_latest_date_every_daily_feed_landed(settings: Settings) -> None:
    lake = Lake(settings)
    assert latest_complete_business_date(lake) is None
    day2, day3 = NOV + dt.timedelta(days=1), NOV + dt.timedelta(days=2)
    _write_ledger(
        lake,
        [
            _file("pos_sales", NOV),
            _file("mp_orders", NOV, source="miniprogram"),
            _file("pos_sales", day2),
            _file("mp_orders", day2, source="miniprogram"),
            _file("pos_sales", day3),  # the miniprogram file of day 3 is missing
            _file("mp_orders", day3, "rejected", source="miniprogram"),
            _file("erp_store_costs", day3, source="erp"),  # monthly: does not count
        ],
    )
    assert latest_complete_business_date(lake) == day2


def test_the_assets_report_counts_and_reasons_without_rows(settings: Settings) -> None:
    lake = Lake(settings)
    _write_ledger(
        lake,
        [
            _file("pos_sales", NOV),
            _file("pos_sales", NOV, "duplicate"),
            _file("mp_orders", NOV, "rejected", source="miniprogram"),
        ],
    )
    quarantined = [
        {
            "feed": "mp_members",
            "source_file": "miniprogram/mp_members_20261101.jsonl",
            "source_row": row,
            "reason_code": "bad_phone",
            "raw_line": f'{{"phone": "{CLEAR_PHONE}x"}}',
            "business_date": NOV,
        }
        for row in (3, 7)
    ]
    schema = arrow_schema(QUARANTINE_COLUMNS)
    lake.write_arrow(pa.Table.from_pylist(quarantined, schema=schema), "quarantine", "mp_members")

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [ledger_and_quarantine],
            resources={"lakehouse": LakehouseResource(home=str(settings.home))},
            instance=instance,
        )
    assert result.success
    by_key = {
        m.asset_key: m.metadata
        for m in result.asset_materializations_for_node("ledger_and_quarantine")
    }
    ledger = by_key[LEDGER_KEY]
    assert ledger["files"].value == 3
    assert (
        ledger["files_landed"].value,
        ledger["files_duplicate"].value,
        ledger["files_rejected"].value,
    ) == (1, 1, 1)
    assert "miniprogram/mp_orders_20261101.csv" in ledger["rejected_or_duplicate_files"].value
    quarantine = by_key[QUARANTINE_KEY]
    assert quarantine["rows"].value == 2
    [record] = quarantine["per_feed_and_reason"].value.records
    assert record.data == {"feed": "mp_members", "reason_code": "bad_phone", "rows": 2}
    everything = repr({k: v for m in by_key.values() for k, v in m.items()})
    assert CLEAR_PHONE not in everything
