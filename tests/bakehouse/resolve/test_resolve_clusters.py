"""Constrained clustering: strongest links first, conflicts and the size cap respected."""

from __future__ import annotations

import polars as pl

from bakehouse.resolve.clusters import cluster


def _edges(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64, "match_weight": pl.Float64},
        orient="row",
    )


def _pairs(rows: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64}, orient="row"
    )


def test_a_record_like_two_people_joins_the_one_it_resembles_most():
    # 1 (surname + household phone only) links to mother 0 (12 bits) and son 2 (9 bits);
    # mother and son conflict. Connected components would make one family person.
    labels, refused = cluster(
        4, _edges([(0, 1, 12.0), (1, 2, 9.0), (2, 3, 20.0)]), _pairs([(0, 2)]), max_size=40
    )
    assert labels[0] == labels[1] != labels[2] == labels[3]
    assert refused == 1


def test_no_links_everyone_alone_and_the_size_cap_holds():
    labels, refused = cluster(3, _edges([]), _pairs([]), max_size=40)
    assert sorted(labels.tolist()) == [0, 1, 2]
    assert refused == 0
    chain = _edges([(0, 1, 5.0), (1, 2, 4.0), (2, 3, 3.0)])
    labels, refused = cluster(4, chain, _pairs([]), max_size=2)
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[1] != labels[2]
    assert refused == 1


def test_empty_input():
    labels, refused = cluster(0, _edges([]), _pairs([]), max_size=40)
    assert labels.tolist() == [] and refused == 0
