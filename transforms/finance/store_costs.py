"""`silver/store_costs_monthly`: one row per store and month, cost lines and total.

The ERP exports the month's costs once a month (GBK); a later copy of the same month
replaces the earlier one. Costs are VAT-inclusive like the store P&L.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.bronze import current_copies
from transforms.common.columns import MONEY, conform, latest_per_key, money, yuan

COST_COLUMNS = (
    "rent_amount",
    "labour_amount",
    "utilities_amount",
    "depreciation_amount",
    "marketing_amount",
    "other_amount",
)

STORE_COSTS_MONTHLY_SCHEMA = T.StructType(
    [
        T.StructField("cost_month", T.DateType(), False),  # first day of the month (月份)
        T.StructField("store_code", T.StringType(), False),
        *[T.StructField(c, MONEY, False) for c in COST_COLUMNS],
        T.StructField("total_cost_amount", MONEY, False),
        T.StructField("source_file", T.StringType()),
    ]
)


def build_store_costs_monthly(erp_store_costs: DataFrame) -> DataFrame:
    month = F.to_date(F.concat(F.substring(F.trim("cost_month"), 1, 7), F.lit("-01")))
    current = (
        current_copies(erp_store_costs)
        .withColumn("cost_month", F.coalesce(month, F.trunc("business_date", "month")))
        .withColumn("store_code", F.trim("store_code"))
        .where(F.col("store_code") != "")
    )
    latest = latest_per_key(current, ["cost_month", "store_code"], [])
    total = sum((yuan(c) for c in COST_COLUMNS), F.lit(0))
    built = latest.select(
        "cost_month",
        "store_code",
        *[yuan(c).alias(c) for c in COST_COLUMNS],
        money(total).alias("total_cost_amount"),
        "source_file",
    )
    return conform(built, STORE_COSTS_MONTHLY_SCHEMA)
