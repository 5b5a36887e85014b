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

Versioned parameters (`WeakModel`): the m/u probabilities below and the prior are
one numbered version, estimated at a full (weekly) rebuild from the accumulated
evidence and kept in `silver/identity_model`; every night scores with the current
version, so a link never depends on which night its evidence arrived. The m/u values
are the documented arithmetic on the phone-number space and the store network (the
candidate set is blocked on the phone, so EM cannot learn the phone's m/u from it);
the prior is re-estimated from the phones known at the rebuild.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from transforms.identity import config as c

if TYPE_CHECKING:
    import pandas as pd

PROFILE_COLUMNS = ("unique_id", "last4", "prefix3", "home_store", "stores", "city", "daypart")
PROFILE_SCHEMA = (
    "unique_id string, last4 string, prefix3 string, home_store string, "
    "stores array<string>, city string, daypart string"
)
MASKED_FULL = r"^(1\d{2})\*+(\d{4})$"
MASKED_TAIL = r"^尾号(\d{4})$"
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


@dataclass(frozen=True)
class WeakModel:
    """One version of the weak model's parameters.

    `prior`: probability that a platform user and a known phone are one person
    (`LINKABLE_SHARE / phones`, `phones` the phone identifiers known when it was
    estimated); `mu`: {comparison: [(m, u) per level, in MODEL's order]} (empty: MODEL's
    documented values). Version 0 is the built-in default, used until a rebuild
    estimates version 1.
    """

    version: int = 0
    prior: float = LINKABLE_SHARE / 200_000
    phones: int = 200_000
    estimated_on: date | None = None
    mu: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def level(self, comparison: str, index: int, default: Level) -> tuple[float, float]:
        """(m, u) of one level: this version's, or MODEL's."""
        values = self.mu.get(comparison)
        return tuple(values[index]) if values else (default.m, default.u)  # type: ignore[return-value]

    def params_json(self) -> str:
        """The m/u of every level as stored in `silver/identity_model.params`."""
        mu = {
            name: [list(self.level(name, i, level)) for i, level in enumerate(levels)]
            for name, levels in MODEL
        }
        return json.dumps({"prior": self.prior, "mu": mu}, sort_keys=True)

    @classmethod
    def from_row(cls, version: int, phones: int, estimated_on: date | None, params: str):
        data = json.loads(params)
        mu = {name: [tuple(pair) for pair in pairs] for name, pairs in data["mu"].items()}
        return cls(version, float(data["prior"]), int(phones), estimated_on, mu)


def estimate_model(phones: int, version: int, night: date) -> WeakModel:
    """A new version from the accumulated evidence: the prior from the phones known."""
    return WeakModel(
        version=version,
        prior=min(0.5, LINKABLE_SHARE / max(phones, 1)),
        phones=phones,
        estimated_on=night,
    )


def splink_settings(model: WeakModel) -> Any:
    """The splink settings of the weak-link model (link_only, the version's m/u)."""
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
        for index, level in enumerate(levels):
            m, u = model.level(name, index, level)
            level_dicts.append(
                {
                    "sql_condition": level.sql,
                    "label_for_charts": level.label,
                    "m_probability": m,
                    "u_probability": u,
                }
            )
        comparisons.append(cl.CustomComparison(level_dicts, output_column_name=name))
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[BLOCKING_RULE],
        probability_two_random_records_match=model.prior,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _daypart(hour_col: Any) -> Any:
    return (
        F.when(hour_col.isNull(), F.lit(None).cast("string"))
        .when(hour_col < 11, F.lit("morning"))
        .when(hour_col < 14, F.lit("lunch"))
        .when(hour_col < 17, F.lit("afternoon"))
        .otherwise(F.lit("evening"))
    )


def _mode(frame: DataFrame, keys: list[str], value: str, alias: str) -> DataFrame:
    """The most frequent non-null `value` per `keys`, weighted by `visits` (ties: the
    shortest, then smallest value)."""
    counts = (
        frame.where(F.col(value).isNotNull())
        .groupBy(*keys, value)
        .agg(F.sum("visits").alias("count"))
    )
    return counts.groupBy(*keys).agg(
        F.max_by(value, F.struct("count", F.lit(0) - F.length(value))).alias(alias)
    )


def _habits(activity: DataFrame, keys: list[str]) -> DataFrame:
    """Home store (most visits), every store visited and the mean hour, per `keys`."""
    home = _mode(activity, keys, "store_code", "home_store")
    rest = activity.groupBy(*keys).agg(
        F.sort_array(F.collect_set("store_code")).alias("stores"),
        F.when(F.sum("hour_n") > 0, F.sum("hour_sum") / F.sum("hour_n")).alias("hour"),
    )
    return rest.join(home, keys, "left")


def platform_profiles(activity: DataFrame, candidates: DataFrame) -> DataFrame:
    """Evidence per still-unlinked platform user: masked phone, stores, city, time."""
    keys = ["node"]
    activity = activity.join(candidates.select("node"), "node", "left_semi")
    masked = _mode(activity, keys, "masked_phone", "masked")
    city = _mode(activity, keys, "city", "city")
    profile = _habits(activity, keys).join(masked, keys, "left").join(city, keys, "left")
    full_prefix = F.regexp_extract("masked", MASKED_FULL, 1)
    full_tail = F.regexp_extract("masked", MASKED_FULL, 2)
    tail_only = F.regexp_extract("masked", MASKED_TAIL, 1)
    return profile.select(
        F.concat_ws(":", F.lit("p"), "node").alias("unique_id"),
        "node",
        F.when(full_tail != "", full_tail).when(tail_only != "", tail_only).alias("last4"),
        F.when(full_prefix != "", full_prefix).alias("prefix3"),
        "home_store",
        F.coalesce("stores", F.array().cast("array<string>")).alias("stores"),
        "city",
        _daypart(F.col("hour")).alias("daypart"),
    ).where(F.col("last4").isNotNull())


def candidate_phones(platform: DataFrame, phones: DataFrame, activity: DataFrame) -> DataFrame:
    """The phones (node, prefix3, last4) that can pair with a platform profile.

    Blocking before any person is profiled: the same prefix and last four digits for a
    full mask (`138****5678`); for a tail-only mask (`尾号5678`) the same last four and
    the platform user's home store among the stores the phone itself was seen at.
    """
    full = platform.where(F.col("prefix3").isNotNull()).select("last4", "prefix3").distinct()
    tail = (
        platform.where(F.col("prefix3").isNull() & F.col("home_store").isNotNull())
        .select("last4", F.col("home_store").alias("store_code"))
        .distinct()
    )
    by_full = phones.join(full, ["last4", "prefix3"], "left_semi")
    seen_at = activity.where(F.col("id_type") == c.PHONE).select("node", "store_code")
    by_tail = (
        phones.join(tail.select("last4").distinct(), "last4", "left_semi")
        .join(seen_at, "node")
        .join(tail, ["last4", "store_code"], "left_semi")
        .select("node", "prefix3", "last4")
    )
    return by_full.unionByName(by_tail).distinct()


def person_profiles(
    persons: DataFrame,
    phones: DataFrame,
    activity: DataFrame,
    erp_stores: DataFrame | None,
) -> DataFrame:
    """Evidence per candidate phone: prefix and tail, stores, city, time of day.

    The stores and hours are the phone's own (tickets it was typed on, the member
    record it is on): a person's other identifiers would cost a join of the whole map
    every night for little more. `persons` gives the phone's person, so two phones of
    one person do not compete in `best_links`; `phones` are the blocked candidates.
    """
    base = phones.join(persons, "node").select(
        "person",
        F.col("node").alias("target"),
        F.concat_ws(":", F.lit("q"), "person", "node").alias("unique_id"),
        "last4",
        "prefix3",
    )
    visits = activity.join(phones.select("node"), "node", "left_semi").withColumnRenamed(
        "node", "target"
    )
    profile = base.join(_habits(visits, ["target"]), "target", "left")
    if erp_stores is not None:
        cities = erp_stores.groupBy(F.col("store_code").alias("home_store")).agg(
            F.max("city").alias("city")
        )
        profile = profile.join(cities, "home_store", "left")
    else:
        profile = profile.withColumn("city", F.lit(None).cast("string"))
    return profile.select(
        "person",
        "target",
        "unique_id",
        "last4",
        "prefix3",
        "home_store",
        F.coalesce("stores", F.array().cast("array<string>")).alias("stores"),
        "city",
        _daypart(F.col("hour")).alias("daypart"),
    )


def score(left: pd.DataFrame, right: pd.DataFrame, model: WeakModel) -> pd.DataFrame:
    """splink predictions (unique_id_l, unique_id_r, match_weight, match_probability)."""
    import duckdb
    from splink import DuckDBAPI, Linker

    connection = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=connection)
        left_table = db_api.register(left[list(PROFILE_COLUMNS)], table_name="platform_users")
        right_table = db_api.register(right[list(PROFILE_COLUMNS)], table_name="people")
        linker = Linker([left_table, right_table], splink_settings(model), log_level=None)
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


