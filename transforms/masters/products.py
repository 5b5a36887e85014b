"""`silver/products` and `silver/product_platform_map` from the ERP product snapshot.

The ERP gives each SKU a Meituan name, an Ele.me name and a Douyin product id, but the
platforms' files spell names their own way; `product_platform_map` holds one row per
(platform, name or id) ever seen, with the SKU it maps to (or null), the method
(`exact`, `id`, `normalised`, `fuzzy`, `unmapped`) and the fuzzy score.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.columns import MONEY, conform
from transforms.masters.product_names import NameMatcher, normalise_name
from transforms.masters.stores import latest_snapshot, one_row_per_code

PRODUCTS_SCHEMA = T.StructType(
    [
        T.StructField("sku", T.StringType(), False),
        T.StructField("product_name", T.StringType()),
        T.StructField("category", T.StringType()),
        T.StructField("subcategory", T.StringType()),
        T.StructField("spec", T.StringType()),
        T.StructField("retail_price", MONEY),
        T.StructField("standard_cost", MONEY),
        T.StructField("shelf_life_hours", T.IntegerType()),
        T.StructField("is_baked_in_store", T.BooleanType()),
        T.StructField("launched_on", T.DateType()),
        T.StructField("delisted_on", T.DateType()),
        T.StructField("meituan_name", T.StringType()),
        T.StructField("eleme_name", T.StringType()),
        T.StructField("douyin_product_id", T.StringType()),
        T.StructField("snapshot_date", T.DateType()),
    ]
)

# What the order transforms hand over: every platform name or id they met.
OBSERVED_NAMES_SCHEMA = T.StructType(
    [
        T.StructField("platform", T.StringType(), False),  # meituan | eleme | douyin
        T.StructField("platform_value", T.StringType(), False),  # name, or Douyin product id
        T.StructField("platform_title", T.StringType()),  # Douyin: the product title
    ]
)

PRODUCT_PLATFORM_MAP_SCHEMA = T.StructType(
    [
        T.StructField("platform", T.StringType(), False),
        T.StructField("platform_value", T.StringType(), False),
        T.StructField("platform_title", T.StringType()),
        T.StructField("normalised_name", T.StringType()),
        T.StructField("sku", T.StringType()),
        T.StructField("match_method", T.StringType(), False),
        T.StructField("match_score", T.DoubleType()),
        T.StructField("matched_name", T.StringType()),
    ]
)

_PLATFORM_NAME_COLUMN = {"meituan": "meituan_name", "eleme": "eleme_name", "douyin": None}


def build_products(erp_products: DataFrame) -> DataFrame:
    """One row per SKU from the latest ERP snapshot."""
    snapshot = one_row_per_code(latest_snapshot(erp_products).where(F.trim("sku") != ""), "sku")
    products = snapshot.select(
        F.trim("sku").alias("sku"),
        F.trim("product_name").alias("product_name"),
        "category",
        "subcategory",
        "spec",
        "retail_price",
        "standard_cost",
        "shelf_life_hours",
        (F.trim("is_baked_in_store") == "是").alias("is_baked_in_store"),
        "launched_on",
        "delisted_on",
        F.nullif(F.trim("meituan_name"), F.lit("")).alias("meituan_name"),
        F.nullif(F.trim("eleme_name"), F.lit("")).alias("eleme_name"),
        F.nullif(F.trim("douyin_product_id"), F.lit("")).alias("douyin_product_id"),
        F.col("business_date").alias("snapshot_date"),
    )
    return conform(products, PRODUCTS_SCHEMA)


def _preferred_title(current: str | None, other: str | None) -> str | None:
    """The title kept for a platform value seen with several: a title over none, then the
    smallest, so the choice never depends on the order Spark returns the rows in (a
    Douyin id is seen untitled in verifications and titled in orders: issue #9)."""
    if current is None or other is None:
        return current if other is None else other
    return min(current, other)


def build_product_platform_map(products: DataFrame, observed: DataFrame) -> DataFrame:
    """Map every observed platform name/id, plus the master's own platform names.

    Runs on the driver: both inputs are small (distinct names, ~150 SKUs).
    """
    spark = products.sparkSession
    master = products.select(
        "sku", "product_name", "meituan_name", "eleme_name", "douyin_product_id"
    ).collect()
    seen: dict[tuple[str, str], str | None] = {}
    for row in observed.select(*OBSERVED_NAMES_SCHEMA.fieldNames()).distinct().collect():
        if row.platform_value:
            key = (row.platform, row.platform_value)
            seen[key] = _preferred_title(seen.get(key), row.platform_title)
    for row in master:
        for platform, column in (("meituan", "meituan_name"), ("eleme", "eleme_name")):
            if row[column]:
                seen.setdefault((platform, row[column]), None)
        if row.douyin_product_id:
            seen.setdefault(("douyin", row.douyin_product_id), None)

    matchers = {
        platform: NameMatcher(
            [(r.sku, r[column], True) for r in master if column]
            + [(r.sku, r.product_name, False) for r in master]
        )
        for platform, column in _PLATFORM_NAME_COLUMN.items()
    }
    by_douyin_id = {r.douyin_product_id: r.sku for r in master if r.douyin_product_id}

    rows = []
    for (platform, value), title in sorted(seen.items(), key=lambda item: item[0]):
        if platform == "douyin":
            if value in by_douyin_id:
                rows.append((platform, value, title, None, by_douyin_id[value], "id", 100.0, value))
                continue
            name = title
        else:
            name = value
        matcher = matchers.get(platform)
        match = matcher.match(name) if matcher else None
        rows.append(
            (
                platform,
                value,
                title,
                normalise_name(name),
                match.sku if match else None,
                match.method if match else "unmapped",
                match.score if match else None,
                match.matched_name if match else None,
            )
        )
    return spark.createDataFrame(rows, PRODUCT_PLATFORM_MAP_SCHEMA)
