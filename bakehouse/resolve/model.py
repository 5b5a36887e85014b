"""The Fellegi-Sunter model of `resolve`, in splink on DuckDB, trained on the input itself.

Nothing here is tuned to our own data: u probabilities come from random pairs of the
file (splink's random sampling), m probabilities from EM over several blocking rules
(each rule trains the comparisons it does not block on), the prior from
deterministic rules, and names and cities are term-frequency adjusted, so a common
surname counts for less than a rare one. Source: splink's documented training
sequence (moj-analytical-services.github.io/splink, "Estimating model parameters").
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import polars as pl

EDGE_SCHEMA = {
    "unique_id_l": pl.Int64,
    "unique_id_r": pl.Int64,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
}
PAIR_SCHEMA = {"unique_id_l": pl.Int64, "unique_id_r": pl.Int64}


def _level(sql: str, label: str, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _null(*columns: str) -> dict[str, Any]:
    sql = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns)
    return {"sql_condition": sql, "label_for_charts": "null", "is_null_level": True}


def _jw(column: str, threshold: float) -> dict[str, Any]:
    return _level(
        f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}',
        f"Jaro-Winkler >= {threshold}",
    )


def _dl(column: str, distance: int) -> dict[str, Any]:
    return _level(
        f'damerau_levenshtein("{column}_l", "{column}_r") <= {distance}',
        f"Damerau-Levenshtein <= {distance}",
    )


def _exact(column: str, tf: bool = False) -> dict[str, Any]:
    return _level(f'"{column}_l" = "{column}_r"', "exact", column if tf else None)


SWAPPED = '"first_name_l" = "surname_r" AND "surname_l" = "first_name_r"'
ELSE = {"sql_condition": "ELSE", "label_for_charts": "else"}


def _comparison(name: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"output_column_name": name, "comparison_levels": levels}


def comparisons(present: set[str]) -> list[dict[str, Any]]:
    """splink comparisons for the columns present (an all-empty column is left out)."""
    found: list[dict[str, Any]] = []
    if "first_name" in present:
        found.append(
            _comparison(
                "first_name",
                [
                    _null("first_name"),
                    _level('"full_name_l" = "full_name_r"', "same full name", "full_name"),
                    _exact("first_name", tf=True),
                    _level(
                        'len(list_intersect("first_aliases_l", "first_aliases_r")) > 0',
                        "nickname or alias",
                    ),
                    _jw("first_name", 0.92),
                    _level(SWAPPED, "first name and surname swapped"),
                    _level(
                        '(length("first_name_l") = 1 OR length("first_name_r") = 1) AND '
                        'substr("first_name_l", 1, 1) = substr("first_name_r", 1, 1)',
                        "initial",
                    ),
                    _jw("first_name", 0.8),
                    ELSE,
                ],
            )
        )
    if "surname" in present:
        found.append(
            _comparison(
                "surname",
                [
                    _null("surname"),
                    _exact("surname", tf=True),
                    _level(SWAPPED, "first name and surname swapped"),
                    _jw("surname", 0.92),
                    _dl("surname", 2),
                    _jw("surname", 0.8),
                    ELSE,
                ],
            )
        )
    if "dob" in present:
        found.append(
            _comparison(
                "dob",
                [
                    _null("dob"),
                    _exact("dob"),
                    _dl("dob", 1),
                    _level(
                        'substr("dob_l", 1, 4) = substr("dob_r", 1, 4) AND '
                        'substr("dob_l", 5, 2) = substr("dob_r", 7, 2) AND '
                        'substr("dob_l", 7, 2) = substr("dob_r", 5, 2)',
                        "day and month transposed",
                    ),
                    _dl("dob", 2),
                    ELSE,
                ],
            )
        )
    if "phone" in present:
        found.append(
            _comparison(
                "phone",
                [
                    _null("phone"),
                    _exact("phone"),
                    _dl("phone", 1),
                    _level('right("phone_l", 8) = right("phone_r", 8)', "same last 8 digits"),
                    _dl("phone", 2),
                    ELSE,
                ],
            )
        )
    if "email" in present:
        found.append(
            _comparison(
                "email",
                [
                    _null("email"),
                    _exact("email"),
                    _dl("email", 1),
                    _level(
                        "split_part(\"email_l\", '@', 1) = split_part(\"email_r\", '@', 1)",
                        "same user name",
                    ),
                    ELSE,
                ],
            )
        )
    if "address" in present:
        found.append(
            _comparison(
                "address",
                [
                    _null("address"),
                    _exact("address"),
                    _jw("address", 0.92),
                    _level(
                        'contains("address_l", "address_r") OR contains("address_r", "address_l")'
                        " OR len(list_intersect(str_split(\"address_l\", ' '), "
                        "str_split(\"address_r\", ' '))) >= 2",
                        "partial",
                    ),
                    _jw("address", 0.75),
                    ELSE,
                ],
            )
        )
    if "city" in present:
        found.append(
            _comparison("city", [_null("city"), _exact("city", tf=True), _jw("city", 0.88), ELSE])
        )
    if "postcode" in present:
        found.append(
            _comparison(
                "postcode",
                [
                    _null("postcode"),
                    _exact("postcode", tf=True),
                    _dl("postcode", 1),
                    _level(
                        'starts_with("postcode_l", "postcode_r") OR '
                        'starts_with("postcode_r", "postcode_l")',
                        "one is the start of the other",
                    ),
                    ELSE,
                ],
            )
        )
    if "gender" in present:
        found.append(_comparison("gender", [_null("gender"), _exact("gender"), ELSE]))
    return found


# Candidate blocking rules, most specific first; a rule is used when its columns
# are present and it yields few enough pairs (see `usable_rules`). Derived columns:
# first_initial, surname_initial, birth_year.
PREDICTION_RULES: list[tuple[str, ...]] = [
    ("phone",),
    ("email",),
    ("first_name", "surname"),
    ("full_name",),
    ("surname", "dob"),
    ("first_name", "dob"),
    ("dob", "postcode"),
    ("dob", "city"),
    ("dob",),
    ("surname", "postcode"),
    ("first_name", "postcode"),
    ("address",),
    ("surname", "first_initial", "city"),
    ("postcode", "first_initial", "surname_initial"),
    ("birth_year", "first_initial", "surname_initial", "city"),
]
SWAPPED_RULE = 'l."first_name" = r."surname" AND l."surname" = r."first_name"'
TRAINING_RULES: list[tuple[str, ...]] = [
    ("first_name", "surname"),
    ("dob",),
    ("postcode", "first_initial"),
    ("phone",),
    ("email",),
]
DETERMINISTIC_RULES: list[tuple[str, ...]] = [
    ("first_name", "surname", "dob"),
    ("full_name", "dob"),
    ("phone", "surname"),
    ("email",),
]


# Pairs that agree exactly on these are linked whatever the model says: a file too
# small to estimate anything from (three records) must still join `张伟` with the
# same mobile written two ways. Each needs the full name and a personal identifier.
CERTAIN_RULES: list[tuple[str, ...]] = [
    ("full_name", "dob"),
    ("full_name", "phone"),
    ("full_name", "email"),
]
CERTAIN_WEIGHT = 1e9  # an ordering key: taken before any scored link


def certain_links(records: pl.DataFrame) -> pl.DataFrame:
    """Pairs agreeing exactly on a `CERTAIN_RULES` rule, as edges (probability 1).

    A pair is certain only when nothing personal contradicts it: birth date, e-mail
    and gender each equal or missing on one side (a father and son of one name share
    the household phone, not the birth date).
    """
    found = [pl.DataFrame(schema=EDGE_SCHEMA)]
    personal = ["dob", "email", "gender"]
    for rule in CERTAIN_RULES:
        checked = [c for c in personal if c not in rule]
        keyed = records.select("unique_id", *rule, *checked).drop_nulls(list(rule))
        agree = [
            pl.col(c).is_null() | pl.col(f"{c}_r").is_null() | (pl.col(c) == pl.col(f"{c}_r"))
            for c in checked
        ]
        found.append(
            keyed.join(keyed, on=list(rule), suffix="_r")
            .filter(pl.col("unique_id") < pl.col("unique_id_r"), *agree)
            .select(
                pl.col("unique_id").alias("unique_id_l"),
                "unique_id_r",
                pl.lit(1.0).alias("match_probability"),
                pl.lit(CERTAIN_WEIGHT).alias("match_weight"),
            )
        )
    return pl.concat(found).unique(["unique_id_l", "unique_id_r"])


def with_blocking_columns(records: pl.DataFrame) -> pl.DataFrame:
    return records.with_columns(
        pl.col("first_name").str.slice(0, 1).alias("first_initial"),
        pl.col("surname").str.slice(0, 1).alias("surname_initial"),
        pl.col("dob").str.slice(0, 4).alias("birth_year"),
    )


def pair_count(records: pl.DataFrame, rule: tuple[str, ...]) -> int:
    """Pairs a blocking rule on equal `rule` columns would generate (nulls never match)."""
    sizes = records.select(rule).drop_nulls().group_by(rule).len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def usable_rules(
    records: pl.DataFrame, rules: list[tuple[str, ...]], present: set[str], cap: int
) -> list[tuple[str, ...]]:
    """The rules whose columns are present and that yield at most `cap` pairs."""
    derived = {"first_initial": "first_name", "surname_initial": "surname", "birth_year": "dob"}
    return [
        rule
        for rule in rules
        if all(derived.get(c, c) in present for c in rule) and pair_count(records, rule) <= cap
    ]


def _sql(rule: tuple[str, ...]) -> str:
    return " AND ".join(f'l."{c}" = r."{c}"' for c in rule)


@dataclass
class Model:
    """A trained model's predictions and what training did."""

    edges: pl.DataFrame
    conflicts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PAIR_SCHEMA))
    settings: dict[str, Any] = field(default_factory=dict)
    prediction_rules: list[str] = field(default_factory=list)
    training_rules: list[str] = field(default_factory=list)
    prior: float | None = None
    waterfall: pl.DataFrame | None = None


