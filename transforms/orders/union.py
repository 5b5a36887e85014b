"""All channels in one order model, and what could not be mapped.

`silver/unmapped_platform_names` lists, per business date, every platform product
name/id without a SKU and every platform store id without a store code, with the
orders, quantity and revenue they carry: nothing unmapped is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.columns import MONEY, QTY, conform, money
from transforms.masters.stores import store_conflicts
from transforms.orders.model import ChannelOrders

PLATFORM_CHANNELS = ("meituan", "eleme", "douyin")

UNMAPPED_SCHEMA = T.StructType(
    [
        T.StructField("business_date", T.DateType(), False),
        T.StructField("platform", T.StringType(), False),
        T.StructField("kind", T.StringType(), False),  # product | store | store_conflict
        T.StructField("platform_value", T.StringType(), False),
        T.StructField("order_count", T.LongType(), False),
        T.StructField("line_count", T.LongType(), False),
        T.StructField("qty", QTY),
        T.StructField("line_amount", MONEY, False),
        T.StructField("revenue_amount", MONEY, False),
    ]
)


def union_channels(channels: Iterable[ChannelOrders]) -> ChannelOrders:
    parts = list(channels)
    orders = reduce(DataFrame.unionByName, [p.orders for p in parts])
    lines = reduce(DataFrame.unionByName, [p.lines for p in parts])
    return ChannelOrders(orders, lines)


def build_unmapped(
    orders: DataFrame, lines: DataFrame, stores: DataFrame | None = None
) -> DataFrame:
    """Unmapped platform products and stores per business date, with their revenue.

    `stores` (silver/stores): a store id the map left out because several stores claim
    it, or because it is in scientific notation, is kind `store_conflict`, not `store`.
    """
    # Grouping keys are plain columns: Sail rejects literal grouping expressions here.
    products = (
        lines.where(F.col("channel").isin(*PLATFORM_CHANNELS) & F.col("sku").isNull())
        .select(
            "business_date",
            F.col("channel").alias("platform"),
            F.lit("product").alias("kind"),
            F.coalesce("source_product", F.lit("")).alias("platform_value"),
            "order_id",
            "qty",
            "line_amount",
            "net_amount",
        )
        .groupBy("business_date", "platform", "kind", "platform_value")
        .agg(
            F.countDistinct("order_id").alias("order_count"),
            F.count(F.lit(1)).alias("line_count"),
            F.sum("qty").alias("qty"),
            money(F.sum("line_amount")).alias("line_amount"),
            money(F.sum("net_amount")).alias("revenue_amount"),
        )
    )
    unmapped = orders.where(
        F.col("channel").isin(*PLATFORM_CHANNELS)
        & F.col("store_code").isNull()
        & F.col("platform_store_id").isNotNull()
    )
    kind = F.lit("store")
    if stores is not None:
        conflicts = store_conflicts(stores).select(
            F.col("platform").alias("channel"), "platform_store_id", F.lit(True).alias("_conflict")
        )
        unmapped = unmapped.join(conflicts, ["channel", "platform_store_id"], "left")
        kind = F.when(F.col("_conflict"), F.lit("store_conflict")).otherwise(kind)
    unmapped_stores = (
        unmapped.select(
            "business_date",
            F.col("channel").alias("platform"),
            kind.alias("kind"),
            F.col("platform_store_id").alias("platform_value"),
            "line_count",
            "gross_amount",
            "net_amount",
        )
        .groupBy("business_date", "platform", "kind", "platform_value")
        .agg(
            F.count(F.lit(1)).alias("order_count"),
            F.sum("line_count").cast("long").alias("line_count"),
            money(F.sum("gross_amount")).alias("line_amount"),
            money(F.sum("net_amount")).alias("revenue_amount"),
        )
        .withColumn("qty", F.lit(None).cast(QTY))
    )
    return conform(products.unionByName(unmapped_stores), UNMAPPED_SCHEMA)
