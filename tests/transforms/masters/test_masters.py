"""Stores, products and their platform maps from the latest ERP snapshot."""

from silver_testkit import PRODUCT_ROWS, STORE_ROWS, bronze_frame, bronze_rows, by, collect

from transforms.masters.products import (
    OBSERVED_NAMES_SCHEMA,
    build_product_platform_map,
    build_products,
)
from transforms.masters.stores import build_store_platform_map, build_stores


def test_latest_store_snapshot_and_platform_map(spark):
    old = bronze_rows(
        "erp_stores",
        [{**STORE_ROWS[0], "status": "筹备"}],
        file="erp/erp_stores_20261031.csv",
        business_date="2026-10-31",
    )
    new = bronze_rows(
        "erp_stores", STORE_ROWS, file="erp/erp_stores_20261101.csv", business_date="2026-11-01"
    )
    stores = build_stores(bronze_frame(spark, "erp_stores", old + new))
    rows = by(collect(stores), "store_code")
    assert set(rows) == {"SH101", "HZ201"}
    assert rows["SH101"]["status"] == "open" and rows["SH101"]["store_type"] == "own"
    assert rows["HZ201"]["store_type"] == "franchise"
    assert str(rows["HZ201"]["royalty_rate"]) == "0.0600"

    mapping = collect(build_store_platform_map(stores))
    pairs = {(r["platform"], r["platform_store_id"]): r["store_code"] for r in mapping}
    assert pairs[("meituan", "MT880101")] == "SH101"
    assert pairs[("eleme", "E20990201")] == "HZ201"
    assert pairs[("douyin", "7100000000000000101")] == "SH101"
    assert len(pairs) == 6


def test_product_platform_map_records_method_and_unmapped(spark):
    products = build_products(
        bronze_frame(
            spark,
            "erp_products",
            bronze_rows(
                "erp_products",
                PRODUCT_ROWS,
                file="erp/erp_products_20261101.csv",
                business_date="2026-11-01",
            ),
        )
    )
    observed = spark.createDataFrame(
        [
            ("meituan", "牛角包（新品）", None),
            ("meituan", "提拉米苏（切块）", None),
            ("eleme", "【招牌】法式长棍面包", None),
            ("eleme", "神秘面包", None),
            ("douyin", "35C2001", "【全国门店通用】6英寸草莓蛋糕"),
            ("douyin", "99X0000", "【全国门店通用】6英寸草莓蛋糕"),
        ],
        OBSERVED_NAMES_SCHEMA,
    )
    rows = collect(build_product_platform_map(products, observed))
    result = {(r["platform"], r["platform_value"]): (r["sku"], r["match_method"]) for r in rows}
    assert result[("meituan", "牛角包（新品）")] == ("B1002", "normalised")
    assert result[("meituan", "提拉米苏（切块）")] == ("C2002", "normalised")
    assert result[("eleme", "【招牌】法式长棍面包")] == ("B1001", "normalised")
    assert result[("eleme", "神秘面包")] == (None, "unmapped")
    assert result[("douyin", "35C2001")] == ("C2001", "id")
    # An unknown Douyin product id falls back to its title.
    assert result[("douyin", "99X0000")] == ("C2001", "normalised")
    # The master's own platform names are always in the map.
    assert result[("eleme", "美式咖啡(热)")] == ("D4001", "exact")
