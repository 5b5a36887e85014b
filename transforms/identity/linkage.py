"""Probabilistic links for platform user ids that carry only weak evidence.

A Meituan, Ele.me or Douyin user id reaches us with a masked phone (`138****5678` or
`尾号5678`), the store it ordered from, a masked address (city at best) and the time of
day. None of this identifies anyone alone: about 6 of 2 million people share a
`138****5678`, about 200 a `尾号5678`. Together with the stores a person frequents it
often does. We weigh the evidence with a Fellegi-Sunter model in splink (DuckDB
backend): candidate pairs are blocked in Spark (same last four digits, and same
visible prefix or a store the person visits), only the records involved are pulled to
the driver as Arrow, and splink scores them with the fixed, documented m/u
probabilities below (docs/ONEID.md explains each Bayes factor). A platform id links to
the best person only if the match probability reaches `match_threshold` and the
runner-up is `match_margin` times less likely, so an ambiguous masked phone links
nobody.

Fixed parameters rather than EM: the candidate set is blocked on the phone, so EM
cannot learn the phone's m/u from it, and the priors below come from arithmetic on
the phone-number space and the store network that holds at any scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from transforms.identity import config as c
from transforms.identity.identifiers import person_activity, platform_activity

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

PROFILE_COLUMNS = ("unique_id", "last4", "prefix3", "home_store", "stores", "city", "daypart")
MASKED_FULL = r"^(1\d{2})\*+(\d{4})$"
MASKED_TAIL = r"^尾号(\d{4})$"
CITY = r"^([^*0-9]{1,8}?市)"
# Share of platform users expected to be someone we also know by phone.
LINKABLE_SHARE = 0.5


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    m: float
    u: float

    @property
    def bayes_factor(self) -> float:
        return self.m / self.u


# The model: (comparison name, levels). Null levels are added by `_comparison`.
MODEL: tuple[tuple[str, tuple[Level, ...]], ...] = (
    (
        "masked_phone",
        (
            Level(
                "prefix and last four agree",
                "prefix3_l = prefix3_r AND last4_l = last4_r",
                0.55,
                3e-6,
            ),
            Level(
                "last four agree, prefix hidden",
                "(prefix3_l IS NULL OR prefix3_r IS NULL) AND last4_l = last4_r",
                0.40,
                5e-5,
            ),
            Level("else", "ELSE", 0.05, 0.99995),
        ),
    ),
    (
        "store",
        (
            Level("home store agrees", "home_store_l = home_store_r", 0.60, 0.01),
            Level(
                "a store the person visits",
                "list_contains(stores_r, home_store_l) OR list_contains(stores_l, home_store_r)",
                0.30,
                0.02,
            ),
            Level("else", "ELSE", 0.10, 0.97),
        ),
    ),
    (
        "city",
        (
            Level("same city", "city_l = city_r", 0.95, 0.25),
            Level("else", "ELSE", 0.05, 0.75),
        ),
    ),
    (
        "daypart",
        (
            Level("same time of day", "daypart_l = daypart_r", 0.55, 0.30),
            Level("else", "ELSE", 0.45, 0.70),
        ),
    ),
)
NULL_CONDITIONS = {
    "masked_phone": "last4_l IS NULL OR last4_r IS NULL",
    "store": "home_store_l IS NULL OR home_store_r IS NULL",
    "city": "city_l IS NULL OR city_r IS NULL",
    "daypart": "daypart_l IS NULL OR daypart_r IS NULL",
}
# Symmetric in l/r: splink orders the two tables of a link_only job itself.
BLOCKING_RULE = (
    "l.last4 = r.last4 AND (l.prefix3 = r.prefix3 OR "
    "(l.prefix3 IS NULL AND list_contains(r.stores, l.home_store)) OR "
    "(r.prefix3 IS NULL AND list_contains(l.stores, r.home_store)))"
)


def splink_settings(prior: float) -> Any:
    """The splink settings of the weak-link model (link_only, fixed m/u)."""
    from splink import SettingsCreator
    from splink import comparison_library as cl

    comparisons = []
    for name, levels in MODEL:
        level_dicts: list[dict[str, Any]] = [
            {
                "sql_condition": NULL_CONDITIONS[name],
                "label_for_charts": "null",
                "is_null_level": True,
            }
        ]
        for level in levels:
            level_dicts.append(
                {
                    "sql_condition": level.sql,
                    "label_for_charts": level.label,
                    "m_probability": level.m,
                    "u_probability": level.u,
                }
            )
        comparisons.append(cl.CustomComparison(level_dicts, output_column_name=name))
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[BLOCKING_RULE],
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _daypart(hour_col: Any) -> Any:
    from pyspark.sql import functions as F

    return (
        F.when(hour_col.isNull(), F.lit(None).cast("string"))
        .when(hour_col < 11, F.lit("morning"))
        .when(hour_col < 14, F.lit("lunch"))
        .when(hour_col < 17, F.lit("afternoon"))
        .otherwise(F.lit("evening"))
    )


def _mode(frame: DataFrame, keys: list[str], value: str, alias: str) -> DataFrame:
    """The most frequent non-null `value` per `keys` (ties: the smallest value)."""
    from pyspark.sql import functions as F

    counts = frame.where(F.col(value).isNotNull()).groupBy(*keys, value).count()
    return counts.groupBy(*keys).agg(
        F.max_by(value, F.struct("count", F.lit(0) - F.length(value))).alias(alias)
    )


def platform_profiles(activity: DataFrame, singletons: DataFrame) -> DataFrame:
    """Evidence per still-unlinked platform user: masked phone, stores, city, time."""
    from pyspark.sql import functions as F

    keys = ["id_type", "id_value"]
    activity = activity.join(singletons.select(*keys, "node"), keys)
    masked = _mode(activity, keys, "masked_phone", "masked")
    home = _mode(activity, keys, "store_code", "home_store")
    city = _mode(
        activity.withColumn("city", F.regexp_extract("address", CITY, 1)).withColumn(
            "city", F.when(F.col("city") != "", F.col("city"))
        ),
        keys,
        "city",
        "city",
    )
    rest = activity.groupBy(*keys, "node").agg(
        F.sort_array(F.collect_set("store_code")).alias("stores"),
        F.avg(F.hour("at")).alias("hour"),
    )
    profile = rest.join(masked, keys, "left").join(home, keys, "left").join(city, keys, "left")
    full_prefix = F.regexp_extract("masked", MASKED_FULL, 1)
    full_tail = F.regexp_extract("masked", MASKED_FULL, 2)
    tail_only = F.regexp_extract("masked", MASKED_TAIL, 1)
    return profile.select(
        F.concat_ws(":", F.lit("p"), "node").alias("unique_id"),
        "node",
        F.when(full_tail != "", full_tail).when(tail_only != "", tail_only).alias("last4"),
        F.when(full_prefix != "", full_prefix).alias("prefix3"),
        "home_store",
        "stores",
        "city",
        _daypart(F.col("hour")).alias("daypart"),
    ).where(F.col("last4").isNotNull())


def person_profiles(
    assigned: DataFrame, activity: DataFrame | None, erp_stores: DataFrame | None
) -> DataFrame:
    """Evidence per (person, phone): the phone's prefix and tail, stores, city, time."""
    from pyspark.sql import functions as F

    phones = assigned.where(F.col("id_type") == c.PHONE).select(
        "component", F.col("id_value").alias("phone")
    )
    base = phones.select(
        "component",
        F.concat_ws(":", F.lit("q"), "component", "phone").alias("unique_id"),
        F.substring("phone", 8, 4).alias("last4"),
        F.substring("phone", 1, 3).alias("prefix3"),
    )
    if activity is None:
        return base.select(
            "component",
            "unique_id",
            "last4",
            "prefix3",
            F.lit(None).cast("string").alias("home_store"),
            F.array().cast("array<string>").alias("stores"),
            F.lit(None).cast("string").alias("city"),
            F.lit(None).cast("string").alias("daypart"),
        )
    visits = activity.join(
        assigned.select("id_type", "id_value", "component"), ["id_type", "id_value"]
    )
    home = _mode(visits, ["component"], "store_code", "home_store")
    rest = visits.groupBy("component").agg(
        F.sort_array(F.collect_set("store_code")).alias("stores"),
        F.avg(F.hour("at")).alias("hour"),
    )
    profile = base.join(home, "component", "left").join(rest, "component", "left")
    if erp_stores is not None:
        cities = erp_stores.groupBy(F.col("store_code").alias("home_store")).agg(
            F.max("city").alias("city")
        )
        profile = profile.join(cities, "home_store", "left")
    else:
        profile = profile.withColumn("city", F.lit(None).cast("string"))
    return profile.select(
        "component",
        "unique_id",
        "last4",
        "prefix3",
        "home_store",
        F.coalesce("stores", F.array().cast("array<string>")).alias("stores"),
        "city",
        _daypart(F.col("hour")).alias("daypart"),
    )


