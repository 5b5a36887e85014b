"""The shape every channel's orders and lines are conformed to.

Money is yuan decimal(18,2), VAT-inclusive like the chain's management accounts.
`net_amount` is what the chain keeps and is 0 whenever `is_revenue` is false, so
revenue is simply `sum(net_amount)` grouped by `recognised_date`; the other amount
columns are what the source says, for every row (docs/SILVER.md has the formulas).
"""

from __future__ import annotations

from typing import NamedTuple

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.columns import MONEY, QTY, zero
from transforms.common.identity import ORDER_IDENTITY_COLUMNS

AMOUNT_COLUMNS = (
    "gross_amount",  # list value of the goods (原价)
    "discount_amount",  # chain-funded price reductions on own channels (line discounts, coupons)
    "merchant_promotion_amount",  # chain-funded promotions on platforms (商家活动补贴)
    "platform_fee_amount",  # platform commission / service fee (平台佣金, 平台服务费)
    "delivery_fee_amount",  # delivery fee paid by the customer (配送费, freight)
    "host_commission_amount",  # Douyin live-commerce host commission (达人佣金)
    "refund_amount",  # refunded to the customer (退款金额)
    "customer_paid_amount",  # what the customer paid, delivery included
    "net_amount",  # what the chain keeps; 0 unless is_revenue
)

ORDERS_SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.StringType(), False),  # `<channel>:<source id>`
        T.StructField("channel", T.StringType(), False),
        T.StructField("source_order_id", T.StringType()),
        T.StructField("order_type", T.StringType()),  # sale | return | voucher
        T.StructField("store_code", T.StringType()),
        T.StructField("platform_store_id", T.StringType()),  # Meituan/Ele.me store id, Douyin POI
        T.StructField("b2b_customer_code", T.StringType()),
        T.StructField("business_date", T.DateType(), False),
        T.StructField("ordered_at", T.TimestampType()),
        T.StructField("updated_at", T.TimestampType()),
        T.StructField("status", T.StringType()),
        T.StructField("source_status", T.StringType()),
        T.StructField("is_revenue", T.BooleanType(), False),
        T.StructField("recognised_date", T.DateType()),
        T.StructField("original_order_id", T.StringType()),
        T.StructField("counted_in_order_id", T.StringType()),
        T.StructField("voucher_code", T.StringType()),
        T.StructField("fulfillment", T.StringType()),
        T.StructField("payment_method", T.StringType()),
        *[T.StructField(name, T.StringType()) for name, _ in ORDER_IDENTITY_COLUMNS],
        T.StructField("masked_phone", T.StringType()),
        *[T.StructField(name, MONEY, False) for name in AMOUNT_COLUMNS],
        T.StructField("is_amount_consistent", T.BooleanType()),
        T.StructField("line_count", T.IntegerType()),
        T.StructField("source_files", T.ArrayType(T.StringType())),
    ]
)

ORDER_LINES_SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.StringType(), False),
        T.StructField("line_no", T.IntegerType(), False),
        T.StructField("channel", T.StringType(), False),
        T.StructField("business_date", T.DateType(), False),
        T.StructField("store_code", T.StringType()),
        T.StructField("sku", T.StringType()),  # null when the name does not map
        T.StructField("source_product", T.StringType()),  # name or id as the channel gave it
        T.StructField("sku_match_method", T.StringType()),
        T.StructField("qty", QTY),
        T.StructField("unit_price", MONEY),
        T.StructField("discount_amount", MONEY, False),
        T.StructField("line_amount", MONEY, False),  # qty x unit price - discount, as sold
        T.StructField("net_amount", MONEY, False),  # the order's net_amount allocated
        T.StructField("is_revenue", T.BooleanType(), False),
        T.StructField("recognised_date", T.DateType()),
    ]
)


class ChannelOrders(NamedTuple):
    """A channel's contribution: its orders and their lines, both conformed."""

    orders: DataFrame
    lines: DataFrame


def complete(df: DataFrame, schema: T.StructType) -> DataFrame:
    """Add the columns a channel does not have (money 0, the rest null) and conform."""
    present = set(df.columns)  # one schema round trip on Spark Connect, not one per field
    return df.select(
        *[
            (F.col(f.name) if f.name in present else zero() if f.dataType == MONEY else F.lit(None))
            .cast(f.dataType)
            .alias(f.name)
            for f in schema.fields
        ]
    )


def zero_unless_revenue(df: DataFrame, column: str = "net_amount") -> DataFrame:
    return df.withColumn(column, F.when(F.col("is_revenue"), F.col(column)).otherwise(zero()))
