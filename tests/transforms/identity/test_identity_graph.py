"""Connected components: correct on small graphs, O(log n) rounds on a long path."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from transforms.identity.graph import Checkpointer, connected_components


def _reference_components(edges: list[tuple[int, int]], nodes: set[int]) -> dict[int, int]:
    """Union-find: node -> smallest node of its component."""
    parent = {n: n for n in nodes}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in nodes}


def _run(spark, tmp_path, edges, nodes=None):
    frame = spark.createDataFrame(edges, "src long, dst long")
    node_frame = (
        spark.createDataFrame([(n,) for n in sorted(nodes)], "node long") if nodes else None
    )
    checkpoint = Checkpointer(tmp_path / "cc")
    result = connected_components(frame, node_frame, checkpoint=checkpoint)
    mapping = {row.node: row.component for row in result.components.collect()}
    return mapping, result.rounds


@pytest.mark.parametrize("seed", [1, 2])
def test_components_match_union_find_on_random_graphs(spark, tmp_path, seed):
    rng = random.Random(seed)
    nodes = set(range(300))
    edges = [(rng.randrange(300), rng.randrange(300)) for _ in range(220)]
    mapping, _ = _run(spark, tmp_path, edges, nodes)
    assert mapping == _reference_components(edges, nodes)


def test_isolated_nodes_and_self_loops_are_their_own_components(spark, tmp_path):
    mapping, _ = _run(spark, tmp_path, [(5, 5), (7, 3)], {1, 3, 5, 7})
    assert mapping == {1: 1, 3: 3, 5: 5, 7: 3}


def test_long_path_converges_in_logarithmic_rounds(spark, tmp_path):
    n = 1024
    order = list(range(n))
    random.Random(7).shuffle(order)  # a path whose labels are not sorted along it
    edges = list(itertools.pairwise(order))
    mapping, rounds = _run(spark, tmp_path, edges)
    assert set(mapping.values()) == {0}
    assert len(mapping) == n
    assert rounds <= 2 * math.ceil(math.log2(n)) + 2
