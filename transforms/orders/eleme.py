"""Ele.me delivery orders (`bronze/eleme_orders`).

Items come as a JSON array in one cell: `[{"name":"牛角包","quantity":1,"price":8.5}]`,
with Ele.me's own names and prices. The column names differ from Meituan's (订单总价,
商户补贴, 平台服务费, 商户实收) but bronze already calls them like Meituan's, and the
amount identities are the same (`transforms.orders.delivery`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common import identity as ids
from transforms.orders.delivery import (
    ITEM_COLUMNS,
    build_delivery_orders,
    latest_platform_orders,
)
from transforms.orders.model import ChannelOrders

CHANNEL = "eleme"
ITEMS_SCHEMA = T.ArrayType(
    T.StructType(
        [
            T.StructField("name", T.StringType()),
            T.StructField("quantity", T.DoubleType()),
            T.StructField("price", T.DoubleType()),
        ]
    )
)


def latest_eleme_orders(eleme_orders: DataFrame) -> DataFrame:
    return latest_platform_orders(eleme_orders, CHANNEL)


def eleme_items(latest: DataFrame) -> DataFrame:
    """The JSON items cell -> one row per item: name, quantity, listed price."""
    return (
        latest.select(
            "order_id", F.posexplode(F.from_json("items_raw", ITEMS_SCHEMA)).alias("pos", "item")
        )
        .select(
            "order_id",
            (F.col("pos") + 1).cast("int").alias("line_no"),
            F.trim("item.name").alias("source_product"),
            F.coalesce(F.col("item.quantity"), F.lit(1.0)).cast("decimal(12,3)").alias("qty"),
            F.round(F.col("item.price"), 2).cast("decimal(18,2)").alias("listed_unit_price"),
        )
        .select(*ITEM_COLUMNS)
    )


def build_eleme_orders(
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
        store_id_column="eleme_store_id",
        user_id_column="eleme_user_id",
        user_pseudonym_column="eleme_user_pseudonym",
        user_id_type=ids.ELEME_USER_ID,
        store_map=store_map,
        product_map=product_map,
        products=products,
        key=key,
    )
