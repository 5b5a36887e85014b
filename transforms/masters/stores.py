"""`silver/stores` and `silver/store_platform_map` from the ERP store snapshot.

The ERP store file is the only source of the platforms' store ids (Meituan store id,
Ele.me shop id, Douyin POI), so the map is derived from the latest snapshot alone.
Codes and ids are compared in their join form (`bakehouse.normalize.key_text_col`).

A platform id that two stores claim, or one that a spreadsheet printed in scientific
notation (`7.1E+18`: the digits are gone, so it would match whichever store came out
alike), maps to no store: `store_conflicts` lists it, its orders stay unmapped under
the platform id (`silver/unmapped_platform_names`, kind `store_conflict`) and the build
reports it. Picking one of the claimants would book one store's revenue to another.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bakehouse.normalize import key_text_col
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

STORE_CONFLICTS_SCHEMA = T.StructType(
    [
        T.StructField("platform", T.StringType(), False),
        T.StructField("platform_store_id", T.StringType(), False),
        T.StructField("store_codes", T.StringType(), False),  # claimants, sorted, comma-joined
        T.StructField("reason", T.StringType(), False),  # shared_id | id_scientific_notation
    ]
)
PLATFORM_ID_COLUMNS = (
    ("meituan", "meituan_store_id"),
    ("eleme", "eleme_store_id"),
    ("douyin", "douyin_poi"),
)
# The same pattern bronze quarantines (`ingestion.common.casting.ID_SCIENTIFIC`).
_SCIENTIFIC = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)[eE][+-]?[0-9]+$"

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
    """One row per `code` (its join form) of a snapshot: the last row of the newest file wins.

    `dropDuplicates` would keep whichever duplicate a task met first, so two runs on the
    same files could publish different rows (issue #9); the bronze lineage decides here.
    """
    return latest_per_key(snapshot.withColumn(code, key_text_col(code)), [code], [])


def build_stores(erp_stores: DataFrame) -> DataFrame:
    """One row per store from the latest ERP snapshot, codes translated to English."""
    snapshot = one_row_per_code(
        latest_snapshot(erp_stores).where(key_text_col("store_code").isNotNull()), "store_code"
    )
    stores = snapshot.select(
        key_text_col("store_code").alias("store_code"),
        "store_name",
        "city",
        "region",
        _translate("store_type", STORE_TYPES).alias("store_type"),
        "opened_on",
        "floor_area_sqm",
        F.nullif(F.trim("franchisee_code"), F.lit("")).alias("franchisee_code"),
        "royalty_rate",
        _translate("status", STORE_STATUSES).alias("status"),
        key_text_col("meituan_store_id").alias("meituan_store_id"),
        key_text_col("eleme_store_id").alias("eleme_store_id"),
        key_text_col("douyin_poi").alias("douyin_poi"),
        F.col("business_date").alias("snapshot_date"),
        "source_row",
    )
    return conform(stores, STORES_SCHEMA)


def _claims(stores: DataFrame) -> DataFrame:
    """Per (platform, platform store id): the stores claiming it and the snapshot date."""
    pairs = None
    for platform, column in PLATFORM_ID_COLUMNS:
        frame = stores.where(F.col(column).isNotNull()).select(
            F.lit(platform).alias("platform"),
            F.col(column).alias("platform_store_id"),
            "store_code",
            "snapshot_date",
        )
        pairs = frame if pairs is None else pairs.unionByName(frame)
    assert pairs is not None
    return pairs.groupBy("platform", "platform_store_id").agg(
        F.array_sort(F.collect_set("store_code")).alias("store_codes"),
        F.max("snapshot_date").alias("snapshot_date"),
    )


def _conflict_reason() -> F.Column:
    return F.when(
        F.col("platform_store_id").rlike(_SCIENTIFIC), F.lit("id_scientific_notation")
    ).when(F.size("store_codes") > 1, F.lit("shared_id"))


def build_store_platform_map(stores: DataFrame) -> DataFrame:
    """(platform, platform store id) -> store_code, for the ids exactly one store claims.

    An id two stores claim, or one in scientific notation, maps to nothing (see the
    module docstring and `store_conflicts`).
    """
    claims = _claims(stores)
    mapped = claims.where(_conflict_reason().isNull()).select(
        "platform",
        "platform_store_id",
        F.col("store_codes")[0].alias("store_code"),
        "snapshot_date",
    )
    return conform(mapped, STORE_PLATFORM_MAP_SCHEMA)


def store_conflicts(stores: DataFrame) -> DataFrame:
    """The platform ids the map leaves out, with their claimants and why.

    Shape: `STORE_CONFLICTS_SCHEMA`; `reason` is `shared_id` (claimed by more than one
    store) or `id_scientific_notation` (`7.1E+18`: the ERP id lost its digits).
    """
    claims = _claims(stores)
    conflicts = claims.select(
        "platform",
        "platform_store_id",
        F.array_join("store_codes", ",").alias("store_codes"),
        _conflict_reason().alias("reason"),
    ).where(F.col("reason").isNotNull())
    return conform(conflicts, STORE_CONFLICTS_SCHEMA)


def conflict_summary(stores: DataFrame) -> list[str]:
    """`store_conflicts` as lines for a run summary: `douyin 7.1E+18: HZ201,SH102 (...)`."""
    rows = store_conflicts(stores).orderBy("platform", "platform_store_id").collect()
    return [f"{r.platform} {r.platform_store_id}: {r.store_codes} ({r.reason})" for r in rows]
