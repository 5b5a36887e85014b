"""Per-person outputs: the pseudonymised profile (`silver/members`) and the vault.

`silver/members` is what analysts see: masked phone and name, birth year and age band
instead of the birthday, the CRM attributes, and how the person was resolved. The
restricted `silver/pii_vault` holds the only clear contact details (phone, name,
unionid, openid) with the marketing consent that governs their use, for activation.

Erasure (PIPL, `is_deleted` on the member's latest CRM record): the vault row keeps
the one_id and `is_erased` but no clear value, and the member profile keeps only
pseudonyms (one_id, member_id_hash) and the deletion flag. The identity_map keeps
the person's pseudonymous identifiers so their past orders stay attributed without
any personal data.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from bakehouse.pii import mask_name_col, mask_phone_col, normalize_phone_col, pseudonym_col
from transforms.identity import config as c

# What `members` says about how a person was resolved (from their identifiers).
PERSON_COLUMNS = (
    "identifier_count",
    "id_types",
    "has_probabilistic_link",
    "first_seen",
    "last_seen",
)
AGE_BANDS = ((18, "<18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


def latest_members(mp_members: DataFrame) -> DataFrame:
    """The current CRM record of each member (latest `updated_at`, then latest file)."""
    order = [F.desc_nulls_last("updated_at")]
    if "business_date" in mp_members.columns:
        order.append(F.desc_nulls_last("business_date"))
    if "source_row" in mp_members.columns:
        order.append(F.desc_nulls_last("source_row"))
    window = Window.partitionBy("member_id").orderBy(*order)
    return (
        mp_members.withColumn("version_rank", F.row_number().over(window))
        .where(F.col("version_rank") == 1)
        .drop("version_rank")
    )


def _age_band(age: Column) -> Column:
    band = F.when(age.isNull(), F.lit(None).cast("string"))
    for upper, label in AGE_BANDS:
        band = band.when(age < upper, F.lit(label))
    return band.otherwise(F.lit("65+"))


def primary_members(
    assigned: DataFrame, mp_members: DataFrame | None, key: bytes
) -> DataFrame | None:
    """Each person's primary member record: live before deleted, then the latest.

    The person's member ids are known by their pseudonym (a night re-resolves people
    whose ids it saw on earlier nights), so the CRM records join on the keyed hash.
    """
    if mp_members is None:
        return None
    member_of = assigned.where(F.col("id_type") == c.MEMBER_ID).select(
        F.col("id_hash").alias("member_hash"), "one_id"
    )
    # Hash first and keep only these people's records: the latest-version window then
    # runs over tonight's people, not over every CRM record ever exported.
    hashed = mp_members.withColumn(
        "member_hash", pseudonym_col(key, c.MEMBER_ID, F.trim("member_id"))
    ).join(member_of.select("member_hash"), "member_hash", "left_semi")
    members = latest_members(hashed).join(member_of, "member_hash")
    window = Window.partitionBy("one_id").orderBy(
        F.asc(F.coalesce(F.col("is_deleted"), F.lit(False))),
        F.desc_nulls_last("updated_at"),
        F.asc("member_id"),
    )
    counts = members.groupBy("one_id").agg(
        F.count("*").alias("member_count"),
        F.bool_and(F.coalesce(F.col("is_deleted"), F.lit(False))).alias("all_deleted"),
    )
    return (
        members.withColumn("member_rank", F.row_number().over(window))
        .where(F.col("member_rank") == 1)
        .drop("member_rank")
        .join(counts, "one_id")
    )


def members_profile(assigned: DataFrame, primary: DataFrame | None, night: date) -> DataFrame:
    """`silver/members`: one pseudonymised row per one_id (members and platform-only)."""
    people = assigned.groupBy("one_id").agg(
        F.count("*").alias("identifier_count"),
        F.sort_array(F.collect_set("id_type")).alias("id_types"),
        F.min("first_seen").alias("first_seen"),
        F.max("last_seen").alias("last_seen"),
        F.bool_or(F.col("link_kind") == c.PROBABILISTIC).alias("has_probabilistic_link"),
    )
    if primary is None:
        return people.select(
            "one_id",
            F.lit(False).alias("is_member"),
            *[F.lit(None).cast(t).alias(n) for n, t in _PROFILE_TYPES],
            F.lit(False).alias("is_deleted"),
            *PERSON_COLUMNS,
            F.lit(night).alias("night"),
        )
    erased = F.col("all_deleted")
    kept = F.when(~erased, F.lit(True))
    age = F.floor(F.months_between(F.lit(night), F.col("birthday")) / 12)
    profile = primary.select(
        "one_id",
        "member_count",
        F.col("member_hash").alias("member_id_hash"),
        F.when(kept, mask_phone_col(normalize_phone_col("phone"))).alias("masked_phone"),
        F.when(kept, mask_name_col("name")).alias("masked_name"),
        F.when(kept, F.col("gender")).alias("gender"),
        F.when(kept, F.year("birthday")).alias("birth_year"),
        F.when(kept, F.month("birthday")).alias("birth_month"),
        F.when(kept, _age_band(age)).alias("age_band"),
        F.when(kept, F.col("level")).alias("level"),
        F.when(kept, F.col("points_balance")).alias("points_balance"),
        F.when(kept, F.col("register_store")).alias("register_store"),
        F.when(kept, F.col("register_channel")).alias("register_channel"),
        F.when(kept, F.col("registered_at")).alias("registered_at"),
        F.when(kept, F.coalesce("marketing_consent", F.lit(False))).alias("marketing_consent"),
        F.when(kept, F.col("consent_updated_at")).alias("consent_updated_at"),
        erased.alias("is_deleted"),
        F.col("updated_at").alias("member_updated_at"),
    )
    return people.join(profile, "one_id", "left").select(
        "one_id",
        F.col("member_id_hash").isNotNull().alias("is_member"),
        *[F.col(name).cast(type_) for name, type_ in _PROFILE_TYPES],
        F.coalesce("is_deleted", F.lit(False)).alias("is_deleted"),
        *PERSON_COLUMNS,
        F.lit(night).alias("night"),
    )


_PROFILE_TYPES: tuple[tuple[str, str], ...] = (
    ("member_count", "bigint"),
    ("member_id_hash", "string"),
    ("masked_phone", "string"),
    ("masked_name", "string"),
    ("gender", "string"),
    ("birth_year", "int"),
    ("birth_month", "int"),  # 1-12 only, for birthday offers (生日月)
    ("age_band", "string"),
    ("level", "string"),
    ("points_balance", "bigint"),
    ("register_store", "string"),
    ("register_channel", "string"),
    ("registered_at", "timestamp"),
    ("marketing_consent", "boolean"),
    ("consent_updated_at", "timestamp"),
    ("member_updated_at", "timestamp"),
)


def pii_vault(primary: DataFrame | None, night: date) -> DataFrame | None:
    """`silver/pii_vault`: clear contact details of members, erased where deleted."""
    if primary is None:
        return None
    live = ~F.col("all_deleted")

    def clear(column: Column) -> Column:
        return F.when(live, column)

    return primary.select(
        "one_id",
        clear(F.col("member_id")).alias("member_id"),
        clear(normalize_phone_col("phone")).alias("phone"),
        clear(F.col("name")).alias("name"),
        clear(F.col("unionid")).alias("unionid"),
        clear(F.col("openid")).alias("openid"),
        F.when(live, F.coalesce("marketing_consent", F.lit(False)))
        .otherwise(F.lit(False))
        .alias("marketing_consent"),
        F.col("consent_updated_at"),
        F.col("all_deleted").alias("is_erased"),
        F.when(F.col("all_deleted"), F.col("updated_at")).alias("erased_at"),
        F.col("updated_at").alias("member_updated_at"),
        F.lit(night).alias("night"),
    )
