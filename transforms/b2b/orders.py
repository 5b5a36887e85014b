"""`silver/b2b_orders`: the latest state of every B2B order line.

A line (订单号 + 商品编码) reappears in the ERP export whenever its status or payment
changes; the newest file wins. Revenue is recognised on 交货日期 once 已签收; a line
whose latest state is 已退货 is not revenue (the reversal restates the delivery date).
Amounts are VAT-inclusive (like the retail management accounts) with the net-of-VAT
split beside them. A receivable is open from the delivery date until 回款日期 and
overdue once past the customer's 账期天数; "today" is `as_of_date`, the newest ERP
order file, so rebuilding the same bronze gives the same answer.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.bronze import current_copies
from transforms.common.columns import MONEY, QTY, RATE, conform, latest_per_key, money, yuan

STATUSES = {"已下单": "ordered", "已发货": "shipped", "已签收": "delivered", "已退货": "returned"}

B2B_ORDERS_SCHEMA = T.StructType(
    [
        T.StructField("order_id", T.StringType(), False),
        T.StructField("sku", T.StringType(), False),
        T.StructField("customer_code", T.StringType()),
        T.StructField("order_date", T.DateType()),
        T.StructField("delivery_date", T.DateType()),
        T.StructField("qty", QTY),
        T.StructField("unit_price", MONEY),
        T.StructField("amount", MONEY, False),  # VAT-inclusive (金额)
        T.StructField("vat_rate", RATE),
        T.StructField("amount_ex_vat", MONEY, False),
        T.StructField("vat_amount", MONEY, False),
        T.StructField("status", T.StringType()),  # ordered | shipped | delivered | returned
        T.StructField("source_status", T.StringType()),
        T.StructField("is_revenue", T.BooleanType(), False),
        T.StructField("recognised_date", T.DateType()),
        T.StructField("paid_date", T.DateType()),
        T.StructField("payment_terms_days", T.IntegerType()),
        T.StructField("due_date", T.DateType()),
        T.StructField("as_of_date", T.DateType()),
        T.StructField("is_receivable_open", T.BooleanType(), False),
        T.StructField("is_overdue", T.BooleanType(), False),
        T.StructField("days_overdue", T.IntegerType()),
        T.StructField("last_changed_date", T.DateType()),
        T.StructField("source_file", T.StringType()),
    ]
)


def latest_b2b_lines(erp_b2b_orders: DataFrame) -> DataFrame:
    """The newest state of each (order, sku) line, typed, statuses in English."""
    current = current_copies(erp_b2b_orders).where(F.trim("order_id") != "")
    current = current.withColumn("order_id", F.trim("order_id")).withColumn("sku", F.trim("sku"))
    latest = latest_per_key(current, ["order_id", "sku"], [])
    status = F.trim("status")
    return latest.select(
        "order_id",
        "sku",
        F.trim("customer_code").alias("customer_code"),
        "order_date",
        "delivery_date",
        "qty",
        yuan("unit_price").alias("unit_price"),
        yuan("amount").alias("amount"),
        F.coalesce("vat_rate", F.lit(0)).cast(RATE).alias("vat_rate"),
        F.coalesce(
            *[F.when(status == k, F.lit(v)) for k, v in STATUSES.items()], F.lit("unknown")
        ).alias("status"),
        status.alias("source_status"),
        (status == "已签收").alias("is_revenue"),
        "paid_date",
        F.col("business_date").alias("last_changed_date"),
        "source_file",
    )


def build_b2b_orders(lines: DataFrame, customers: DataFrame) -> DataFrame:
    """Latest lines + VAT split + receivable columns (customers give the payment terms)."""
    terms = customers.select("customer_code", "payment_terms_days")
    as_of = lines.agg(F.max("last_changed_date").alias("as_of_date"))
    due = F.date_add("delivery_date", F.coalesce(F.col("payment_terms_days"), F.lit(0)))
    settled_on = F.coalesce(F.col("paid_date"), F.col("as_of_date"))
    built = (
        lines.join(terms, "customer_code", "left")
        .crossJoin(as_of)
        .withColumn("amount_ex_vat", money(F.col("amount") / (F.lit(1) + F.col("vat_rate"))))
        .withColumn("vat_amount", money(F.col("amount") - F.col("amount_ex_vat")))
        .withColumn("recognised_date", F.when(F.col("is_revenue"), F.col("delivery_date")))
        .withColumn("due_date", F.when(F.col("is_revenue"), due))
        .withColumn("is_receivable_open", F.col("is_revenue") & F.col("paid_date").isNull())
        .withColumn(
            "days_overdue",
            F.when(F.col("is_revenue"), F.greatest(F.datediff(settled_on, due), F.lit(0))),
        )
        .withColumn(
            "is_overdue",
            F.coalesce(F.col("is_receivable_open") & (F.col("days_overdue") > 0), F.lit(False)),
        )
    )
    return conform(built, B2B_ORDERS_SCHEMA)
