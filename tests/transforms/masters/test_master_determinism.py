"""Masters do not depend on the order Spark returns rows in (issue #9, item 5)."""

from silver_testkit import PRODUCT_ROWS, bronze_frame, bronze_rows, by, collect

from transforms.masters.products import (
    OBSERVED_NAMES_SCHEMA,
    build_product_platform_map,
    build_products,
)


def _products(spark, rows):
    return build_products(
        bronze_frame(
            spark,
            "erp_products",
            bronze_rows(
                "erp_products",
                rows,
                file="erp/erp_products_20261101.csv",
                business_date="2026-11-01",
            ),
        )
    )


def test_a_douyin_id_seen_untitled_and_titled_keeps_its_title_in_any_order(spark):
    products = _products(spark, PRODUCT_ROWS)
    douyin_id = next(r["douyin_product_id"] for r in PRODUCT_ROWS if r.get("douyin_product_id"))
    seen = [
        ("douyin", douyin_id, None),
        ("douyin", douyin_id, "【全国门店通用】礼盒 B"),
        ("douyin", douyin_id, "【全国门店通用】礼盒 A"),
    ]
    titles = set()
    for observed in (seen, seen[::-1], seen[1:] + seen[:1]):
        mapping = collect(
            build_product_platform_map(
                products, spark.createDataFrame(observed, OBSERVED_NAMES_SCHEMA)
            )
        )
        row = next(
            r for r in mapping if (r["platform"], r["platform_value"]) == ("douyin", douyin_id)
        )
        titles.add(row["platform_title"])
        assert row["match_method"] == "id"
    assert titles == {"【全国门店通用】礼盒 A"}


def test_a_sku_listed_twice_in_a_snapshot_keeps_the_last_row(spark):
    first = {**PRODUCT_ROWS[0], "product_name": "旧名"}
    last = {**PRODUCT_ROWS[0], "product_name": "新名"}
    for rows in ([first, last], [last, first]):
        products = by(collect(_products(spark, [*rows, *PRODUCT_ROWS[1:]])), "sku")
        assert products[PRODUCT_ROWS[0]["sku"]]["product_name"] == rows[-1]["product_name"]
