"""Why two records were joined: splink's waterfall data of the linked pairs.

One row per pair and step of the waterfall (the prior, one per comparison, the final
score), as splink's waterfall chart draws it, with the compared values left out so
that the file holds no personal data: record ids, the level each comparison reached,
its Bayes factor and match weight (log2 Bayes factor), m and u, and whether a term
frequency adjustment applied.
"""

from __future__ import annotations

from typing import Any

import polars as pl

WATERFALL_COLUMNS = (
    "record_id_l",
    "record_id_r",
    "match_probability",
    "step",
    "column_name",
    "label_for_charts",
    "comparison_vector_value",
    "bayes_factor",
    "log2_bayes_factor",
    "m_probability",
    "u_probability",
    "term_frequency_adjustment",
)


def waterfall_frame(linker: Any, pairs: list[dict[str, Any]]) -> pl.DataFrame:
    """Waterfall rows of `pairs` (records of a splink prediction with intermediate columns).

    Columns: unique_id_l, unique_id_r, match_probability, step, column_name,
    label_for_charts, comparison_vector_value, bayes_factor, log2_bayes_factor,
    m_probability, u_probability, term_frequency_adjustment.
    """
    from splink.internals.waterfall_chart import records_to_waterfall_data

    rows = records_to_waterfall_data(pairs, linker._settings_obj, hide_details=True)
    schema = {
        "unique_id_l": pl.Int64,
        "unique_id_r": pl.Int64,
        "match_probability": pl.Float64,
        "step": pl.Int64,
        "column_name": pl.String,
        "label_for_charts": pl.String,
        "comparison_vector_value": pl.Int64,
        "bayes_factor": pl.Float64,
        "log2_bayes_factor": pl.Float64,
        "m_probability": pl.Float64,
        "u_probability": pl.Float64,
        "term_frequency_adjustment": pl.Boolean,
    }
    out = [
        {
            "unique_id_l": int(pairs[row["record_number"]]["unique_id_l"]),
            "unique_id_r": int(pairs[row["record_number"]]["unique_id_r"]),
            "match_probability": float(pairs[row["record_number"]]["match_probability"]),
            "step": row["bar_sort_order"],
            "column_name": row["column_name"],
            "label_for_charts": row["label_for_charts"],
            "comparison_vector_value": row.get("comparison_vector_value"),
            "bayes_factor": row.get("bayes_factor"),
            "log2_bayes_factor": row.get("log2_bayes_factor"),
            "m_probability": row.get("m_probability"),
            "u_probability": row.get("u_probability"),
            "term_frequency_adjustment": bool(row.get("term_frequency_adjustment")),
        }
        for row in rows
    ]
    return pl.DataFrame(out, schema=schema)
