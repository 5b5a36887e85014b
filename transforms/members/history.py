"""`silver/member_history`: every dated version of every member's CRM record.

`silver/members` keeps only each person's latest record, so a member's level, points
and consent on a past date cannot be read from it. This table keeps every version the
CRM exported (one row per member and `updated_at`), with the interval it was current:
`[valid_from_at, valid_to_at)`, `valid_to_at` null for the current version. Gold asks
it "what did this member's record say on date D" (consent as of the as-of date).

Personal data: the member id is a keyed pseudonym (`member_id_hash`, the same value as
`silver/identity_map.id_hash` for id_type `member_id`, so it joins to `one_id`); name,
phone and the birthday are not kept, only the birth month (1-12) for birthday offers.
A version whose record is erased (`is_deleted`) keeps only its dates and the flag.

Duplicates: the same version re-exported in several files counts once (the copy of
the latest file wins: `business_date`, then `source_row`).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from transforms.common.identity import MEMBER_ID, pseudonym

MEMBER_HISTORY_COLUMNS = (
    "member_id_hash",
    "valid_from_at",
    "valid_to_at",
    "is_current",
    "is_deleted",
    "level",
    "points_balance",
    "marketing_consent",
    "consent_updated_at",
    "register_channel",
    "register_store",
    "registered_at",
    "gender",
    "birth_month",
    "source_business_date",
)


def build_member_history(mp_members: DataFrame, key: bytes) -> DataFrame:
    """Bronze `mp_members` (current file copies) -> one row per member version.

    Rows without a member id or an `updated_at` cannot be placed in time and are left
    out (bronze keeps them; the CRM contract makes both mandatory).
    """
    hashed = mp_members.where(
        F.col("updated_at").isNotNull() & (F.trim("member_id") != "")
    ).withColumn("member_id_hash", pseudonym(key, MEMBER_ID, "member_id"))
    latest_copy = Window.partitionBy("member_id_hash", "updated_at").orderBy(
        F.desc_nulls_last("business_date"), F.desc_nulls_last("source_row")
    )
    versions = (
        hashed.withColumn("copy_rank", F.row_number().over(latest_copy))
        .where(F.col("copy_rank") == 1)
        .drop("copy_rank")
    )
    timeline = Window.partitionBy("member_id_hash").orderBy("updated_at")
    deleted = F.coalesce(F.col("is_deleted"), F.lit(False))

    def kept(column: str | F.Column) -> F.Column:
        return F.when(~deleted, F.col(column) if isinstance(column, str) else column)

    return versions.select(
        "member_id_hash",
        F.col("updated_at").alias("valid_from_at"),
        F.lead("updated_at").over(timeline).alias("valid_to_at"),
        F.lead("updated_at").over(timeline).isNull().alias("is_current"),
        deleted.alias("is_deleted"),
        kept("level").alias("level"),
        kept("points_balance").cast("bigint").alias("points_balance"),
        F.when(~deleted, F.coalesce("marketing_consent", F.lit(False)))
        .otherwise(F.lit(False))
        .alias("marketing_consent"),
        kept("consent_updated_at").alias("consent_updated_at"),
        kept("register_channel").alias("register_channel"),
        kept("register_store").alias("register_store"),
        kept("registered_at").alias("registered_at"),
        kept("gender").alias("gender"),
        kept(F.month("birthday")).cast("int").alias("birth_month"),
        F.col("business_date").alias("source_business_date"),
    )
