"""Shared or damaged platform store ids map to no store: a conflict, not a choice."""

from __future__ import annotations

from decimal import Decimal

from silver_testkit import STORE_ROWS, bronze_frame, bronze_rows, collect

from transforms.masters.stores import (
    build_store_platform_map,
    build_stores,
    conflict_summary,
    store_conflicts,
)
from transforms.orders.union import build_unmapped

SH102 = dict(
    STORE_ROWS[0],
    store_code="SH102",
    store_name="徐家汇店",
    meituan_store_id="MT880102\u00a0",  # NBSP: the same id in its join form
    eleme_store_id="E20990102",
    douyin_poi="7.1E+18",  # re-saved in Excel: digits gone
)
HZ202 = dict(
    STORE_ROWS[1],
    store_code="\ufeffHZ202",
    meituan_store_id="MT880202",
    eleme_store_id="E20990201",  # also HZ201's
    douyin_poi="7100000000000000202",
)


def _stores(spark):
    rows = bronze_rows(
        "erp_stores",
        [*STORE_ROWS, SH102, HZ202],
        file="erp/erp_stores_20261101.csv",
        business_date="2026-11-01",
    )
    return build_stores(bronze_frame(spark, "erp_stores", rows))


def test_shared_and_scientific_ids_map_to_no_store(spark) -> None:
    stores = _stores(spark)
    assert sorted(r["store_code"] for r in collect(stores)) == ["HZ201", "HZ202", "SH101", "SH102"]
    pairs = {
        (r["platform"], r["platform_store_id"]): r["store_code"]
        for r in collect(build_store_platform_map(stores))
    }
    assert pairs == {
        ("meituan", "MT880101"): "SH101",
        ("meituan", "MT880201"): "HZ201",
        ("meituan", "MT880102"): "SH102",
        ("meituan", "MT880202"): "HZ202",
        ("eleme", "E20990101"): "SH101",
        ("eleme", "E20990102"): "SH102",
        ("douyin", "7100000000000000101"): "SH101",
        ("douyin", "7100000000000000201"): "HZ201",
        ("douyin", "7100000000000000202"): "HZ202",
    }
    conflicts = collect(store_conflicts(stores), ["platform", "platform_store_id"])
    assert conflicts == [
        {"platform": "douyin", "platform_store_id": "7.1E+18", "store_codes": "SH102"}
        | {"reason": "id_scientific_notation"},
        {"platform": "eleme", "platform_store_id": "E20990201", "store_codes": "HZ201,HZ202"}
        | {"reason": "shared_id"},
    ]
    assert conflict_summary(stores) == [
        "douyin 7.1E+18: SH102 (id_scientific_notation)",
        "eleme E20990201: HZ201,HZ202 (shared_id)",
    ]


def test_conflicting_ids_keep_their_revenue_visible(spark) -> None:
    stores = _stores(spark)
    orders = spark.createDataFrame(
        [
            ("2026-11-01", "eleme", None, "E20990201", 2, "30.00", "28.00"),
            ("2026-11-01", "eleme", None, "E99999999", 1, "10.00", "9.00"),
            ("2026-11-01", "eleme", "SH101", "E20990101", 1, "12.00", "12.00"),
        ],
        "business_date string, channel string, store_code string, platform_store_id string,"
        " line_count int, gross_amount string, net_amount string",
    ).selectExpr(
        "cast(business_date as date) business_date",
        "channel",
        "store_code",
        "platform_store_id",
        "line_count",
        "cast(gross_amount as decimal(18,2)) gross_amount",
        "cast(net_amount as decimal(18,2)) net_amount",
    )
    lines = spark.createDataFrame(
        [],
        "business_date date, channel string, sku string, source_product string,"
        " order_id string, qty decimal(12,3), line_amount decimal(18,2),"
        " net_amount decimal(18,2)",
    )
    rows = collect(build_unmapped(orders, lines, stores), "platform_value")
    assert [(r["kind"], r["platform_value"], r["revenue_amount"]) for r in rows] == [
        ("store_conflict", "E20990201", Decimal("28.00")),
        ("store", "E99999999", Decimal("9.00")),
    ]
