"""POS tickets (`bronze/pos_sales`, one row per ticket line) as orders.

- A ticket's business date is its till file's date (the till's business day).
- 作废 (voided) tickets count for nothing: `is_revenue` false.
- 退货 (return) tickets are orders of their own, on the day of the return, with the
  negative amounts the till gives, linked to the ticket they return through
  `original_order_id`.
- A ticket paid with 抖音券 is the redemption of a Douyin voucher: its revenue is
  counted once, on the Douyin voucher's order (`douyin:<券码>`), so the ticket itself
  is not revenue and points there through `counted_in_order_id`.
- 美团券 (Meituan group-buy) has no feed of its own: the till is its only record and
  the ticket is revenue as rung up.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from transforms.common import identity as ids
from transforms.common.bronze import current_copies
from transforms.common.columns import MONEY, latest_per_key, money, yuan, zero
from transforms.orders.model import (
    ORDER_LINES_SCHEMA,
    ORDERS_SCHEMA,
    ChannelOrders,
    complete,
    zero_unless_revenue,
)

CHANNEL = "pos"
DOC_TYPES = {"销售": "sale", "退货": "return", "作废": "voided"}
DOUYIN_VOUCHER_PAYMENT = "抖音券"


def pos_order_id(store_code: Column | str, ticket_no: Column | str) -> Column:
    store = F.col(store_code) if isinstance(store_code, str) else store_code
    ticket = F.col(ticket_no) if isinstance(ticket_no, str) else ticket_no
    return F.concat_ws(":", F.lit(CHANNEL), F.trim(store), F.trim(ticket))


def _blank_to_null(column: str) -> Column:
    return F.nullif(F.trim(F.col(column)), F.lit(""))


def pos_lines(pos_sales: DataFrame) -> DataFrame:
    """Current ticket lines, one per (store, ticket, line number), with typed helpers."""
    lines = latest_per_key(
        current_copies(pos_sales).where(F.trim("ticket_no") != ""),
        ["store_code", "ticket_no", "line_no"],
        [],
    )
    doc_type = F.trim("doc_type")
    return lines.select(
        pos_order_id("store_code", "ticket_no").alias("order_id"),
        F.trim("store_code").alias("store_code"),
        F.trim("ticket_no").alias("ticket_no"),
        F.coalesce(
            *[F.when(doc_type == k, F.lit(v)) for k, v in DOC_TYPES.items()], F.lit("unknown")
        ).alias("doc_type"),
        doc_type.alias("source_doc_type"),
        _blank_to_null("original_ticket_no").alias("original_ticket_no"),
        "sold_at",
        _blank_to_null("member_card_no").alias("member_card_no"),
        _blank_to_null("member_phone").alias("member_phone"),
        F.col("line_no").cast("int").alias("line_no"),
        _blank_to_null("sku").alias("sku"),
        "product_name",
        "qty",
        yuan("unit_price").alias("unit_price"),
        yuan("discount_amount").alias("discount_amount"),
        yuan("received_amount").alias("received_amount"),
        _blank_to_null("payment_method").alias("payment_method"),
        _blank_to_null("voucher_code").alias("voucher_code"),
        "business_date",
        "source_file",
    )


def build_pos_orders(pos_sales: DataFrame, key: bytes) -> ChannelOrders:
    """Tickets -> orders and lines (see the module docstring for the rules)."""
    lines = pos_lines(pos_sales)
    line_gross = money(F.col("qty") * F.col("unit_price"))
    line_ok = F.abs(line_gross - F.col("discount_amount") - F.col("received_amount")) < 0.005
    tickets = lines.groupBy("order_id").agg(
        F.max("store_code").alias("store_code"),
        F.max("ticket_no").alias("source_order_id"),
        F.max("doc_type").alias("doc_type"),
        F.max("source_doc_type").alias("source_status"),
        F.max("original_ticket_no").alias("original_ticket_no"),
        F.min("sold_at").alias("ordered_at"),
        F.max("member_card_no").alias("member_card_no"),
        F.max("member_phone").alias("member_phone"),
        F.max("payment_method").alias("payment_method"),
        F.max("voucher_code").alias("voucher_code"),
        F.max("business_date").alias("business_date"),
        money(F.sum(line_gross)).alias("gross_amount"),
        money(F.sum("discount_amount")).alias("discount_amount"),
        money(F.sum("received_amount")).alias("received_amount"),
        F.min(line_ok.cast("int")).alias("all_lines_ok"),
        F.count(F.lit(1)).cast("int").alias("line_count"),
        F.array_sort(F.collect_set("source_file")).alias("source_files"),
    )
    paid_with_douyin = F.coalesce(
        F.col("payment_method").contains(DOUYIN_VOUCHER_PAYMENT), F.lit(False)
    )
    orders = (
        tickets.withColumn("channel", F.lit(CHANNEL))
        .withColumn("order_type", F.when(F.col("doc_type") == "return", "return").otherwise("sale"))
        .withColumn(
            "status", F.when(F.col("doc_type") == "voided", "voided").otherwise("completed")
        )
        .withColumn("is_revenue", (F.col("doc_type") != "voided") & ~paid_with_douyin)
        .withColumn("recognised_date", F.col("business_date"))
        .withColumn(
            "original_order_id",
            F.when(
                F.col("original_ticket_no").isNotNull(),
                pos_order_id("store_code", "original_ticket_no"),
            ),
        )
        .withColumn(
            "counted_in_order_id",
            F.when(
                paid_with_douyin & F.col("voucher_code").isNotNull(),
                F.concat(F.lit("douyin:"), F.col("voucher_code")),
            ),
        )
        .withColumn("member_card_pseudonym", ids.pseudonym(key, ids.CARD, "member_card_no"))
        .withColumn("member_phone_pseudonym", ids.phone_pseudonym(key, "member_phone"))
        .withColumn("customer_paid_amount", F.col("received_amount"))
        .withColumn("net_amount", F.col("received_amount"))
        .withColumn("refund_amount", zero())
        .withColumn("is_amount_consistent", F.col("all_lines_ok") == 1)
        .withColumn("updated_at", F.col("ordered_at"))
    )
    orders = zero_unless_revenue(orders)

    order_flags = orders.select("order_id", "is_revenue", "recognised_date")
    order_lines = (
        lines.join(order_flags, "order_id")
        .withColumn("channel", F.lit(CHANNEL))
        .withColumn("source_product", F.col("product_name"))
        .withColumn("sku_match_method", F.when(F.col("sku").isNotNull(), "erp_code"))
        .withColumn("line_amount", F.col("received_amount"))
        .withColumn(
            "net_amount",
            F.when(F.col("is_revenue"), F.col("received_amount")).otherwise(zero()).cast(MONEY),
        )
    )
    return ChannelOrders(complete(orders, ORDERS_SCHEMA), complete(order_lines, ORDER_LINES_SCHEMA))
