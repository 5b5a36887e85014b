"""Reading bronze for silver: the contract's schemas, current file copies only.

Bronze is written by ingestion (delta-rs) with the columns of `ingestion.schemas`
plus the lineage columns. Silver never trusts that a re-exported file's old rows were
removed: `current_copies` keeps, per `source_file`, only the rows of the newest copy
(the spec: "the rows of the old copy must no longer count anywhere").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakehouse.normalize import key_text_col
from ingestion.schemas import FEEDS_BY_NAME, LINEAGE_COLUMNS

if TYPE_CHECKING:
    from bakehouse.lake import Lake

_TYPES: dict[str, T.DataType] = {
    "string": T.StringType(),
    "json": T.StringType(),
    "int": T.LongType(),
    "bool": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}


def spark_type(name: str) -> T.DataType:
    if name.startswith("decimal("):
        precision, scale = name[len("decimal(") : -1].split(",")
        return T.DecimalType(int(precision), int(scale))
    return _TYPES[name]


def bronze_schema(table: str) -> T.StructType:
    """The bronze table's schema per the contract: feed columns + lineage columns."""
    feed = FEEDS_BY_NAME[table]
    fields = [T.StructField(c.name, spark_type(c.type)) for c in feed.columns]
    fields += [T.StructField(name, spark_type(kind)) for name, kind in LINEAGE_COLUMNS]
    return T.StructType(fields)


def empty_bronze(spark: SparkSession, table: str) -> DataFrame:
    return spark.createDataFrame([], bronze_schema(table))


def read_bronze(lake: Lake, spark: SparkSession, table: str) -> DataFrame:
    """A bronze table with the contract's columns, or an empty frame before it exists.

    Columns the contract lists are cast to its types; missing optional ones are added
    as nulls, so a feed that has not landed yet never breaks the night. Identifier
    columns come in their join form (`bakehouse.normalize.key_text_col`: no BOM,
    zero-width or surrounding space, NFKC), so `HZ202` and `HZ202\u00a0` are one store;
    bronze keeps the raw value and its ledger counts the changed ones (`normalisable:N`).
    """
    schema = bronze_schema(table)
    if not lake.exists("bronze", table):
        return empty_bronze(spark, table)
    raw = lake.read("bronze", table)
    present = set(raw.columns)
    identifiers = set(FEEDS_BY_NAME[table].identifier_names)

    def column(name: str) -> F.Column:
        return key_text_col(name) if name in identifiers else F.col(name)

    return raw.select(
        *[
            (column(f.name) if f.name in present else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in schema.fields
        ]
    )


def current_copies(df: DataFrame) -> DataFrame:
    """Only the rows of the newest copy of each landing file.

    A copy is identified by its `file_sha256`; the newest is the one ingested last.
    """
    newest = Window.partitionBy("source_file").orderBy(F.col("ingested_at").desc())
    copies = (
        df.select("source_file", "file_sha256", "ingested_at")
        .groupBy("source_file", "file_sha256")
        .agg(F.max("ingested_at").alias("ingested_at"))
        .withColumn("_rank", F.row_number().over(newest))
        .where(F.col("_rank") == 1)
        .select("source_file", "file_sha256")
    )
    return df.join(copies, ["source_file", "file_sha256"], "left_semi")
