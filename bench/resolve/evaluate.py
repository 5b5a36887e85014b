"""Scoring `resolve` on labelled records, and the stock splink model it is compared with.

Scores are pairwise (see `transforms.identity.evaluate.pairwise_scores`): a predicted
pair is correct when both records belong to the same true person.

The stock model is what a splink user writes from the tutorial: standard comparisons
from `splink.comparison_library` (NameComparison on first name and surname,
DateOfBirthComparison, PostcodeComparison, Levenshtein on address, phone and e-mail,
exact city and gender, term frequencies on names and city), the prior from a
deterministic rule, u by random sampling, m by EM on two blocking rules, and
connected components at match probability 0.95. Its input gets the cleaning every
such user does: lower case, trimmed, first and last tokens as first name and surname,
dates parsed to ISO, phone digits only.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path

import polars as pl

from bakehouse import normalize as norm
from transforms.identity.evaluate import PairwiseScores, pairwise_scores

__all__ = ["PairwiseScores", "evaluate_resolve", "pairwise_scores", "score", "stock_splink"]


def score(assignment: pl.DataFrame, labelled: pl.DataFrame) -> PairwiseScores:
    """Scores of a (record_id, person_id) assignment against `labelled` (record_id, true_id)."""
    joined = assignment.select("record_id", pl.col("person_id").alias("predicted")).join(
        labelled.select("record_id", pl.col("true_id").alias("truth")), on="record_id"
    )
    if joined.height != labelled.height:
        raise ValueError(f"{labelled.height - joined.height} labelled records have no prediction")
    return pairwise_scores(joined)


def evaluate_resolve(output_csv: Path, truth_csv: Path) -> PairwiseScores:
    """Score a `resolve` output (record_id, person_id) against (record_id, true id).

    The truth file's id column may be named `true_id`, `person_id`, `entity_id`,
    `cluster` or `label`.
    """
    predicted = pl.read_csv(output_csv, infer_schema=False)
    truth = pl.read_csv(truth_csv, infer_schema=False)
    truth_column = next(
        c for c in ("true_id", "person_id", "entity_id", "cluster", "label") if c in truth.columns
    )
    return score(predicted, truth.select("record_id", pl.col(truth_column).alias("true_id")))


def _stock_input(people: pl.DataFrame) -> pl.DataFrame:
    def clean(value: str | None) -> str | None:
        return norm.nfkc(value)

    def split(value: str | None, index: int) -> str | None:
        text = clean(value)
        if text is None:
            return None
        tokens = text.split()
        return tokens[index] if len(tokens) > 1 or index == -1 else None

    def digits(value: str | None) -> str | None:
        text = clean(value)
        return re.sub(r"\D", "", text) or None if text else None

    def apply(column: str, function) -> pl.Expr:
        return pl.col(column).map_elements(function, return_dtype=pl.String, skip_nulls=True)

    return people.with_row_index("unique_id").select(
        pl.col("unique_id").cast(pl.Int64),
        "record_id",
        apply("name", lambda v: split(v, 0)).alias("first_name"),
        apply("name", lambda v: split(v, -1)).alias("surname"),
        apply("birthday", norm.birthday).alias("dob"),
        apply("phone", digits).alias("phone"),
        apply("email", clean).alias("email"),
        apply("address", clean).alias("address"),
        apply("city", clean).alias("city"),
        apply("postcode", clean).alias("postcode"),
        apply("gender", clean).alias("gender"),
    )


def stock_splink(people: pl.DataFrame, *, threshold: float = 0.95, seed: int = 42) -> pl.DataFrame:
    """(record_id, person_id) from the stock splink model (module doc) on `people`."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    records = _stock_input(people)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.LevenshteinAtThresholds("address", [1, 3]),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
            cl.EmailComparison("email"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "dob"),
            block_on("phone"),
            block_on("email"),
        ],
    )
    connection = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=connection)
        table = db_api.register(records.to_arrow(), table_name="people")
        linker = Linker(table, settings, log_level=None)
        # Without a deterministic pair splink's default prior stays.
        with contextlib.suppress(Exception):
            linker.training.estimate_probability_two_random_records_match(
                [block_on("first_name", "surname", "dob")], recall=0.7
            )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
        for rule in (block_on("first_name", "surname"), block_on("dob")):
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(rule)
            except Exception:  # too few pairs for this pass
                continue
        predictions = linker.inference.predict(threshold_match_probability=0.5)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        labels = connection.sql(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").pl()
    finally:
        connection.close()
    assert isinstance(labels, pl.DataFrame)
    labelled = records.select("unique_id", "record_id").join(
        labels.with_columns(pl.col("unique_id").cast(pl.Int64)), on="unique_id", how="left"
    )
    return labelled.select(
        "record_id",
        pl.col("cluster_id").cast(pl.String).fill_null(pl.col("record_id")).alias("person_id"),
    )
