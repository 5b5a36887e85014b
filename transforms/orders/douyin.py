"""Douyin group-buy vouchers (`bronze/douyin_orders` + `bronze/douyin_verifications`).

The unit is the voucher (券码): a Douyin order row is one voucher, and each voucher is
redeemed (or not) on its own, in one store. A voucher's order is `douyin:<券码>`:
- its `business_date` is the sale date: the host commission (达人佣金) is marketing
  cost then;
- it is revenue once redeemed and not refunded, recognised on the redemption date
  (`recognised_date`) in the redeeming store (the POI through the store map), for
  what the chain keeps: 商家应得 = 核销金额 − 平台服务费;
- sold but expired (已过期) or refunded (已退款) vouchers are never revenue.
The POS ticket that shows the same redemption (paid with 抖音券) is not revenue: it
points here through `counted_in_order_id`, so the sale is counted once.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transforms.common import identity as ids
from transforms.common.bronze import current_copies
from transforms.common.columns import latest_per_key, money, yuan, zero
from transforms.orders.model import (
    ORDER_LINES_SCHEMA,
    ORDERS_SCHEMA,
    ChannelOrders,
    complete,
    zero_unless_revenue,
)

CHANNEL = "douyin"
STATUSES = {"已支付": "paid", "已核销": "redeemed", "已退款": "refunded", "已过期": "expired"}


def douyin_order_id(voucher_code):
    return F.concat(F.lit(f"{CHANNEL}:"), voucher_code)


def voucher_states(
    douyin_orders: DataFrame, verifications: DataFrame, store_map: DataFrame
) -> DataFrame:
    """One row per voucher: its latest sale record joined to its redemption, if any."""
    sold_all = (
        current_copies(douyin_orders)
        .withColumn("voucher_code", F.trim("voucher_code"))
        .where(F.col("voucher_code") != "")
    )
    sold_files = sold_all.groupBy("voucher_code").agg(
        F.collect_set("source_file").alias("sale_files")
    )
    sold = latest_per_key(sold_all, ["voucher_code"], [])
    redeemed_all = (
        current_copies(verifications)
        .withColumn("voucher_code", F.trim("voucher_code"))
        .where(F.col("voucher_code") != "")
    )
    redeemed_files = redeemed_all.groupBy("voucher_code").agg(
        F.collect_set("source_file").alias("redemption_files")
    )
    redeemed = latest_per_key(
        redeemed_all,
        ["voucher_code"],
        [F.col("redeemed_at").desc_nulls_last()],
    ).select(
        "voucher_code",
        "redeemed_at",
        F.trim("douyin_poi").alias("douyin_poi"),
        "poi_name",
        yuan("redeemed_amount").alias("redeemed_amount"),
        yuan("merchant_amount").alias("merchant_amount"),
        yuan("platform_fee").alias("platform_fee_amount"),
    )
    stores = store_map.where(F.col("platform") == CHANNEL).select(
        F.col("platform_store_id").alias("douyin_poi"), "store_code"
    )
    status = F.trim("status")
    is_redeemed = F.col("redeemed_at").isNotNull()
    final_status = (
        F.when(status == "已退款", "refunded")
        .when(is_redeemed, "redeemed")
        .otherwise(
            F.coalesce(
                *[F.when(status == k, F.lit(v)) for k, v in STATUSES.items()], F.lit("unknown")
            )
        )
    )
    return (
        sold.join(redeemed, "voucher_code", "left")
        .join(stores, "douyin_poi", "left")
        .join(sold_files, "voucher_code", "left")
        .join(redeemed_files, "voucher_code", "left")
        .select(
            "voucher_code",
            F.trim("order_id").alias("douyin_order_id"),
            F.trim("douyin_product_id").alias("douyin_product_id"),
            "product_title",
            F.col("ordered_at").alias("sold_at"),
            F.to_date("ordered_at").alias("business_date"),
            final_status.alias("status"),
            status.alias("source_status"),
            yuan("list_price").alias("list_price"),
            yuan("paid_amount").alias("paid_amount"),
            yuan("platform_subsidy").alias("platform_subsidy"),
            F.nullif(F.trim("host_nickname"), F.lit("")).alias("host_nickname"),
            yuan("host_commission").alias("host_commission_amount"),
            "douyin_open_id",
            F.nullif(F.trim("masked_phone"), F.lit("")).alias("masked_phone"),
            "redeemed_at",
            "douyin_poi",
            "store_code",
            F.coalesce("redeemed_amount", zero()).alias("redeemed_amount"),
            F.coalesce("merchant_amount", zero()).alias("merchant_amount"),
            F.coalesce("platform_fee_amount", zero()).alias("platform_fee_amount"),
            (is_redeemed & (status != "已退款")).alias("is_revenue"),
            F.array_sort(
                F.array_union(
                    F.coalesce("sale_files", F.array().cast("array<string>")),
                    F.coalesce("redemption_files", F.array().cast("array<string>")),
                )
            ).alias("source_files"),
        )
    )


def observed_douyin_products(states: DataFrame) -> DataFrame:
    return (
        states.where(F.col("douyin_product_id").isNotNull())
        .groupBy(
            F.lit(CHANNEL).alias("platform"), F.col("douyin_product_id").alias("platform_value")
        )
        .agg(F.max("product_title").alias("platform_title"))
    )


def build_douyin_orders(states: DataFrame, product_map: DataFrame, key: bytes) -> ChannelOrders:
    orders = (
        states.withColumn("order_id", douyin_order_id(F.col("voucher_code")))
        .withColumn("channel", F.lit(CHANNEL))
        .withColumn("source_order_id", F.col("douyin_order_id"))
        .withColumn("order_type", F.lit("voucher"))
        .withColumn("platform_store_id", F.col("douyin_poi"))
        .withColumn("ordered_at", F.col("sold_at"))
        .withColumn("updated_at", F.greatest("sold_at", "redeemed_at"))
        .withColumn("recognised_date", F.to_date("redeemed_at"))
        .withColumn(
            "douyin_open_id_pseudonym", ids.pseudonym(key, ids.DOUYIN_OPEN_ID, "douyin_open_id")
        )
        .withColumn("gross_amount", F.col("list_price"))
        .withColumn(
            "merchant_promotion_amount",
            money(
                F.greatest(
                    F.col("list_price") - F.col("paid_amount") - F.col("platform_subsidy"), F.lit(0)
                )
            ),
        )
        .withColumn("customer_paid_amount", F.col("paid_amount"))
        .withColumn(
            "refund_amount",
            F.when(F.col("status") == "refunded", F.col("paid_amount")).otherwise(zero()),
        )
        .withColumn("net_amount", F.col("merchant_amount"))
        .withColumn(
            "is_amount_consistent",
            F.col("redeemed_at").isNull()
            | (
                F.abs(
                    F.col("merchant_amount")
                    - (F.col("redeemed_amount") - F.col("platform_fee_amount"))
                )
                < 0.005
            ),
        )
        .withColumn("line_count", F.lit(1))
    )
    orders = zero_unless_revenue(orders)
    mapping = product_map.where(F.col("platform") == CHANNEL).select(
        F.col("platform_value").alias("douyin_product_id"), "sku", "match_method"
    )
    lines = (
        orders.join(mapping, "douyin_product_id", "left")
        .withColumn("line_no", F.lit(1))
        .withColumn("source_product", F.coalesce("douyin_product_id", "product_title"))
        .withColumn("sku_match_method", F.coalesce("match_method", F.lit("unmapped")))
        .withColumn("qty", F.lit(1).cast("decimal(12,3)"))
        .withColumn("unit_price", F.col("list_price"))
        .withColumn(
            "line_amount",
            F.when(F.col("redeemed_at").isNotNull(), F.col("redeemed_amount")).otherwise(
                money(F.col("paid_amount") + F.col("platform_subsidy"))
            ),
        )
        .withColumn("discount_amount", money(F.col("list_price") - F.col("line_amount")))
    )
    return ChannelOrders(complete(orders, ORDERS_SCHEMA), complete(lines, ORDER_LINES_SCHEMA))
