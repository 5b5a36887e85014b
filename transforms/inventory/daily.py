"""`silver/inventory_daily`: stock movements per store, SKU and day, waste with reason.

One row per (日期, 门店, 商品); a re-exported or late file replaces the rows of its
copy. `is_balanced` checks opening + delivered + baked − sold − waste = closing, the
ERP's own stock identity, so a broken export shows up instead of skewing waste rates.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.bronze import current_copies
from transforms.common.columns import QTY, conform, latest_per_key

WASTE_REASONS = {"过期": "expired", "破损": "damaged", "试吃": "tasting"}

INVENTORY_DAILY_SCHEMA = T.StructType(
    [
        T.StructField("business_date", T.DateType(), False),  # 日期
        T.StructField("store_code", T.StringType(), False),
        T.StructField("sku", T.StringType(), False),
        T.StructField("opening_qty", QTY),
        T.StructField("delivered_qty", QTY),
        T.StructField("baked_qty", QTY),
        T.StructField("sold_qty", QTY),
        T.StructField("waste_qty", QTY),
        T.StructField("waste_reason", T.StringType()),  # expired | damaged | tasting | other
        T.StructField("source_waste_reason", T.StringType()),
        T.StructField("closing_qty", QTY),
        T.StructField("is_balanced", T.BooleanType()),
        T.StructField("source_file", T.StringType()),
    ]
)


def build_inventory_daily(erp_inventory: DataFrame) -> DataFrame:
    current = (
        current_copies(erp_inventory)
        .withColumn("store_code", F.trim("store_code"))
        .withColumn("sku", F.trim("sku"))
        .withColumn("stock_date", F.coalesce("stock_date", "business_date"))
        .where((F.col("store_code") != "") & (F.col("sku") != ""))
    )
    latest = latest_per_key(current, ["stock_date", "store_code", "sku"], [])
    reason = F.nullif(F.trim("waste_reason"), F.lit(""))
    qty = [
        F.coalesce(F.col(c), F.lit(0)).cast(QTY)
        for c in (
            "opening_qty",
            "delivered_qty",
            "baked_qty",
            "sold_qty",
            "waste_qty",
            "closing_qty",
        )
    ]
    opening, delivered, baked, sold, waste, closing = qty
    built = latest.select(
        F.col("stock_date").alias("business_date"),
        "store_code",
        "sku",
        opening.alias("opening_qty"),
        delivered.alias("delivered_qty"),
        baked.alias("baked_qty"),
        sold.alias("sold_qty"),
        waste.alias("waste_qty"),
        F.when(reason.isNull(), F.lit(None).cast("string"))
        .otherwise(
            F.coalesce(
                *[F.when(reason == k, F.lit(v)) for k, v in WASTE_REASONS.items()], F.lit("other")
            )
        )
        .alias("waste_reason"),
        reason.alias("source_waste_reason"),
        closing.alias("closing_qty"),
        (opening + delivered + baked - sold - waste == closing).alias("is_balanced"),
        "source_file",
    )
    return conform(built, INVENTORY_DAILY_SCHEMA)
