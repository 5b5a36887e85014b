"""From scored pairs to people: connected components that must hold together.

A chain of pairs each just above the threshold can join two people through a
record that resembles both. Clusters are therefore the connected components of the
links, and a component is kept only when it holds together: a large component, or
one whose members are poorly linked to each other (link density below
`min_density`), is re-cut with only its stronger links, step by step, until each
part holds together or only near-certain links remain.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected-component label per record (0..n-1) of the undirected links."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _loose(labels: np.ndarray, left: np.ndarray, max_size: int, min_density: float) -> np.ndarray:
    """Labels of components too big or too sparsely linked to be one person."""
    sizes = np.bincount(labels)
    links = np.bincount(labels[left], minlength=sizes.size)
    possible = np.maximum(sizes * (sizes - 1) / 2, 1)
    density = links / possible
    return np.flatnonzero((sizes > max_size) | ((sizes >= 4) & (density < min_density)))


def cluster(
    n: int,
    edges: pl.DataFrame,
    *,
    threshold: float,
    max_size: int,
    min_density: float,
) -> tuple[np.ndarray, int]:
    """Cluster label per record and the number of components that were re-cut.

    `edges`: unique_id_l, unique_id_r, match_probability (>= threshold). Re-cutting
    raises the bar for the loose components' links to 1 - (1 - threshold) / 10**k,
    k = 1, 2, 3, then keeps only certain (deterministic, probability 1) links.
    """
    left = edges["unique_id_l"].to_numpy()
    right = edges["unique_id_r"].to_numpy()
    probability = edges["match_probability"].to_numpy()
    labels = components(n, left, right)
    recut = 0
    for bar in [1 - (1 - threshold) / 10**k for k in (1, 2, 3)] + [1.0]:
        loose = _loose(labels, left, max_size, min_density)
        if loose.size == 0:
            break
        recut += int(loose.size)
        keep = ~np.isin(labels[left], loose) | (probability >= bar)
        left, right, probability = left[keep], right[keep], probability[keep]
        labels = components(n, left, right)
    return labels, recut
