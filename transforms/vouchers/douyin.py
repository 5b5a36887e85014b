"""`silver/vouchers`: every Douyin voucher from sale to redemption, and its POS ticket.

Partitioned by the sale date (`business_date`): host commission is marketing cost
then. Revenue is recognised at redemption, in the redeeming store (POI → store code),
for the merchant amount; expired or refunded vouchers are never revenue. The POS
ticket the voucher paid for is found through the 券码 on the ticket; that ticket is
not revenue itself (see `transforms.orders.pos`), so the sale counts once.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common import identity as ids
from transforms.common.columns import MONEY, conform
from transforms.orders.douyin import douyin_order_id
from transforms.orders.pos import DOUYIN_VOUCHER_PAYMENT, pos_lines

VOUCHERS_SCHEMA = T.StructType(
    [
        T.StructField("voucher_code", T.StringType(), False),  # 券码
        T.StructField("order_id", T.StringType(), False),  # silver/orders key: douyin:<券码>
        T.StructField("douyin_order_id", T.StringType()),  # 订单编号
        T.StructField("douyin_product_id", T.StringType()),
        T.StructField("sku", T.StringType()),
        T.StructField("product_title", T.StringType()),
        T.StructField("business_date", T.DateType(), False),  # sale date
        T.StructField("sold_at", T.TimestampType()),
        T.StructField("status", T.StringType()),  # paid | redeemed | refunded | expired
        T.StructField("source_status", T.StringType()),
        T.StructField("list_price", MONEY),
        T.StructField("paid_amount", MONEY),
        T.StructField("platform_subsidy", MONEY),
        T.StructField("host_nickname", T.StringType()),
        T.StructField("host_commission_amount", MONEY),
        T.StructField("douyin_open_id_pseudonym", T.StringType()),
        T.StructField("masked_phone", T.StringType()),
        T.StructField("redeemed_at", T.TimestampType()),
        T.StructField("redeemed_date", T.DateType()),
        T.StructField("douyin_poi", T.StringType()),
        T.StructField("store_code", T.StringType()),  # redeeming store
        T.StructField("redeemed_amount", MONEY),
        T.StructField("merchant_amount", MONEY),
        T.StructField("platform_fee_amount", MONEY),
        T.StructField("is_revenue", T.BooleanType(), False),
        T.StructField("pos_order_id", T.StringType()),
        T.StructField("pos_store_code", T.StringType()),
        T.StructField("pos_received_amount", MONEY),
        T.StructField("source_files", T.ArrayType(T.StringType())),
    ]
)


def pos_voucher_tickets(pos_sales: DataFrame) -> DataFrame:
    """POS sale tickets paid with 抖音券, by 券码."""
    lines = pos_lines(pos_sales).where(
        F.col("voucher_code").isNotNull()
        & F.col("payment_method").contains(DOUYIN_VOUCHER_PAYMENT)
        & (F.col("doc_type") == "sale")
    )
    return lines.groupBy("voucher_code").agg(
        F.max("order_id").alias("pos_order_id"),
        F.max("store_code").alias("pos_store_code"),
        F.sum("received_amount").cast(MONEY).alias("pos_received_amount"),
        F.collect_set("source_file").alias("pos_files"),
    )


def build_vouchers(
    states: DataFrame, pos_tickets: DataFrame, product_map: DataFrame, key: bytes
) -> DataFrame:
    """`states` is `transforms.orders.douyin.voucher_states`; `pos_tickets` as above."""
    mapping = product_map.where(F.col("platform") == "douyin").select(
        F.col("platform_value").alias("douyin_product_id"), "sku"
    )
    built = (
        states.join(pos_tickets, "voucher_code", "left")
        .join(mapping, "douyin_product_id", "left")
        .withColumn("order_id", douyin_order_id(F.col("voucher_code")))
        .withColumn("redeemed_date", F.to_date("redeemed_at"))
        .withColumn(
            "douyin_open_id_pseudonym", ids.pseudonym(key, ids.DOUYIN_OPEN_ID, "douyin_open_id")
        )
        .withColumn(
            "source_files",
            F.array_sort(
                F.array_union(
                    "source_files", F.coalesce("pos_files", F.array().cast("array<string>"))
                )
            ),
        )
    )
    return conform(built, VOUCHERS_SCHEMA)
