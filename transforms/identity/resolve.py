"""`bakehouse resolve`: entity resolution of a CSV of people records.

Input columns: record_id, source, name, phone, email, birthday, gender, address, city,
postcode (any may be empty). Output: record_id, person_id.

The method is the OneID method, without Spark so that it runs anywhere in seconds:
1. normalise every attribute (`normalize.py`);
2. deterministic links: the same phone or e-mail key links two records, unless the
   value is shared (held by more than `max_shared` records) or the two names clearly
   disagree (a family phone);
3. a Fellegi-Sunter model in splink (DuckDB): blocking on phone, e-mail, name +
   birthday, name + postcode/city, birthday + postcode/city, address; comparisons
   with Jaro-Winkler on names and addresses, Damerau-Levenshtein on phone, e-mail and
   birthday (typos), exact on gender, city and postcode (term-frequency adjusted for
   names and cities); u estimated by random sampling, m by EM on several blocking
   passes, the prior from the deterministic rules; links at `threshold` (0.9);
4. clusters = connected components of the links, with the size cap: an oversized
   cluster is re-clustered with only its stronger links until it fits.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from bakehouse import normalize as norm

INPUT_COLUMNS = (
    "record_id",
    "source",
    "name",
    "phone",
    "email",
    "birthday",
    "gender",
    "address",
    "city",
    "postcode",
)
DEFAULT_THRESHOLD = 0.9
COMPARED = ("name", "phone", "email", "birthday", "gender", "address", "city", "postcode")


@dataclass
class ResolveSummary:
    """What `resolve_file` did, for the CLI to print."""

    records: int = 0
    persons: int = 0
    threshold: float = DEFAULT_THRESHOLD
    deterministic_links: int = 0
    probabilistic_links: int = 0
    shared_values: int = 0
    oversized_clusters: int = 0
    ambiguous_records: int = 0
    seconds: float = 0.0
    model: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ResolveConfig:
    threshold: float = DEFAULT_THRESHOLD
    max_shared: int = 8  # a phone/e-mail on more records than this links nothing
    name_agreement: float = 0.75  # Jaro-Winkler below this: the names disagree
    max_cluster_size: int = 25
    gmail_dots: bool = True
    seed: int = 42


def read_people(path: Path) -> pl.DataFrame:
    """The input CSV as strings, missing attribute columns added empty.

    Attributes may be missing or empty, but `record_id` is what the output is keyed
    on: a file without it, or with empty or repeated ids, is an error, not a guess.
    """
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "record_id" not in frame.columns:
        raise ValueError(f"{path}: no record_id column (columns: {', '.join(frame.columns)})")
    ids = frame["record_id"].str.strip_chars()
    empty = frame.with_row_index("line", offset=2).filter(ids.is_null() | (ids == ""))["line"]
    if len(empty):
        raise ValueError(f"{path}: empty record_id on line(s) {', '.join(map(str, empty[:10]))}")
    repeated = ids.filter(ids.is_duplicated()).unique().sort()
    if len(repeated):
        raise ValueError(f"{path}: repeated record_id {', '.join(repeated[:10].to_list())}")
    for column in INPUT_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return frame.select(INPUT_COLUMNS)


def normalise(people: pl.DataFrame, config: ResolveConfig | None = None) -> pl.DataFrame:
    """Comparable attributes (same names as the input) plus `name_sorted`, `unique_id`."""
    config = config or ResolveConfig()

    def apply(column: str, function) -> pl.Expr:
        return pl.col(column).map_elements(function, return_dtype=pl.String, skip_nulls=True)

    normalised = people.with_row_index("unique_id").select(
        pl.col("unique_id").cast(pl.Int64),
        "record_id",
        apply("name", norm.name).alias("name"),
        apply("phone", norm.phone).alias("phone"),
        apply("email", lambda v: norm.email(v, gmail_dots=config.gmail_dots)).alias("email"),
        apply("birthday", norm.birthday).alias("birthday"),
        apply("gender", norm.gender).alias("gender"),
        apply("address", norm.address).alias("address"),
        apply("city", norm.city).alias("city"),
        apply("postcode", norm.postcode).alias("postcode"),
    )
    return normalised.with_columns(
        apply("name", norm.name_tokens_sorted).alias("name_sorted"),
    )


# -- deterministic links --------------------------------------------------------------
def _names_disagree(left: str | None, right: str | None, config: ResolveConfig) -> bool:
    """Both names present and different beyond typos, order and initials."""
    from rapidfuzz.distance import JaroWinkler

    if left is None or right is None:
        return False
    if norm.name_tokens_sorted(left) == norm.name_tokens_sorted(right):
        return False
    left_tokens, right_tokens = left.split(), right.split()
    same_surname = (
        len(left_tokens) > 1 and len(right_tokens) > 1 and left_tokens[-1] == right_tokens[-1]
    )
    if same_surname and left_tokens[0][0] == right_tokens[0][0]:  # `j smith`, `john smith`
        return False
    return JaroWinkler.similarity(left, right) < config.name_agreement


def _dates_disagree(left: str | None, right: str | None) -> bool:
    """Both birthdays present and more than one typo apart."""
    from rapidfuzz.distance import DamerauLevenshtein

    if left is None or right is None:
        return False
    return DamerauLevenshtein.distance(left, right) > 1


def _personal_agreement(left: str | None, right: str | None, config: ResolveConfig) -> bool:
    from rapidfuzz.distance import JaroWinkler

    if left is None or right is None:
        return False
    same_tokens = norm.name_tokens_sorted(left) == norm.name_tokens_sorted(right)
    return same_tokens or JaroWinkler.similarity(left, right) >= 0.9


def _attach_people(pairs: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    personal = records.select("unique_id", "name", "birthday", "email")
    return pairs.join(
        personal.rename(lambda c: "unique_id_l" if c == "unique_id" else f"{c}_l"),
        on="unique_id_l",
    ).join(
        personal.rename(lambda c: "unique_id_r" if c == "unique_id" else f"{c}_r"),
        on="unique_id_r",
    )


def _emails_disagree(left: str | None, right: str | None) -> bool:
    from rapidfuzz.distance import DamerauLevenshtein

    if left is None or right is None:
        return False
    return DamerauLevenshtein.distance(left, right) > 2


def _contradicted(
    name_l: str | None,
    name_r: str | None,
    day_l: str | None,
    day_r: str | None,
    email_l: str | None,
    email_r: str | None,
    config: ResolveConfig,
) -> bool:
    """A differing name is forgiven when the birthday agrees exactly (a typo in a
    two-character Chinese name), a differing birthday when the name agrees closely."""
    same_day = day_l is not None and day_l == day_r
    if _names_disagree(name_l, name_r, config) and not same_day:
        return True
    if _dates_disagree(day_l, day_r) and not _personal_agreement(name_l, name_r, config):
        return True
    # Two different e-mail addresses count against a link that nothing personal confirms.
    confirmed = same_day and _personal_agreement(name_l, name_r, config)
    return _emails_disagree(email_l, email_r) and not confirmed


def personal_veto(
    pairs: pl.DataFrame, records: pl.DataFrame, config: ResolveConfig
) -> pl.DataFrame:
    """Drop pairs whose personal attributes (name, birthday) disagree.

    Phone, address, city and postcode are household attributes: a mother and son
    agree on all four, and a model that treats them as independent evidence adds up
    four Bayes factors for one fact. A link therefore also needs the name and the
    birthday not to contradict it.
    """
    if pairs.is_empty():
        return pairs
    people = _attach_people(pairs, records)
    keep = [
        not _contradicted(nl, nr, bl, br, el, er, config)
        for nl, nr, bl, br, el, er in zip(
            people["name_l"],
            people["name_r"],
            people["birthday_l"],
            people["birthday_r"],
            people["email_l"],
            people["email_r"],
            strict=True,
        )
    ]
    return people.filter(pl.Series(keep, dtype=pl.Boolean)).select(pairs.columns)


def deterministic_links(records: pl.DataFrame, config: ResolveConfig) -> tuple[pl.DataFrame, int]:
    """Pairs sharing a key value that is not shared by many; count of shared values.

    E-mail is personal: the same key links unless names or birthdays contradict.
    A phone is often a household's: it links only when the names also agree.
    """
    pairs: list[pl.DataFrame] = []
    shared = 0
    for key in ("phone", "email"):
        keyed = records.select("unique_id", key).drop_nulls(key)
        counts = keyed.group_by(key).agg(pl.len().alias("n"))
        shared += counts.filter(pl.col("n") > config.max_shared).height
        usable = counts.filter((pl.col("n") > 1) & (pl.col("n") <= config.max_shared))
        grouped = keyed.join(usable.select(key), on=key)
        pairs.append(
            grouped.join(grouped, on=key, suffix="_r")
            .filter(pl.col("unique_id") < pl.col("unique_id_r"))
            .select(
                pl.col("unique_id").alias("unique_id_l"),
                "unique_id_r",
                pl.lit(key).alias("key"),
            )
        )
    candidates = _attach_people(pl.concat(pairs), records)
    keep = []
    for key, nl, nr, bl, br, el, er in zip(
        candidates["key"],
        candidates["name_l"],
        candidates["name_r"],
        candidates["birthday_l"],
        candidates["birthday_r"],
        candidates["email_l"],
        candidates["email_r"],
        strict=True,
    ):
        if _contradicted(nl, nr, bl, br, el, er, config):
            keep.append(False)
        elif key == "phone":
            keep.append(_personal_agreement(nl, nr, config))
        else:
            keep.append(True)
    links = (
        candidates.filter(pl.Series(keep, dtype=pl.Boolean))
        .select("unique_id_l", "unique_id_r", pl.lit(1.0).alias("match_probability"))
        .unique(["unique_id_l", "unique_id_r"])
    )
    return links, shared


# -- the splink model ----------------------------------------------------------------------
def _levels(column: str, similar: list[tuple[str, str]]) -> dict[str, Any]:
    levels: list[dict[str, Any]] = [
        {
            "sql_condition": f'"{column}_l" IS NULL OR "{column}_r" IS NULL',
            "label_for_charts": "null",
            "is_null_level": True,
        },
        {
            "sql_condition": f'"{column}_l" = "{column}_r"',
            "label_for_charts": "exact",
            "tf_adjustment_column": column if column in {"name", "city", "postcode"} else None,
        },
    ]
    for sql, label in similar:
        levels.append({"sql_condition": sql, "label_for_charts": label})
    levels.append({"sql_condition": "ELSE", "label_for_charts": "else"})
    for level in levels:
        if level.get("tf_adjustment_column") is None:
            level.pop("tf_adjustment_column", None)
    return {"output_column_name": column, "comparison_levels": levels}


def _jw(column: str, threshold: float) -> tuple[str, str]:
    return (
        f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}',
        f"Jaro-Winkler >= {threshold}",
    )


def _dl(column: str, distance: int) -> tuple[str, str]:
    return (
        f'damerau_levenshtein("{column}_l", "{column}_r") <= {distance}',
        f"Damerau-Levenshtein <= {distance}",
    )


COMPARISONS: dict[str, list[tuple[str, str]]] = {
    "name": [
        ('"name_sorted_l" = "name_sorted_r"', "same tokens, other order"),
        _jw("name", 0.92),
        _jw("name", 0.80),
    ],
    "phone": [_dl("phone", 1), _dl("phone", 2)],
    "email": [_dl("email", 1), _jw("email", 0.88)],
    "birthday": [
        _dl("birthday", 1),
        ('substr("birthday_l", 1, 4) = substr("birthday_r", 1, 4)', "same year"),
    ],
    "gender": [],
    "address": [_jw("address", 0.92), _jw("address", 0.75)],
    "city": [],
    "postcode": [_dl("postcode", 1)],
}
BLOCKING: list[tuple[str, ...]] = [
    ("phone",),
    ("email",),
    ("name", "birthday"),
    ("name", "postcode"),
    ("name", "city"),
    ("name_sorted", "birthday"),
    ("birthday", "postcode"),
    ("birthday", "city", "gender"),
    ("address",),
]
EM_PASSES: list[tuple[str, ...]] = [("phone",), ("email",), ("name", "birthday"), ("birthday",)]


def splink_settings(present: set[str]) -> dict[str, Any]:
    """Settings for the columns present in the input (all-empty columns are left out)."""
    comparisons = [
        _levels(column, similar) for column, similar in COMPARISONS.items() if column in present
    ]
    blocking = [
        " AND ".join(f'l."{c}" = r."{c}"' for c in rule)
        for rule in BLOCKING
        if all((c if c != "name_sorted" else "name") in present for c in rule)
    ]
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": blocking,
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }


def probabilistic_links(
    records: pl.DataFrame, config: ResolveConfig, summary: ResolveSummary
) -> pl.DataFrame:
    """splink pairs at or above the threshold (unique_id_l, unique_id_r, probability)."""
    import duckdb
    from splink import DuckDBAPI, Linker

    present = {c for c in COMPARED if records[c].null_count() < records.height}
    empty = pl.DataFrame(
        schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64, "match_probability": pl.Float64}
    )
    if not present or records.height < 2:
        return empty
    settings = splink_settings(present)
    if not settings["blocking_rules_to_generate_predictions"]:
        return empty
    logging.getLogger("splink").setLevel(logging.ERROR)
    connection = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=connection)
        table = db_api.register(records.to_arrow(), table_name="people")
        linker = Linker(table, settings, log_level=None)
        deterministic = [
            f'l."{c}" = r."{c}"' for c in ("phone", "email") if c in present
        ] or settings["blocking_rules_to_generate_predictions"][:1]
        # Without any deterministic pair splink's default prior stays.
        with contextlib.suppress(Exception):
            linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1.5e5, seed=config.seed)
        for rule in EM_PASSES:
            if not all(c in present for c in rule):
                continue
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    " AND ".join(f'l."{c}" = r."{c}"' for c in rule)
                )
            except Exception:  # too few pairs in this pass to estimate anything
                continue
        summary.model = linker.misc.save_model_to_json()
        predictions = linker.inference.predict(
            threshold_match_probability=config.threshold, warning_mode="never"
        )
        result = pl.from_arrow(
            connection.sql(
                f"SELECT unique_id_l, unique_id_r, match_probability "
                f"FROM {predictions.physical_name}"
            ).arrow()
        )
    finally:
        connection.close()
    assert isinstance(result, pl.DataFrame)
    return result.with_columns(
        pl.col("unique_id_l").cast(pl.Int64), pl.col("unique_id_r").cast(pl.Int64)
    )


# -- clustering -------------------------------------------------------------------------------
def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def cluster(
    n: int, links: pl.DataFrame, config: ResolveConfig, summary: ResolveSummary
) -> np.ndarray:
    """Component label per record; oversized components are re-cut with stronger links."""
    left = links["unique_id_l"].to_numpy()
    right = links["unique_id_r"].to_numpy()
    probability = links["match_probability"].to_numpy()
    labels = _components(n, left, right)
    strictness = [1 - (1 - config.threshold) / 10**k for k in (1, 2, 3)] + [1.0 + 1e-9]
    for cut in strictness:
        sizes = np.bincount(labels)
        oversized = np.flatnonzero(sizes > config.max_cluster_size)
        if oversized.size == 0:
            break
        summary.oversized_clusters += int(oversized.size)
        in_big = np.isin(labels[left], oversized)
        keep = ~in_big | (probability >= cut)
        left, right, probability = left[keep], right[keep], probability[keep]
        labels = _components(n, left, right)
    return labels


def drop_bridges(
    links: pl.DataFrame, records: pl.DataFrame, config: ResolveConfig
) -> tuple[pl.DataFrame, int]:
    """Cut the links by which one record would join two contradicting people.

    A record with only household attributes (phone, address, postcode) matches the
    mother and the son equally well; linking it to both merges the family. When two
    of a record's neighbours contradict each other (names or birthdays disagree), the
    record keeps its strongest link and the links to neighbours consistent with that
    one, and drops the rest. Returns the links kept and the number of such records.
    """
    names = records["name"].to_list()
    days = records["birthday"].to_list()
    emails = records["email"].to_list()

    def contradict(a: int, b: int) -> bool:
        return _contradicted(names[a], names[b], days[a], days[b], emails[a], emails[b], config)

    neighbours: dict[int, list[tuple[float, int]]] = {}
    for left, right, probability in links.iter_rows():
        neighbours.setdefault(left, []).append((probability, right))
        neighbours.setdefault(right, []).append((probability, left))
    dropped: set[tuple[int, int]] = set()
    ambiguous = 0
    for node, around in neighbours.items():
        if len(around) < 2:
            continue
        around.sort(key=lambda item: (-item[0], item[1]))
        others = [other for _, other in around[:25]]
        if not any(contradict(a, b) for i, a in enumerate(others) for b in others[i + 1 :]):
            continue
        ambiguous += 1
        best = others[0]
        for other in others[1:]:
            if contradict(best, other):
                dropped.add((min(node, other), max(node, other)))
    if not dropped:
        return links, 0
    cut = pl.DataFrame(
        list(dropped), schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64}, orient="row"
    )
    return links.join(cut, on=["unique_id_l", "unique_id_r"], how="anti"), ambiguous


def resolve_frame(
    people: pl.DataFrame, config: ResolveConfig | None = None
) -> tuple[pl.DataFrame, ResolveSummary]:
    """record_id -> person_id for a frame of the input columns."""
    config = config or ResolveConfig()
    started = time.perf_counter()
    summary = ResolveSummary(records=people.height, threshold=config.threshold)
    records = normalise(people, config)
    exact, summary.shared_values = deterministic_links(records, config)
    scored = personal_veto(probabilistic_links(records, config, summary), records, config)
    summary.deterministic_links = exact.height
    summary.probabilistic_links = scored.height
    links = (
        pl.concat([exact, scored])
        .group_by(["unique_id_l", "unique_id_r"])
        .agg(pl.col("match_probability").max())
    )
    links, summary.ambiguous_records = drop_bridges(links, records, config)
    labels = cluster(records.height, links, config, summary)
    assignment = records.select("record_id").with_columns(pl.Series("label", labels))
    person_ids = assignment.group_by("label").agg(pl.col("record_id").min().alias("person_id"))
    result = (
        assignment.with_row_index("position")
        .join(person_ids, on="label")
        .sort("position")
        .select("record_id", "person_id")
    )
    summary.persons = person_ids.height
    summary.seconds = round(time.perf_counter() - started, 3)
    return result, summary


def resolve_file(
    input_csv: Path, output_csv: Path, *, threshold: float | None = None
) -> ResolveSummary:
    """Resolve the people in `input_csv` and write record_id,person_id to `output_csv`."""
    config = ResolveConfig(threshold=threshold if threshold is not None else DEFAULT_THRESHOLD)
    people = read_people(Path(input_csv))
    result, summary = resolve_frame(people, config)
    output = Path(output_csv)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.write_csv(output)
    return summary
