"""What Meituan and Ele.me delivery orders have in common.

Both platforms export one row per order with its items in one cell, and the same
amount identities (for 已完成 and 部分退款, to the fen):
  customer paid = goods − merchant promotion + delivery fee − refund
  merchant receivable = goods − merchant promotion − platform fee − refund
The delivery fee goes to the platform's riders, never to the chain, so the chain keeps
the merchant receivable (商家应收 / 商户实收): that is `net_amount`. 已完成 and 部分退款
are revenue on the order date; 已取消 and 已退款 are not. The platform's store id maps to
a store code through `silver/store_platform_map`; its product names through
`silver/product_platform_map`. An order row that reappears in a later file (a status
change) replaces the earlier one.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from transforms.common import identity as ids
from transforms.common.bronze import current_copies
from transforms.common.columns import allocate, latest_per_key, money, yuan, zero
from transforms.orders.model import (
    ORDER_LINES_SCHEMA,
    ORDERS_SCHEMA,
    ChannelOrders,
    complete,
    zero_unless_revenue,
)

STATUSES = {
    "已完成": "completed",
    "已取消": "cancelled",
    "已退款": "refunded",
    "部分退款": "partially_refunded",
}
REVENUE_STATUSES = ("已完成", "部分退款")

# What every platform's item parser returns.
ITEM_COLUMNS = ("order_id", "line_no", "source_product", "qty", "listed_unit_price")


def latest_platform_orders(bronze: DataFrame, channel: str) -> DataFrame:
    """One row per platform order (the latest file's), `order_id` channel-prefixed."""
    current = current_copies(bronze).where(F.trim("order_id") != "")
    files = current.groupBy("order_id").agg(
        F.array_sort(F.collect_set("source_file")).alias("source_files")
    )
    latest = latest_per_key(current, ["order_id"], []).join(files, "order_id")
    return latest.withColumn("source_order_id", F.trim("order_id")).withColumn(
        "order_id", F.concat(F.lit(f"{channel}:"), F.trim("order_id"))
    )


def observed_product_names(items: DataFrame, platform: str) -> DataFrame:
    """The platform names met in the items, for `silver/product_platform_map`."""
    return (
        items.where(F.col("source_product").isNotNull())
        .select(
            F.lit(platform).alias("platform"),
            F.col("source_product").alias("platform_value"),
            F.lit(None).cast("string").alias("platform_title"),
        )
        .distinct()
    )


def map_items(
    items: DataFrame, platform: str, product_map: DataFrame, products: DataFrame
) -> DataFrame:
    """Attach the SKU (or null), the match method, and a unit price to each item."""
    mapping = product_map.where(F.col("platform") == platform).select(
        F.col("platform_value").alias("source_product"), "sku", "match_method"
    )
    prices = products.select("sku", F.col("retail_price"))
    return (
        items.join(mapping, "source_product", "left")
        .join(prices, "sku", "left")
        .withColumn("sku_match_method", F.coalesce("match_method", F.lit("unmapped")))
        .withColumn("unit_price", F.coalesce(F.col("listed_unit_price"), F.col("retail_price")))
        .drop("match_method", "retail_price")
    )


def build_delivery_orders(
    latest: DataFrame,
    items: DataFrame,
    *,
    channel: str,
    store_id_column: str,
    user_id_column: str,
    user_pseudonym_column: str,
    user_id_type: str,
    store_map: DataFrame,
    product_map: DataFrame,
    products: DataFrame,
    key: bytes,
) -> ChannelOrders:
    stores = store_map.where(F.col("platform") == channel).select(
        F.col("platform_store_id").alias("_platform_store_id"), "store_code"
    )
    status = F.col("source_status")
    goods = yuan("goods_amount")
    promotion = yuan("merchant_subsidy")
    fee = yuan("platform_commission")
    delivery = yuan("delivery_fee")
    refund = yuan("refund_amount")
    paid = yuan("customer_paid")
    receivable = yuan("merchant_receivable")
    identities_hold = (F.abs(paid - (goods - promotion + delivery - refund)) < 0.005) & (
        F.abs(receivable - (goods - promotion - fee - refund)) < 0.005
    )
    # Ele.me exports no completion time; Meituan's 完成时间 is the last change we know.
    completed_at = (
        F.col("completed_at") if "completed_at" in latest.columns else F.col("ordered_at")
    )
    orders = (
        latest.withColumn("source_status", F.trim("status"))
        .withColumn("_platform_store_id", F.trim(store_id_column))
        .join(stores, "_platform_store_id", "left")
        .withColumn("platform_store_id", F.col("_platform_store_id"))
        .withColumn("channel", F.lit(channel))
        .withColumn("order_type", F.lit("sale"))
        .withColumn("business_date", F.to_date("ordered_at"))
        .withColumn("updated_at", F.coalesce(completed_at, F.col("ordered_at")))
        .withColumn(
            "status",
            F.coalesce(
                *[F.when(status == k, F.lit(v)) for k, v in STATUSES.items()], F.lit("unknown")
            ),
        )
        .withColumn("is_revenue", status.isin(*REVENUE_STATUSES))
        .withColumn("recognised_date", F.col("business_date"))
        .withColumn("fulfillment", F.lit("delivery"))
        .withColumn(user_pseudonym_column, ids.pseudonym(key, user_id_type, user_id_column))
        .withColumn("masked_phone", F.nullif(F.trim("masked_phone"), F.lit("")))
        .withColumn("gross_amount", goods)
        .withColumn("merchant_promotion_amount", promotion)
        .withColumn("platform_fee_amount", fee)
        .withColumn("delivery_fee_amount", delivery)
        .withColumn("refund_amount", refund)
        .withColumn("customer_paid_amount", paid)
        .withColumn("net_amount", receivable)
        .withColumn(
            "is_amount_consistent",
            F.when(status.isin(*REVENUE_STATUSES), identities_hold)
            .when(status == "已退款", F.abs(receivable) < 0.005)
            .otherwise(F.lit(True)),
        )
    )
    orders = zero_unless_revenue(orders)

    heads = orders.select(
        "order_id",
        "business_date",
        "store_code",
        "is_revenue",
        "recognised_date",
        F.col("net_amount").alias("order_net_amount"),
        F.col("gross_amount").alias("order_goods_amount"),
    )
    lines = map_items(items, channel, product_map, products).join(heads, "order_id")
    # Lines without a price (unmapped Meituan names) share what the priced lines leave
    # of the order's goods value, by quantity, so unmapped revenue is never lost.
    by_order = Window.partitionBy("order_id")
    priced_value = F.sum(F.coalesce(F.col("qty") * F.col("unit_price"), F.lit(0))).over(by_order)
    unpriced_qty = F.sum(F.when(F.col("unit_price").isNull(), F.col("qty"))).over(by_order)
    leftover = F.greatest(F.col("order_goods_amount") - priced_value, F.lit(0))
    lines = lines.withColumn(
        "line_amount",
        money(
            F.when(F.col("unit_price").isNotNull(), F.col("qty") * F.col("unit_price")).otherwise(
                F.when(unpriced_qty > 0, leftover * F.col("qty") / unpriced_qty)
            )
        ),
    ).withColumn("line_amount", F.coalesce("line_amount", zero()))
    lines = allocate(lines, "order_id", "line_no", "line_amount", "order_net_amount", "net_amount")
    lines = lines.withColumn("channel", F.lit(channel)).withColumn("discount_amount", zero())
    counts = lines.groupBy("order_id").agg(F.count(F.lit(1)).cast("int").alias("line_count"))
    orders = orders.join(counts, "order_id", "left").withColumn(
        "line_count", F.coalesce("line_count", F.lit(0))
    )
    return ChannelOrders(complete(orders, ORDERS_SCHEMA), complete(lines, ORDER_LINES_SCHEMA))
