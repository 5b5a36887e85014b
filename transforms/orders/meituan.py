"""Meituan delivery orders (`bronze/meituan_orders`).

Items come as one string in Meituan's own names: `法式长棍*2,牛角包（新品）*1`. A part
without `*n` is one unit. Meituan gives no item prices: a mapped line is valued at the
SKU's retail price (the platforms list at retail), which is what `商品原价` adds up to.
See `transforms.orders.delivery` for the amounts.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transforms.common import identity as ids
from transforms.orders.delivery import (
    ITEM_COLUMNS,
    build_delivery_orders,
    latest_platform_orders,
)
from transforms.orders.model import ChannelOrders

CHANNEL = "meituan"
_ITEM = r"^\s*(.*?)\s*[*×xX]\s*(\d+(?:\.\d+)?)\s*$"


def latest_meituan_orders(meituan_orders: DataFrame) -> DataFrame:
    return latest_platform_orders(meituan_orders, CHANNEL)


def meituan_items(latest: DataFrame) -> DataFrame:
    """`法式长棍*2,牛角包*1` -> one row per part: name, quantity."""
    parts = latest.select(
        "order_id",
        F.posexplode(F.split(F.coalesce("items_raw", F.lit("")), "[,，;；]")).alias("pos", "part"),
    ).where(F.trim("part") != "")
    has_qty = F.col("part").rlike(_ITEM)
    return parts.select(
        "order_id",
        (F.col("pos") + 1).cast("int").alias("line_no"),
        F.when(has_qty, F.regexp_extract("part", _ITEM, 1))
        .otherwise(F.trim("part"))
        .alias("source_product"),
        F.when(has_qty, F.regexp_extract("part", _ITEM, 2))
        .otherwise(F.lit("1"))
        .cast("decimal(12,3)")
        .alias("qty"),
        F.lit(None).cast("decimal(18,2)").alias("listed_unit_price"),
    ).select(*ITEM_COLUMNS)


def build_meituan_orders(
    latest: DataFrame,
    items: DataFrame,
    store_map: DataFrame,
    product_map: DataFrame,
    products: DataFrame,
    key: bytes,
) -> ChannelOrders:
    return build_delivery_orders(
        latest,
        items,
        channel=CHANNEL,
        store_id_column="meituan_store_id",
        user_id_column="meituan_user_id",
        user_pseudonym_column="meituan_user_pseudonym",
        user_id_type=ids.MEITUAN_USER_ID,
        store_map=store_map,
        product_map=product_map,
        products=products,
        key=key,
    )
