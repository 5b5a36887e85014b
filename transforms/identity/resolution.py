"""The identity graph: hashed nodes, guarded edges, components, size-capped clusters.

Nodes are pseudonymous identifiers `(id_type, id_hash)`, with a `long` node id derived
from them for the join-heavy component algorithm (xxhash64; with 10 million
identifiers the chance of any collision is about 3e-6). The clear value rides along
only where `linkage` and `profiles` need it and is dropped before anything is written.

Guards against over-merging, each reported by `ResolutionResult.shared` / `.splits`:
1. an identifier seen next to more than `max_partners` distinct identifiers of one
   type, or on more than `max_records_per_day` records in one day, is *shared* (a store
   phone, a family card) and links nothing;
2. a cluster larger than `max_cluster_size` loses its probabilistic links first, then
   its busiest identifier (most distinct neighbours), and is recomputed, up to
   `max_split_passes` times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bakehouse.pii import pseudonym_col
from transforms.identity import config as c
from transforms.identity.graph import Checkpointer, connected_components

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

# A function proposing probabilistic links: given the nodes with their deterministic
# component (node, component, id_type, id_value), return (node, component) rows that
# attach still-unlinked platform nodes to a component, with a `match_probability`.
WeakLinker = Callable[["DataFrame"], "DataFrame | None"]


def node_id(id_type: Column | str, id_hash: Column | str) -> Column:
    from pyspark.sql import functions as F

    return F.xxhash64(F.concat_ws(":", id_type, id_hash))


def hash_observations(observations: DataFrame, key: bytes) -> DataFrame:
    """Add `id_hash` (keyed pseudonym) and `node` to each observation.

    `pseudonym_col` needs the id type as a literal, so the column is built as a CASE
    over the known id types.
    """
    from pyspark.sql import functions as F

    id_hash = None
    for id_type in c.ID_TYPES:
        branch = pseudonym_col(key, id_type, F.col("id_value"))
        condition = F.col("id_type") == id_type
        id_hash = F.when(condition, branch) if id_hash is None else id_hash.when(condition, branch)
    hashed = observations.withColumn("id_hash", id_hash)
    return hashed.withColumn("node", node_id("id_type", "id_hash"))


def shared_identifiers(hashed: DataFrame, config: c.IdentityConfig) -> DataFrame:
    """Identifiers that several people use: (node, id_type, id_hash, reason, evidence)."""
    from pyspark.sql import functions as F

    left = hashed.select("record_key", "node", "id_type", "id_hash")
    right = hashed.select(
        "record_key", F.col("node").alias("partner"), F.col("id_type").alias("partner_type")
    )
    partners = (
        left.join(right, "record_key")
        .where(F.col("node") != F.col("partner"))
        .groupBy("node", "id_type", "id_hash", "partner_type")
        .agg(F.countDistinct("partner").alias("n"))
        .where(F.col("n") > config.max_partners)
        .groupBy("node", "id_type", "id_hash")
        .agg(F.max("n").alias("evidence"))
        .withColumn("reason", F.lit("shared_by_partners"))
    )
    busy = (
        hashed.groupBy("node", "id_type", "id_hash", "business_date")
        .agg(F.countDistinct("record_key").alias("n"))
        .where(F.col("n") > config.max_records_per_day)
        .groupBy("node", "id_type", "id_hash")
        .agg(F.max("n").alias("evidence"))
        .withColumn("reason", F.lit("busy_per_day"))
    )
    columns = ["node", "id_type", "id_hash", "reason", "evidence"]
    both = partners.select(*columns).unionByName(busy.select(*columns))
    return (
        both.groupBy("node", "id_type", "id_hash")
        .agg(F.min("reason").alias("reason"), F.max("evidence").alias("evidence"))
        .select(*columns)
    )


def record_edges(hashed: DataFrame, excluded: DataFrame) -> DataFrame:
    """Star edges from each record's identifiers to its smallest one (excluding shared)."""
    from pyspark.sql import functions as F

    usable = hashed.select("record_key", "node").join(excluded.select("node"), "node", "left_anti")
    anchors = usable.groupBy("record_key").agg(F.min("node").alias("anchor"))
    return (
        usable.join(anchors, "record_key")
        .where(F.col("node") != F.col("anchor"))
        .select(F.col("node").alias("src"), F.col("anchor").alias("dst"))
        .distinct()
    )


@dataclass(frozen=True)
class ResolutionResult:
    """Every usable identifier with its cluster.

    `clusters`: node, id_type, id_hash, id_value (clear, in memory only), component,
    link_kind, first_seen, last_seen. `shared`: the identifiers the guard kept out.
    `splits`: (component before, components after, reason) for over-size clusters.
    """

    clusters: DataFrame
    shared: DataFrame
    splits: list[tuple[int, list[int], str]]
    rounds: int
    probabilistic_links: int


