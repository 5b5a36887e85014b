"""`silver/stores` and `silver/store_platform_map` from the ERP store snapshot.

The ERP store file is the only source of the platforms' store ids (Meituan store id,
Ele.me shop id, Douyin POI), so the map is derived from the latest snapshot alone.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from transforms.common.bronze import current_copies
from transforms.common.columns import RATE, conform, latest_per_key

STORES_SCHEMA = T.StructType(
    [
        T.StructField("store_code", T.StringType(), False),
        T.StructField("store_name", T.StringType()),
        T.StructField("city", T.StringType()),
        T.StructField("region", T.StringType()),
        T.StructField("store_type", T.StringType()),  # own | franchise (直营 | 加盟)
        T.StructField("opened_on", T.DateType()),
        T.StructField("floor_area_sqm", T.DecimalType(10, 1)),
        T.StructField("franchisee_code", T.StringType()),
        T.StructField("royalty_rate", RATE),
        T.StructField("status", T.StringType()),  # open | closed | opening (营业 | 停业 | 筹备)
        T.StructField("meituan_store_id", T.StringType()),
        T.StructField("eleme_store_id", T.StringType()),
        T.StructField("douyin_poi", T.StringType()),
        T.StructField("snapshot_date", T.DateType()),
    ]
)

STORE_PLATFORM_MAP_SCHEMA = T.StructType(
    [
        T.StructField("platform", T.StringType(), False),  # meituan | eleme | douyin
        T.StructField("platform_store_id", T.StringType(), False),
        T.StructField("store_code", T.StringType(), False),
        T.StructField("snapshot_date", T.DateType()),
    ]
)

STORE_TYPES = {"直营": "own", "加盟": "franchise"}
STORE_STATUSES = {"营业": "open", "停业": "closed", "筹备": "opening"}


def _translate(column: str, mapping: dict[str, str]) -> F.Column:
    value = F.trim(F.col(column))
    expr = F.lit(None).cast("string")
    for source, target in mapping.items():
        expr = F.when(value == source, F.lit(target)).otherwise(expr)
    return expr


def latest_snapshot(bronze: DataFrame) -> DataFrame:
    """The rows of the newest snapshot file (masters are full snapshots)."""
    current = current_copies(bronze)
    newest = current.agg(F.max("business_date").alias("business_date"))
    return current.join(newest, "business_date", "left_semi")


def one_row_per_code(snapshot: DataFrame, code: str) -> DataFrame:
    """One row per trimmed `code` of a snapshot: the last row of the newest file wins.

    `dropDuplicates` would keep whichever duplicate a task met first, so two runs on the
    same files could publish different rows (issue #9); the bronze lineage decides here.
    """
    return latest_per_key(snapshot.withColumn(code, F.trim(code)), [code], [])


def build_stores(erp_stores: DataFrame) -> DataFrame:
    """One row per store from the latest ERP snapshot, codes translated to English."""
    snapshot = one_row_per_code(
        latest_snapshot(erp_stores).where(F.trim("store_code") != ""), "store_code"
    )
    stores = snapshot.select(
        F.trim("store_code").alias("store_code"),
        "store_name",
        "city",
        "region",
        _translate("store_type", STORE_TYPES).alias("store_type"),
        "opened_on",
        "floor_area_sqm",
        F.nullif(F.trim("franchisee_code"), F.lit("")).alias("franchisee_code"),
        "royalty_rate",
        _translate("status", STORE_STATUSES).alias("status"),
        F.nullif(F.trim("meituan_store_id"), F.lit("")).alias("meituan_store_id"),
        F.nullif(F.trim("eleme_store_id"), F.lit("")).alias("eleme_store_id"),
        F.nullif(F.trim("douyin_poi"), F.lit("")).alias("douyin_poi"),
        F.col("business_date").alias("snapshot_date"),
        "source_row",
    )
    return conform(stores, STORES_SCHEMA)


def build_store_platform_map(stores: DataFrame) -> DataFrame:
    """(platform, platform store id) -> store_code; one store per platform id.

    If the ERP ever gives two stores the same platform id, the lowest store code wins
    deterministically; the duplicate is an ERP data error to fix at the source.
    """
    pairs = [
        ("meituan", "meituan_store_id"),
        ("eleme", "eleme_store_id"),
        ("douyin", "douyin_poi"),
    ]
    mapped = None
    for platform, column in pairs:
        frame = stores.where(F.col(column).isNotNull()).select(
            F.lit(platform).alias("platform"),
            F.col(column).alias("platform_store_id"),
            "store_code",
            "snapshot_date",
        )
        mapped = frame if mapped is None else mapped.unionByName(frame)
    first = mapped.groupBy("platform", "platform_store_id").agg(
        F.min("store_code").alias("store_code"), F.max("snapshot_date").alias("snapshot_date")
    )
    return conform(first, STORE_PLATFORM_MAP_SCHEMA)
