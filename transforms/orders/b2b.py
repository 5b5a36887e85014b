"""B2B orders in the order model: one row per ERP order, from its lines' latest state.

The order's `business_date` is its 订单日期; its revenue is the lines that are 已签收,
recognised on 交货日期; lines whose latest state is 已退货 are reported in
`refund_amount` and are not revenue. Amounts are VAT-inclusive like retail.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from transforms.common.columns import money, zero
from transforms.orders.model import ORDER_LINES_SCHEMA, ORDERS_SCHEMA, ChannelOrders, complete

CHANNEL = "b2b"


def build_b2b_channel_orders(latest_lines: DataFrame) -> ChannelOrders:
    """`latest_lines` is `transforms.b2b.orders.latest_b2b_lines`."""
    lines = latest_lines.withColumn("source_order_id", F.col("order_id")).withColumn(
        "order_id", F.concat(F.lit(f"{CHANNEL}:"), F.col("order_id"))
    )
    signed = F.col("is_revenue")
    orders = lines.groupBy("order_id").agg(
        F.max("source_order_id").alias("source_order_id"),
        F.max("customer_code").alias("b2b_customer_code"),
        F.min("order_date").alias("business_date"),
        F.max("delivery_date").alias("delivery_date"),
        F.max(signed.cast("int")).alias("any_signed"),
        F.min((F.col("status") == "returned").cast("int")).alias("all_returned"),
        F.max((F.col("status") == "shipped").cast("int")).alias("any_shipped"),
        F.concat_ws("/", F.array_sort(F.collect_set("source_status"))).alias("source_status"),
        money(F.sum("amount")).alias("gross_amount"),
        money(
            F.sum(F.when(F.col("status") == "returned", F.col("amount")).otherwise(zero()))
        ).alias("refund_amount"),
        money(F.sum(F.when(signed, F.col("amount")).otherwise(zero()))).alias("net_amount"),
        money(
            F.sum(F.when(F.col("paid_date").isNotNull(), F.col("amount")).otherwise(zero()))
        ).alias("customer_paid_amount"),
        F.max("last_changed_date").alias("last_changed_date"),
        F.count(F.lit(1)).cast("int").alias("line_count"),
        F.array_sort(F.collect_set("source_file")).alias("source_files"),
    )
    orders = (
        orders.withColumn("channel", F.lit(CHANNEL))
        .withColumn("order_type", F.lit("sale"))
        .withColumn("is_revenue", F.col("any_signed") == 1)
        .withColumn(
            "status",
            F.when(F.col("any_signed") == 1, "delivered")
            .when(F.col("all_returned") == 1, "returned")
            .when(F.col("any_shipped") == 1, "shipped")
            .otherwise("ordered"),
        )
        .withColumn("recognised_date", F.when(F.col("is_revenue"), F.col("delivery_date")))
        .withColumn("ordered_at", F.to_timestamp(F.col("business_date")))
        .withColumn("updated_at", F.to_timestamp(F.col("last_changed_date")))
        .withColumn("is_amount_consistent", F.lit(True))
    )
    heads = orders.select("order_id", "business_date", "recognised_date")
    numbered = Window.partitionBy("order_id").orderBy("sku")
    order_lines = (
        lines.join(heads, "order_id")
        .withColumn("line_no", F.row_number().over(numbered))
        .withColumn("channel", F.lit(CHANNEL))
        .withColumn("source_product", F.col("sku"))
        .withColumn("sku_match_method", F.lit("erp_code"))
        .withColumn("line_amount", F.col("amount"))
        .withColumn("net_amount", F.when(signed, F.col("amount")).otherwise(zero()))
    )
    return ChannelOrders(complete(orders, ORDERS_SCHEMA), complete(order_lines, ORDER_LINES_SCHEMA))
