"""Column helpers every silver domain uses: money, casts, latest-record selection."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

MONEY = T.DecimalType(18, 2)
QTY = T.DecimalType(12, 3)
RATE = T.DecimalType(9, 4)


def zero() -> Column:
    """Money 0 (a function: a Column cannot be built before a session exists)."""
    return F.lit(0).cast(MONEY)


def yuan(column: Column | str) -> Column:
    """A yuan amount as decimal(18,2), nulls as 0: silver money is never null."""
    value = F.col(column) if isinstance(column, str) else column
    return F.coalesce(value.cast(MONEY), zero())


def fen_to_yuan(column: Column | str) -> Column:
    """JSON feeds carry integer fen; silver is yuan decimal(18,2)."""
    value = F.col(column) if isinstance(column, str) else column
    return F.coalesce((value.cast(T.DecimalType(20, 0)) / F.lit(100)).cast(MONEY), zero())


def money(column: Column) -> Column:
    """Cast an arithmetic result back to decimal(18,2) (Spark widens decimal scale)."""
    return F.round(column, 2).cast(MONEY)


def latest_per_key(df: DataFrame, keys: Sequence[str], order: Sequence[Column]) -> DataFrame:
    """One row per key: the first by `order` (e.g. latest `updated_at`, then latest file).

    Ties are broken by the bronze lineage (newest file date, newest ingestion, last
    row in the file), so the choice is deterministic on every engine.
    """
    tie_breakers = [
        F.col("business_date").desc_nulls_last(),
        F.col("ingested_at").desc_nulls_last(),
        F.col("source_file").desc_nulls_last(),
        F.col("source_row").desc_nulls_last(),
    ]
    window = Window.partitionBy(*keys).orderBy(*order, *tie_breakers)
    return (
        df.withColumn("_rank", F.row_number().over(window)).where(F.col("_rank") == 1).drop("_rank")
    )


def conform(df: DataFrame, schema: T.StructType) -> DataFrame:
    """Select exactly `schema`'s columns, cast to its types: the table's contract.

    A missing column fails at analysis with its name. No `df.columns` check up front:
    on Spark Connect it is a schema round trip of the whole plan (~0.3 s on silver's).
    """
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields])


def allocate(
    lines: DataFrame, order_key: str, line_key: str, basis: str, total: str, out: str
) -> DataFrame:
    """Split each order's `total` over its lines pro rata to `basis`, to the fen.

    The rounding residual goes to the last line, so the lines always add up to the
    order exactly; orders whose basis sums to 0 are split by line count.
    """
    by_order = Window.partitionBy(order_key)
    last_first = Window.partitionBy(order_key).orderBy(F.col(line_key).desc())
    basis_sum = F.sum(basis).over(by_order)
    line_count = F.count(F.lit(1)).over(by_order)
    share = F.when(basis_sum != 0, F.col(total) * F.col(basis) / basis_sum).otherwise(
        F.col(total) / line_count
    )
    lines = lines.withColumn("_share", money(share))
    residual = F.col(total) - F.sum("_share").over(by_order)
    return (
        lines.withColumn("_is_last", F.row_number().over(last_first) == 1)
        .withColumn(
            out,
            money(F.when(F.col("_is_last"), F.col("_share") + residual).otherwise(F.col("_share"))),
        )
        .drop("_share", "_is_last")
    )
