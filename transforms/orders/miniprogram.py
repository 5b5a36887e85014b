"""Mini-program orders (`bronze/mp_orders`): change records -> one row per order.

- An order appears once per status change, in the file of the day of the change;
  the record with the latest `updated_at` wins, whichever file it came in.
- Revenue is recognised when the order is COMPLETED, on the business date of
  `created_at`; PARTIALLY_REFUNDED (after completion) stays revenue, less the refund;
  PAID, CANCELLED and REFUNDED are not revenue.
- `pay_amount_fen` = Σ(qty × price − discount) − coupon + freight: the coupon value
  is not itemised, so it is derived from that identity.
- Freight goes to the delivery partner: it is reported in `delivery_fee_amount` and
  kept out of `net_amount` (= pay − freight − refund), like the platforms' 配送费.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common import identity as ids
from transforms.common.bronze import current_copies
from transforms.common.columns import allocate, fen_to_yuan, latest_per_key, money
from transforms.orders.model import (
    ORDER_LINES_SCHEMA,
    ORDERS_SCHEMA,
    ChannelOrders,
    complete,
    zero_unless_revenue,
)

CHANNEL = "miniprogram"
ITEMS_SCHEMA = T.ArrayType(
    T.StructType(
        [
            T.StructField("sku", T.StringType()),
            T.StructField("name", T.StringType()),
            T.StructField("qty", T.DoubleType()),
            T.StructField("price_fen", T.LongType()),
            T.StructField("discount_fen", T.LongType()),
        ]
    )
)
STATUSES = {
    "PAID": "paid",
    "COMPLETED": "completed",
    "CANCELLED": "cancelled",
    "REFUNDED": "refunded",
    "PARTIALLY_REFUNDED": "partially_refunded",
}
REVENUE_STATUSES = ("COMPLETED", "PARTIALLY_REFUNDED")


def latest_mp_orders(mp_orders: DataFrame) -> DataFrame:
    """The winning change record per order, with every file that mentioned it."""
    current = current_copies(mp_orders).where(F.trim("order_id") != "")
    files = current.groupBy("order_id").agg(
        F.array_sort(F.collect_set("source_file")).alias("source_files")
    )
    latest = latest_per_key(current, ["order_id"], [F.col("updated_at").desc_nulls_last()])
    return latest.join(files, "order_id")


def build_miniprogram_orders(mp_orders: DataFrame, key: bytes) -> ChannelOrders:
    orders = (
        latest_mp_orders(mp_orders)
        .withColumn("order_id_source", F.col("order_id"))
        .withColumn("order_id", F.concat(F.lit("mp:"), F.trim("order_id_source")))
    )

    items = (
        orders.select(
            "order_id", F.posexplode(F.from_json("items_json", ITEMS_SCHEMA)).alias("pos", "item")
        )
        .select(
            "order_id",
            (F.col("pos") + 1).cast("int").alias("line_no"),
            F.nullif(F.trim("item.sku"), F.lit("")).alias("sku"),
            F.col("item.name").alias("source_product"),
            F.col("item.qty").cast("decimal(12,3)").alias("qty"),
            fen_to_yuan("item.price_fen").alias("unit_price"),
            fen_to_yuan("item.discount_fen").alias("discount_amount"),
        )
        .withColumn(
            "line_amount", money(F.col("qty") * F.col("unit_price") - F.col("discount_amount"))
        )
    )
    totals = items.groupBy("order_id").agg(
        money(F.sum(F.col("qty") * F.col("unit_price"))).alias("gross_amount"),
        money(F.sum("discount_amount")).alias("line_discount_amount"),
        money(F.sum("line_amount")).alias("goods_amount"),
        F.count(F.lit(1)).cast("int").alias("line_count"),
    )

    status = F.upper(F.col("source_status"))
    pay = fen_to_yuan("pay_amount_fen")
    freight = fen_to_yuan("freight_fen")
    refund = fen_to_yuan("refund_amount_fen")
    goods = F.coalesce(F.col("goods_amount"), F.lit(0))
    coupon = money(goods + freight - pay)
    built = (
        orders.join(totals, "order_id", "left")
        .withColumn("source_status", F.trim("status"))
        .withColumn("channel", F.lit(CHANNEL))
        .withColumn("source_order_id", F.trim("order_id_source"))
        .withColumn("order_type", F.lit("sale"))
        .withColumn("store_code", F.nullif(F.trim("store_code"), F.lit("")))
        .withColumn("business_date", F.to_date("created_at"))
        .withColumn("ordered_at", F.col("created_at"))
        .withColumn(
            "status",
            F.coalesce(
                *[F.when(status == k, F.lit(v)) for k, v in STATUSES.items()], F.lit("unknown")
            ),
        )
        .withColumn("is_revenue", status.isin(*REVENUE_STATUSES))
        .withColumn("recognised_date", F.col("business_date"))
        .withColumn("fulfillment", F.lower(F.trim("fulfillment")))
        .withColumn("member_id_pseudonym", ids.pseudonym(key, ids.MEMBER_ID, "member_id"))
        .withColumn("unionid_pseudonym", ids.pseudonym(key, ids.UNIONID, "member_unionid"))
        .withColumn("openid_pseudonym", ids.pseudonym(key, ids.OPENID, "member_openid"))
        .withColumn("member_phone_pseudonym", ids.phone_pseudonym(key, "member_phone"))
        .withColumn("gross_amount", F.coalesce("gross_amount", F.lit(0)))
        .withColumn(
            "discount_amount",
            money(
                F.coalesce(F.col("line_discount_amount"), F.lit(0)) + F.greatest(coupon, F.lit(0))
            ),
        )
        .withColumn("delivery_fee_amount", freight)
        .withColumn("refund_amount", refund)
        .withColumn("customer_paid_amount", pay)
        .withColumn("net_amount", money(pay - freight - refund))
        .withColumn("is_amount_consistent", (coupon >= 0) & (refund <= pay))
        .withColumn("line_count", F.coalesce("line_count", F.lit(0)))
    )
    built = zero_unless_revenue(built)

    heads = built.select(
        "order_id", "business_date", "store_code", "is_revenue", "recognised_date", "net_amount"
    ).withColumnRenamed("net_amount", "order_net_amount")
    lines = allocate(
        items.join(heads, "order_id"),
        "order_id",
        "line_no",
        "line_amount",
        "order_net_amount",
        "net_amount",
    )
    lines = lines.withColumn("channel", F.lit(CHANNEL)).withColumn(
        "sku_match_method", F.when(F.col("sku").isNotNull(), "erp_code")
    )
    return ChannelOrders(complete(built, ORDERS_SCHEMA), complete(lines, ORDER_LINES_SCHEMA))