def resolve_identities(
    observations: DataFrame,
    key: bytes,
    config: c.IdentityConfig,
    *,
    weak_linker: WeakLinker | None = None,
    checkpoint: Checkpointer | None = None,
) -> ResolutionResult:
    """Cluster identifiers into people: guards, components, weak links, size cap."""
    from pyspark.sql import functions as F

    cut = checkpoint or Checkpointer()
    hashed = cut(hash_observations(observations, key))
    shared = cut(shared_identifiers(hashed, config))
    nodes = (
        hashed.join(shared.select("node"), "node", "left_anti")
        .groupBy("node", "id_type", "id_hash")
        .agg(
            F.max("id_value").alias("id_value"),
            F.min("business_date").alias("first_seen"),
            F.max("business_date").alias("last_seen"),
        )
    )
    nodes = cut(nodes)
    edges = cut(record_edges(hashed, shared))
    result = connected_components(edges, nodes.select("node"), checkpoint=cut)
    rounds = result.rounds
    assigned = cut(nodes.join(result.components, "node"))

    probabilistic = None
    if weak_linker is not None:
        links = weak_linker(assigned.select("node", "component", "id_type", "id_value"))
        if links is not None:
            probabilistic = cut(links.select("node", F.col("component").alias("linked_to")))
    n_links = probabilistic.count() if probabilistic is not None else 0

    linked_nodes = edges.select(F.col("src").alias("node")).unionByName(
        edges.select(F.col("dst").alias("node"))
    )
    linked_nodes = linked_nodes.distinct().withColumn("has_edge", F.lit(True))
    clusters = assigned.join(linked_nodes, "node", "left")
    if probabilistic is not None:
        clusters = clusters.join(probabilistic, "node", "left")
    else:
        clusters = clusters.withColumn("linked_to", F.lit(None).cast("long"))
    clusters = clusters.select(
        "node",
        "id_type",
        "id_hash",
        "id_value",
        F.coalesce("linked_to", "component").alias("component"),
        F.when(F.col("linked_to").isNotNull(), F.lit(c.PROBABILISTIC))
        .when(F.col("has_edge"), F.lit(c.DETERMINISTIC))
        .otherwise(F.lit(c.SINGLETON))
        .alias("link_kind"),
        "first_seen",
        "last_seen",
    )
    clusters = cut(clusters)
    clusters, splits, extra_shared, extra_rounds = _cap_cluster_size(clusters, edges, config, cut)
    if extra_shared is not None:
        shared = shared.unionByName(extra_shared)
    return ResolutionResult(
        clusters=clusters,
        shared=shared,
        splits=splits,
        rounds=rounds + extra_rounds,
        probabilistic_links=n_links,
    )


def _cap_cluster_size(
    clusters: DataFrame,
    edges: DataFrame,
    config: c.IdentityConfig,
    cut: Callable[[DataFrame], DataFrame],
) -> tuple[DataFrame, list[tuple[int, list[int], str]], DataFrame | None, int]:
    """Split clusters above the cap: weak links go first, then the busiest identifiers."""
    from pyspark.sql import functions as F

    splits: list[tuple[int, list[int], str]] = []
    removed: list[DataFrame] = []
    rounds = 0

    def oversized(frame: DataFrame) -> list[int]:
        sizes = frame.groupBy("component").count()
        rows = sizes.where(F.col("count") > config.max_cluster_size).select("component")
        return [row.component for row in rows.collect()]

    big = oversized(clusters)
    if not big:
        return clusters, splits, None, rounds
    big_frame = clusters.sparkSession.createDataFrame([(b,) for b in big], "component long")

    # Pass 0: undo the probabilistic attachments of oversized clusters.
    in_big = clusters.join(big_frame, "component", "left_semi")
    weak = in_big.where(F.col("link_kind") == c.PROBABILISTIC)
    if weak.limit(1).count() > 0:
        detached = weak.withColumn("component", F.col("node")).withColumn(
            "link_kind", F.lit(c.SINGLETON)
        )
        clusters = cut(
            clusters.join(weak.select("node"), "node", "left_anti").unionByName(detached)
        )
        for component in big:
            splits.append((component, [component], "probabilistic_links_dropped"))
        big = oversized(clusters)

    for _ in range(config.max_split_passes):
        if not big:
            break
        big_frame = clusters.sparkSession.createDataFrame([(b,) for b in big], "component long")
        members = clusters.join(big_frame, "component", "left_semi").select(
            "node", "id_type", "id_hash", "component"
        )
        inner = edges.join(members.select(F.col("node").alias("src")), "src", "left_semi")
        both = inner.unionByName(inner.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
        degree = both.groupBy("src").agg(F.countDistinct("dst").alias("degree"))
        ranked = members.join(degree.withColumnRenamed("src", "node"), "node")
        busiest = (
            ranked.groupBy("component")
            .agg(F.max_by("node", F.struct("degree", "node")).alias("node"))
            .select("node")
        )
        dropped = members.join(busiest, "node", "left_semi").select(
            "node",
            "id_type",
            "id_hash",
            F.lit("cluster_size_cap").alias("reason"),
            F.lit(config.max_cluster_size).cast("long").alias("evidence"),
        )
        dropped = cut(dropped)
        removed.append(dropped)
        edges = edges.join(dropped.select(F.col("node").alias("src")), "src", "left_anti").join(
            dropped.select(F.col("node").alias("dst")), "dst", "left_anti"
        )
        sub_edges = edges.join(members.select(F.col("node").alias("src")), "src", "left_semi")
        remaining = members.join(dropped.select("node"), "node", "left_anti")
        result = connected_components(sub_edges, remaining.select("node"), checkpoint=cut)
        rounds += result.rounds
        recomputed = cut(
            result.components.join(
                members.select("node", F.col("component").alias("before")), "node"
            )
        )
        for row in (
            recomputed.groupBy("before")
            .agg(F.sort_array(F.collect_set("component")).alias("after"))
            .collect()
        ):
            splits.append((row.before, list(row.after), "busiest_identifier_dropped"))
        mapping = recomputed.select("node", F.col("component").alias("new_component"))
        clusters = cut(
            clusters.join(dropped.select("node"), "node", "left_anti")
            .join(mapping, "node", "left")
            .withColumn("component", F.coalesce("new_component", "component"))
            .drop("new_component")
        )
        big = oversized(clusters)

    extra = None
    if removed:
        extra = removed[0]
        for frame in removed[1:]:
            extra = extra.unionByName(frame)
    return clusters, splits, extra, rounds