PERSONAL = ("first_name", "dob", "email", "gender")
COMPARED = (
    "first_name",
    "surname",
    "dob",
    "phone",
    "email",
    "address",
    "city",
    "postcode",
    "gender",
)


def predict(
    records: pl.DataFrame,
    *,
    threshold: float,
    seed: int = 42,
    pairs_per_record: int = 5,
    u_pairs: float = 3e5,
    explain: bool = False,
    personal_floor: float = 0.0,
    conflict_floor: float = -10.0,
) -> Model:
    """Train on `records` (from `records.prepare`) and score the blocked pairs.

    Returns the pairs at or above `threshold` match probability as `Model.edges`
    (unique_id_l < unique_id_r, match_probability, match_weight in bits), and as
    `Model.conflicts` the pairs whose personal evidence is below `conflict_floor`
    bits (about a thousand to one against: different first name and birth date):
    records that must not share a person. With `explain`, also the
    waterfall data of those pairs (see `explain.waterfall`). A pair whose personal
    evidence (first name, birth date, e-mail, gender: `PERSONAL`) has a summed match
    weight below `personal_floor` is dropped: phone, address, city, postcode and
    surname are a household's, and splink, which treats comparisons as independent,
    adds up their Bayes factors as if they were separate facts, so a mother and son
    sharing all of them would link. An input with fewer than
    two records, no compared column or no candidate pair gives no edges.
    """
    import duckdb
    from splink import DuckDBAPI, Linker

    present = {c for c in COMPARED if records[c].null_count() < records.height}
    empty = Model(edges=pl.DataFrame(schema=EDGE_SCHEMA))
    if records.height < 2 or not present:
        return empty
    records = with_blocking_columns(records)
    cap = pairs_per_record * records.height + 10_000
    rules = usable_rules(records, PREDICTION_RULES, present, cap)
    blocking = [_sql(rule) for rule in rules]
    if {"first_name", "surname"} <= present:
        blocking.append(SWAPPED_RULE)
    if not blocking:
        return empty
    settings = {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons(present),
        "blocking_rules_to_generate_predictions": blocking,
        "retain_intermediate_calculation_columns": True,
        "retain_matching_columns": explain,
    }
    logging.getLogger("splink").setLevel(logging.ERROR)
    connection = duckdb.connect()
    try:
        connection.execute("SET threads TO 2")
        db_api = DuckDBAPI(connection=connection)
        table = db_api.register(records.to_arrow(), table_name="people")
        linker = Linker(table, settings, log_level=None)
        prior = _train(linker, records, present, cap, seed, u_pairs)
        trained = usable_rules(records, TRAINING_RULES, present, 10 * cap)
        # Every blocked pair is scored: the weak ones tell the clustering which
        # records must not end up together.
        result = linker.inference.predict()
        columns = connection.sql(f"SELECT * FROM {result.physical_name} LIMIT 0").columns
        # splink names each comparison's match weight mw_<name>, its tf part mw_tf_adj_<name>.
        personal = [
            f'coalesce("{c}", 0)'
            for c in columns
            if c.startswith("mw_") and c.removeprefix("mw_").removeprefix("tf_adj_") in PERSONAL
        ]
        scored = connection.sql(
            f"SELECT unique_id_l, unique_id_r, match_probability, match_weight, "
            f"{' + '.join(personal) or '0.0'} AS personal_weight "
            f"FROM {result.physical_name} "
            f"WHERE match_probability >= {float(threshold)} "
            f"OR {' + '.join(personal) or '0.0'} < {float(conflict_floor)}"
        ).pl()
        waterfall = None
        if explain:
            from bakehouse.resolve.explain import waterfall_frame

            linked = connection.sql(
                f"SELECT * FROM {result.physical_name} "
                f"WHERE match_probability >= {float(threshold)}"
            ).pl()
            waterfall = waterfall_frame(linker, linked.to_dicts())
        model_settings = linker.misc.save_model_to_json()
    finally:
        connection.close()
    assert isinstance(scored, pl.DataFrame)
    scored = scored.with_columns(
        pl.col("unique_id_l").cast(pl.Int64),
        pl.col("unique_id_r").cast(pl.Int64),
        pl.col("match_probability").cast(pl.Float64),
        pl.col("match_weight").cast(pl.Float64),
    )
    edges = scored.filter(
        (pl.col("match_probability") >= threshold) & (pl.col("personal_weight") >= personal_floor)
    ).select(list(EDGE_SCHEMA))
    edges = (
        pl.concat([edges, certain_links(records)])
        .group_by("unique_id_l", "unique_id_r")
        .agg(pl.col("match_probability").max(), pl.col("match_weight").max())
    )
    conflicts = scored.filter(pl.col("personal_weight") < conflict_floor).select(
        "unique_id_l", "unique_id_r"
    )
    return Model(
        edges=edges,
        conflicts=conflicts,
        settings=model_settings,
        prediction_rules=blocking,
        training_rules=[_sql(r) for r in trained],
        prior=prior,
        waterfall=waterfall,
    )