def make_weak_linker(
    erp_stores: DataFrame | None, config: c.IdentityConfig, model: WeakModel | None = None
):
    """A `WeakLinker`: (candidates, activity, person_of, phones) -> (node, target) links,
    scored with one parameter version (`model`, default version 0)."""
    model = model or WeakModel()

    def link(
        candidates: DataFrame,
        activity: DataFrame,
        person_of: Callable[[DataFrame], DataFrame],
        phones: DataFrame,
    ) -> DataFrame | None:

        left_rows = platform_profiles(activity, candidates).toPandas()
        if left_rows.empty:
            return None
        spark = candidates.sparkSession
        platform = spark.createDataFrame(
            left_rows[list(PROFILE_COLUMNS)].assign(stores=left_rows["stores"].map(list)),
            PROFILE_SCHEMA,
        )
        # Only phones that pass the blocking rule reach the driver; splink applies the
        # same rule (BLOCKING_RULE) to form the pairs it scores.
        blocked = candidate_phones(platform, phones, activity)
        persons = person_of(blocked.select("node"))
        right_rows = person_profiles(persons, blocked, activity, erp_stores).toPandas()
        if right_rows.empty:
            return None
        chosen = best_links(score(left_rows, right_rows, model), config)
        if chosen.empty:
            return None
        chosen = chosen.merge(
            left_rows[["unique_id", "node"]], left_on="unique_id_l", right_on="unique_id"
        )
        chosen = chosen.merge(
            right_rows[["unique_id", "target"]], left_on="unique_id_r", right_on="unique_id"
        )
        rows = [
            (int(node), int(target))
            for node, target in chosen[["node", "target"]].itertuples(index=False)
        ]
        return spark.createDataFrame(rows, "node long, target long").where(
            F.col("node").isNotNull()
        )

    return link