def candidate_records(platform: DataFrame, person: DataFrame) -> tuple[DataFrame, DataFrame]:
    """The platform and person records in at least one blocked pair (Spark side)."""
    from pyspark.sql import functions as F

    pairs = platform.alias("l").join(
        person.alias("r"),
        (F.col("l.last4") == F.col("r.last4"))
        & (
            (F.col("l.prefix3") == F.col("r.prefix3"))
            | (
                F.col("l.prefix3").isNull()
                & F.array_contains(F.col("r.stores"), F.col("l.home_store"))
            )
        ),
    )
    left_ids = pairs.select(F.col("l.unique_id").alias("unique_id")).distinct()
    right_ids = pairs.select(F.col("r.unique_id").alias("unique_id")).distinct()
    return (
        platform.join(left_ids, "unique_id", "left_semi"),
        person.join(right_ids, "unique_id", "left_semi"),
    )


def score(left: pd.DataFrame, right: pd.DataFrame, prior: float) -> pd.DataFrame:
    """splink predictions (unique_id_l, unique_id_r, match_weight, match_probability)."""
    import duckdb
    from splink import DuckDBAPI, Linker

    connection = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=connection)
        left_table = db_api.register(left[list(PROFILE_COLUMNS)], table_name="platform_users")
        right_table = db_api.register(right[list(PROFILE_COLUMNS)], table_name="people")
        linker = Linker([left_table, right_table], splink_settings(prior), log_level=None)
        predictions = linker.inference.predict(warning_mode="never")
        frame = predictions.as_pandas_dataframe()
    finally:
        connection.close()
    return frame[["unique_id_l", "unique_id_r", "match_weight", "match_probability"]]