def _train(
    linker, records: pl.DataFrame, present: set[str], cap: int, seed: int, u_pairs: float
) -> float | None:
    """Prior, u and m from the file; returns the prior used (None: splink's default)."""
    n = records.height
    prior = None
    deterministic = [
        _sql(rule)
        for rule in DETERMINISTIC_RULES
        if all(c in present for c in rule if c != "full_name")
    ]
    found = sum(
        pair_count(records, rule)
        for rule in DETERMINISTIC_RULES
        if all(c in present for c in rule if c != "full_name")
    )
    if deterministic and found:
        with contextlib.suppress(Exception):
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.6)
            prior = linker._settings_obj._probability_two_random_records_match
    if prior is None or not 0 < prior < 1:
        # No pair agrees on the deterministic rules: assume a record has about one
        # duplicate in the file at most, never a prior of 0 (log of 0).
        prior = min(0.5, 1 / max(n - 1, 1))
        linker._settings_obj._probability_two_random_records_match = prior
    with contextlib.suppress(Exception):
        linker.training.estimate_u_using_random_sampling(
            max_pairs=min(u_pairs, n * (n - 1) / 2),
            seed=seed,
            min_count_per_level=None,
            num_chunks=1,
        )
    for rule in usable_rules(records, TRAINING_RULES, present, 10 * cap):
        if pair_count(records, rule) < 2:
            continue
        with contextlib.suppress(Exception):
            linker.training.estimate_parameters_using_expectation_maximisation(
                _sql(rule), max_pairs=2e5
            )
    # EM sessions leave their own estimate of the prior on the model (splink 5);
    # the file-wide one is the one that applies to all pairs.
    linker._settings_obj._probability_two_random_records_match = prior
    return prior
