"""Inventory: one row per store, SKU and day, waste reason translated, identity checked."""

import datetime as dt

from silver_testkit import bronze_frame, bronze_rows, by, collect

from transforms.inventory.daily import build_inventory_daily


def test_inventory_daily(spark):
    rows = bronze_rows(
        "erp_inventory",
        [
            dict(
                stock_date="2026-11-01",
                store_code="SH101",
                sku="B1001",
                opening_qty=0,
                delivered_qty=0,
                baked_qty=24,
                sold_qty=23,
                waste_qty=1,
                waste_reason="过期",
                closing_qty=0,
            ),
            dict(
                stock_date="2026-11-01",
                store_code="SH101",
                sku="B1002",
                opening_qty=2,
                delivered_qty=0,
                baked_qty=24,
                sold_qty=20,
                waste_qty=1,
                waste_reason="试吃",
                closing_qty=9,
            ),
        ],
        file="erp/erp_inventory_20261101.csv",
        business_date="2026-11-01",
    )
    result = by(collect(build_inventory_daily(bronze_frame(spark, "erp_inventory", rows))), "sku")
    assert result["B1001"]["waste_reason"] == "expired" and result["B1001"]["is_balanced"]
    assert result["B1001"]["business_date"] == dt.date(2026, 11, 1)
    assert result["B1002"]["waste_reason"] == "tasting"
    assert not result["B1002"]["is_balanced"]  # 2 + 24 - 20 - 1 != 9