def _platform_on_left(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the platform record (`p:` ids) as `unique_id_l`."""
    frame = predictions.copy()
    swapped = ~frame["unique_id_l"].str.startswith("p:")
    left = frame.loc[swapped, "unique_id_l"].copy()
    frame.loc[swapped, "unique_id_l"] = frame.loc[swapped, "unique_id_r"]
    frame.loc[swapped, "unique_id_r"] = left
    return frame


def best_links(predictions: pd.DataFrame, config: c.IdentityConfig) -> pd.DataFrame:
    """One person per platform user, if clearly the best: (left id, right id, p)."""
    import pandas as pd

    if predictions.empty:
        return pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability"])
    frame = _platform_on_left(predictions)
    frame["person"] = frame["unique_id_r"].str.rsplit(":", n=1).str[0]
    per_person = frame.sort_values("match_weight", ascending=False).drop_duplicates(
        ["unique_id_l", "person"]
    )
    ranked = per_person.sort_values(["unique_id_l", "match_weight"], ascending=[True, False])
    ranked["rank"] = ranked.groupby("unique_id_l").cumcount()
    best = ranked[ranked["rank"] == 0].set_index("unique_id_l")
    runner_up = ranked[ranked["rank"] == 1].set_index("unique_id_l")["match_weight"]
    best = best.join(runner_up.rename("runner_up_weight"))
    margin_bits = math.log2(config.match_margin)
    clear = best["runner_up_weight"].isna() | (
        best["match_weight"] - best["runner_up_weight"] >= margin_bits
    )
    chosen = best[(best["match_probability"] >= config.match_threshold) & clear]
    return chosen.reset_index()[["unique_id_l", "unique_id_r", "match_probability"]]


def make_weak_linker(bronze: dict[str, DataFrame], config: c.IdentityConfig):
    """A `WeakLinker` over the bronze tables (None when no platform orders exist)."""
    platform_events = platform_activity(bronze)
    person_events = person_activity(bronze)
    if platform_events is None:
        return None

    def link(assigned: DataFrame) -> DataFrame | None:
        from pyspark.sql import functions as F

        sizes = assigned.groupBy("component").agg(F.count("*").alias("size"))
        with_size = assigned.join(sizes, "component")
        singletons = with_size.where(
            (F.col("size") == 1) & F.col("id_type").isin(*c.PLATFORM_ID_TYPES)
        )
        platform = platform_profiles(platform_events, singletons)
        person = person_profiles(assigned, person_events, bronze.get("erp_stores"))
        n_people = person.select("component").distinct().count()
        if n_people == 0:
            return None
        left, right = candidate_records(platform, person)
        left_rows = left.toPandas()
        if left_rows.empty:
            return None
        right_rows = right.toPandas()
        prior = min(0.5, LINKABLE_SHARE / n_people)
        chosen = best_links(score(left_rows, right_rows, prior), config)
        if chosen.empty:
            return None
        chosen = chosen.merge(
            left_rows[["unique_id", "node"]], left_on="unique_id_l", right_on="unique_id"
        )
        chosen = chosen.merge(
            right_rows[["unique_id", "component"]], left_on="unique_id_r", right_on="unique_id"
        )
        rows = [
            (int(node), int(component), float(p))
            for node, component, p in chosen[["node", "component", "match_probability"]].itertuples(
                index=False
            )
        ]
        spark = assigned.sparkSession
        return spark.createDataFrame(
            rows, "node long, component long, match_probability double"
        ).where(F.col("node").isNotNull())

    return link
