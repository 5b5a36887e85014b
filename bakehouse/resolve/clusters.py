"""From scored pairs to people: clustering that chains of weak links cannot fool.

Connected components merge two people as soon as one record resembles both (a
record with only a surname and the household's phone matches the mother and the
son). Clusters here are built instead by constrained agglomeration: links are taken
strongest first (by match weight) and two clusters join only when no pair across
them is a conflict (personal evidence strongly against: `model.predict`) and the
joined cluster stays within `max_size` records. The ambiguous record therefore goes
to the person it resembles most and does not carry the rest of the family along.
This is union-find with cannot-link constraints (Wagstaff et al., "Constrained
k-means clustering with background knowledge", ICML 2001, applied to
single-linkage agglomeration).
"""

from __future__ import annotations

import numpy as np
import polars as pl


def cluster(
    n: int, edges: pl.DataFrame, conflicts: pl.DataFrame, *, max_size: int
) -> tuple[np.ndarray, int]:
    """Cluster label per record (0..n-1) and the number of links refused.

    edges: unique_id_l, unique_id_r, match_weight (the links, any order).
    conflicts: unique_id_l, unique_id_r (pairs that must stay apart).
    """
    parent = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    cannot: dict[int, set[int]] = {}
    for left, right in conflicts.select("unique_id_l", "unique_id_r").iter_rows():
        cannot.setdefault(left, set()).add(right)
        cannot.setdefault(right, set()).add(left)

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    refused = 0
    ordered = edges.sort(
        ["match_weight", "unique_id_l", "unique_id_r"], descending=[True, False, False]
    )
    for left, right in ordered.select("unique_id_l", "unique_id_r").iter_rows():
        root_l, root_r = find(left), find(right)
        if root_l == root_r:
            continue
        small, large = sorted((root_l, root_r), key=lambda root: len(members[root]))
        too_big = len(members[small]) + len(members[large]) > max_size
        if too_big or any(
            find(other) == large for node in members[small] for other in cannot.get(node, ())
        ):
            refused += 1
            continue
        parent[small] = large
        members[large].extend(members.pop(small))
    roots = np.fromiter((find(i) for i in range(n)), dtype=np.int64, count=n)
    _, labels = np.unique(roots, return_inverse=True)
    return labels, refused
