"""The identity graph, resolved night by night: only the people tonight's records touch.

Nodes are pseudonymous identifiers `(id_type, id_hash)`, with a `long` node id derived
from them for the join-heavy component algorithm (xxhash64; with 10 million
identifiers the chance of any collision is about 3e-6). The clear value rides along
only where `profiles` needs it and is dropped before anything is written.

The graph is kept between nights (`GraphState`, tables in `state.py`): every pair of
identifiers seen on one record (deterministic edges) and every accepted probabilistic
link, the identifiers the guards took out, the activity evidence per identifier, the
masked form of each phone. A night adds tonight's records and recomputes the
components of the people they touch (*affected*: every identifier of a person one of
tonight's identifiers belongs to, plus tonight's new identifiers), not the whole
population. The first night, or a `full` rebuild, is the same computation over an
empty state, with every person affected.

Guards against over-merging, each reported by `NightResult.shared` / `.splits`:
1. an identifier seen next to more than `max_partners` distinct identifiers of one
   type, or on more than `max_records_per_day` records in one day, is *shared* (a store
   phone, a family card) and links nothing, from then on;
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

# Proposes probabilistic links: (candidates, activity, person_of, phones) -> (node,
# target) rows attaching platform nodes to the person holding phone node `target`, or
# None. `person_of(nodes)` returns (node, person) for the nodes it is given.
WeakLinker = Callable[
    ["DataFrame", "DataFrame", Callable[["DataFrame"], "DataFrame"], "DataFrame"],
    "DataFrame | None",
]


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


def observed_nodes(hashed: DataFrame) -> DataFrame:
    """One row per identifier seen: node, id_type, id_hash, id_value, first/last seen."""
    from pyspark.sql import functions as F

    return hashed.groupBy("node", "id_type", "id_hash").agg(
        F.max("id_value").alias("id_value"),
        F.min("business_date").alias("first_seen"),
        F.max("business_date").alias("last_seen"),
    )


def record_pairs(hashed: DataFrame) -> DataFrame:
    """Every pair of identifiers seen on one record, as a deterministic edge (a < b)."""
    from pyspark.sql import functions as F

    on_record = hashed.groupBy("record_key", "node", "id_type").agg(
        F.min("business_date").alias("seen")
    )
    left = on_record.select(
        "record_key", F.col("node").alias("a"), F.col("id_type").alias("a_type"), "seen"
    )
    right = on_record.select(
        "record_key",
        F.col("node").alias("b"),
        F.col("id_type").alias("b_type"),
        F.col("seen").alias("seen_b"),
    )
    return (
        left.join(right, "record_key")
        .where(F.col("a") < F.col("b"))
        .groupBy("a", "b", "a_type", "b_type")
        .agg(F.min(F.least("seen", "seen_b")).alias("first_seen"))
        .withColumn("kind", F.lit(c.DETERMINISTIC))
    )


def shared_identifiers(
    hashed: DataFrame, touched: DataFrame, edges: DataFrame, config: c.IdentityConfig
) -> DataFrame:
    """Identifiers that several people use: (node, id_type, id_hash, reason, evidence).

    Partners are counted over every night's deterministic edges for `touched` (node,
    id_type, id_hash: the identifiers that gained a partner tonight, the only ones
    whose count can have grown); busy days over tonight's records.
    """
    from pyspark.sql import functions as F

    det = edges.where(F.col("kind") == c.DETERMINISTIC)
    both = det.select(
        F.col("a").alias("node"), F.col("b").alias("partner"), F.col("b_type").alias("partner_type")
    ).unionByName(
        det.select(
            F.col("b").alias("node"),
            F.col("a").alias("partner"),
            F.col("a_type").alias("partner_type"),
        )
    )
    partners = (
        both.join(touched.select("node"), "node", "left_semi")
        .groupBy("node", "partner_type")
        .agg(F.countDistinct("partner").alias("n"))
        .where(F.col("n") > config.max_partners)
        .groupBy("node")
        .agg(F.max("n").alias("evidence"))
        .join(touched.select("node", "id_type", "id_hash"), "node")
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
    both_reasons = partners.select(*columns).unionByName(busy.select(*columns))
    return (
        both_reasons.groupBy("node", "id_type", "id_hash")
        .agg(F.min("reason").alias("reason"), F.max("evidence").cast("long").alias("evidence"))
        .select(*columns)
    )


CITY = r"^([^*0-9]{1,8}?市)"


def night_activity(hashed: DataFrame) -> DataFrame:
    """Tonight's evidence per identifier: stores, masked phone, city, hours (summed)."""
    from pyspark.sql import functions as F

    city = F.regexp_extract("address", CITY, 1)
    return (
        hashed.where(F.col("store_code").isNotNull() | F.col("masked_phone").isNotNull())
        .withColumn("city", F.when(city != "", city))
        .groupBy("node", "id_type", "store_code", "masked_phone", "city")
        .agg(
            F.count("*").alias("visits"),
            F.sum(F.hour("at")).cast("long").alias("hour_sum"),
            F.count("at").alias("hour_n"),
        )
    )


def merge_activity(old: DataFrame | None, tonight: DataFrame) -> DataFrame:
    """The activity table after tonight: sums per (node, store, masked phone, city)."""
    from pyspark.sql import functions as F

    both = tonight if old is None else old.unionByName(tonight)
    keys = ["node", "id_type", "store_code", "masked_phone", "city"]
    return both.groupBy(*keys).agg(
        F.sum("visits").alias("visits"),
        F.sum("hour_sum").alias("hour_sum"),
        F.sum("hour_n").alias("hour_n"),
    )


def phone_tails(nodes: DataFrame) -> DataFrame:
    """The masked form of each phone node (`138****5678` as prefix3 + last4)."""
    from pyspark.sql import functions as F

    return nodes.where(F.col("id_type") == c.PHONE).select(
        "node",
        F.substring("id_value", 1, 3).alias("prefix3"),
        F.substring("id_value", 8, 4).alias("last4"),
    )


@dataclass(frozen=True)
class GraphState:
    """What earlier nights left (all None on the first night or a full rebuild).

    `previous`: last night's identity_map plus `node`; `edges`: a, b, a_type, b_type,
    kind, first_seen; `shared`: node, id_type, id_hash, reason, evidence; `activity`:
    node, id_type, store_code, masked_phone, city, visits, hour_sum, hour_n; `phones`:
    node, prefix3, last4.
    """

    previous: DataFrame | None = None
    edges: DataFrame | None = None
    shared: DataFrame | None = None
    activity: DataFrame | None = None
    phones: DataFrame | None = None


@dataclass(frozen=True)
class NightResult:
    """The affected people re-resolved, and what the state tables gain or lose.

    `clusters`: node, id_type, id_hash, id_value (clear, tonight's identifiers only),
    component, link_kind, first_seen, last_seen, for every affected identifier.
    `previous`: the previous map's rows of the affected people (for stable ids);
    `replaced_ids`: their old one_ids (their rows in the outputs are replaced).
    `seen_again`: node, one_id, seen (tonight's last date) of the people only seen
    again, whose rows stay but whose `last_seen` moves on. `shared`: identifiers the
    guards took out tonight. `new_edges`: deterministic pairs and probabilistic links
    to add; `dropped_links`: platform nodes whose earlier probabilistic link the size
    cap undid. `activity` (tonight's rows) and `new_phones`: state to append.
    """

    clusters: DataFrame
    previous: DataFrame | None
    replaced_ids: DataFrame | None
    seen_again: DataFrame | None
    shared: DataFrame
    new_edges: DataFrame
    dropped_links: DataFrame | None
    activity: DataFrame
    new_phones: DataFrame
    splits: list[tuple[int, list[int], str]]
    rounds: int
    probabilistic_links: int


def resolve_night(
    hashed: DataFrame,
    state: GraphState,
    config: c.IdentityConfig,
    *,
    weak_linker: WeakLinker | None = None,
    checkpoint: Checkpointer | None = None,
) -> NightResult:
    """Cluster tonight's identifiers and the people they touch into people."""
    from pyspark.sql import functions as F

    cut = checkpoint or Checkpointer()
    hashed = cut(hashed)
    tonight = cut(observed_nodes(hashed))

    pairs = record_pairs(hashed)
    if state.edges is not None:
        pairs = pairs.join(state.edges.select("a", "b"), ["a", "b"], "left_anti")
    fresh = cut(pairs.select(*EDGE_COLUMNS))
    edges = fresh if state.edges is None else state.edges.select(*EDGE_COLUMNS).unionByName(fresh)

    # Tonight's identifiers as the previous map knows them (a rebuild knows none).
    previous = state.previous
    incremental = previous is not None and state.edges is not None
    if incremental:
        hits = cut(
            previous.join(tonight.select("node", F.col("last_seen").alias("seen")), "node").select(
                "node", "id_type", "one_id", "link_kind", "seen"
            )
        )
        new_nodes = tonight.select("node").join(hits.select("node"), "node", "left_anti")
    fresh_nodes = fresh.select(F.col("a").alias("node")).unionByName(
        fresh.select(F.col("b").alias("node"))
    )
    gained_partners = tonight.join(fresh_nodes.distinct(), "node", "left_semi")
    shared_tonight = shared_identifiers(hashed, gained_partners, edges, config)
    if state.shared is not None:
        shared_tonight = shared_tonight.join(state.shared.select("node"), "node", "left_anti")
    new_shared = cut(shared_tonight)
    shared_nodes = new_shared.select("node")
    if state.shared is not None:
        shared_nodes = state.shared.select("node").unionByName(shared_nodes)

    # Activity is summed when read: tonight's rows are appended, not merged.
    activity_tonight = cut(night_activity(hashed))
    activity = (
        activity_tonight if state.activity is None else state.activity.unionByName(activity_tonight)
    )
    new_phones = phone_tails(tonight)
    if state.phones is not None:
        new_phones = new_phones.join(state.phones.select("node"), "node", "left_anti")
    new_phones = cut(new_phones)
    phones = new_phones if state.phones is None else state.phones.unionByName(new_phones)

    # The affected people: those whose identifiers can have changed tonight, i.e. who
    # hold an identifier with a new partner, newly shared, new to the map, on a CRM
    # record tonight (the profile may change), or a platform id still alone (new
    # evidence for the weak model). A person only seen again keeps their rows, with
    # `last_seen` moved on (`seen_again`).
    replaced_ids = seen_again = None
    if incremental:
        lonely = hits.where(
            (F.col("link_kind") == c.SINGLETON) & F.col("id_type").isin(*c.PLATFORM_ID_TYPES)
        ).select("node")
        crm = hashed.where(F.col("source") == "mp_members").select("node")
        changed = fresh_nodes.unionByName(new_shared.select("node")).unionByName(crm)
        changed = changed.unionByName(lonely)
        replaced_ids = cut(hits.join(changed, "node", "left_semi").select("one_id").distinct())
        seen_again = cut(
            hits.join(replaced_ids, "one_id", "left_anti").select("node", "one_id", "seen")
        )
        previous = cut(previous.join(replaced_ids, "one_id", "left_semi"))
        known = _known_nodes(previous)
        relevant = previous.select("node").unionByName(new_nodes)
        nodes = (
            tonight.join(relevant, "node", "left_semi")
            .unionByName(known)
            .groupBy("node", "id_type", "id_hash")
            .agg(
                F.max("id_value").alias("id_value"),
                F.min("first_seen").alias("first_seen"),
                F.max("last_seen").alias("last_seen"),
            )
        )
    else:
        nodes = tonight
    nodes = cut(nodes.join(shared_nodes, "node", "left_anti"))
    sub_edges = cut(
        edges.join(nodes.select(F.col("node").alias("a")), "a", "left_semi").join(
            nodes.select(F.col("node").alias("b")), "b", "left_semi"
        )
    )
    graph = sub_edges.select(F.col("a").alias("src"), F.col("b").alias("dst"))
    result = connected_components(graph, nodes.select("node"), checkpoint=cut)
    assigned = cut(nodes.join(result.components, "node"))
    det = sub_edges.where(F.col("kind") == c.DETERMINISTIC)
    det_nodes = det.select(F.col("a").alias("node")).unionByName(
        det.select(F.col("b").alias("node"))
    )
    linked_before = sub_edges.where(F.col("kind") == c.PROBABILISTIC).select(
        F.col("a").alias("node"), F.lit(True).alias("was_linked")
    )

    links = None
    if weak_linker is not None:
        assigned, previous, replaced_ids, links = _link_weak_ids(
            assigned, state, previous, replaced_ids, activity, phones, weak_linker, cut
        )
    n_links = links.count() if links is not None else 0

    clusters = assigned.join(
        det_nodes.distinct().withColumn("has_edge", F.lit(True)), "node", "left"
    ).join(linked_before.distinct(), "node", "left")
    if links is not None:
        attach = links.join(
            assigned.select(F.col("node").alias("target"), F.col("component").alias("linked_to")),
            "target",
        ).select("node", "linked_to")
        clusters = clusters.join(attach, "node", "left")
    else:
        clusters = clusters.withColumn("linked_to", F.lit(None).cast("long"))
    clusters = cut(
        clusters.select(
            "node",
            "id_type",
            "id_hash",
            "id_value",
            F.coalesce("linked_to", "component").alias("component"),
            F.when(
                F.col("linked_to").isNotNull() | F.col("was_linked").isNotNull(),
                F.lit(c.PROBABILISTIC),
            )
            .when(F.col("has_edge"), F.lit(c.DETERMINISTIC))
            .otherwise(F.lit(c.SINGLETON))
            .alias("link_kind"),
            "first_seen",
            "last_seen",
        )
    )
    clusters, splits, extra_shared, extra_rounds = _cap_cluster_size(
        clusters, det.select(F.col("a").alias("src"), F.col("b").alias("dst")), config, cut
    )
    if extra_shared is not None:
        new_shared = new_shared.unionByName(extra_shared)

    # State changes: tonight's pairs, the links that survived the size cap, undone links.
    still_linked = clusters.where(F.col("link_kind") == c.PROBABILISTIC).select("node")
    new_edges = fresh
    if links is not None:
        kept = links.join(still_linked, "node", "left_semi")
        new_edges = new_edges.unionByName(_link_edges(kept, clusters))
    dropped_links = None
    if state.edges is not None:
        dropped_links = linked_before.select("node").join(still_linked, "node", "left_anti")
    return NightResult(
        clusters=clusters,
        previous=previous,
        replaced_ids=replaced_ids,
        seen_again=seen_again,
        shared=new_shared,
        new_edges=new_edges,
        dropped_links=dropped_links,
        activity=activity_tonight,
        new_phones=new_phones,
        splits=splits,
        rounds=result.rounds + extra_rounds,
        probabilistic_links=n_links,
    )


EDGE_COLUMNS = ("a", "b", "a_type", "b_type", "kind", "first_seen")


def _known_nodes(map_rows: DataFrame, *extra: str) -> DataFrame:
    """Identity-map rows as graph nodes; their clear value is not known (null)."""
    from pyspark.sql import functions as F

    return map_rows.select(
        "node",
        "id_type",
        "id_hash",
        F.lit(None).cast("string").alias("id_value"),
        "first_seen",
        "last_seen",
        *extra,
    )


def _link_edges(links: DataFrame, clusters: DataFrame) -> DataFrame:
    """Probabilistic links as edges: a = the platform node, b = the person's phone."""
    from pyspark.sql import functions as F

    types = clusters.select("node", "id_type", "last_seen")
    return (
        links.join(types, "node")
        .join(
            types.select(F.col("node").alias("target"), F.col("id_type").alias("b_type")),
            "target",
        )
        .select(
            F.col("node").alias("a"),
            F.col("target").alias("b"),
            F.col("id_type").alias("a_type"),
            "b_type",
            F.lit(c.PROBABILISTIC).alias("kind"),
            F.col("last_seen").alias("first_seen"),  # the night the link was made
        )
    )


def _link_weak_ids(
    assigned: DataFrame,
    state: GraphState,
    previous: DataFrame | None,
    replaced_ids: DataFrame | None,
    activity: DataFrame,
    phones: DataFrame,
    weak_linker: WeakLinker,
    cut: Callable[[DataFrame], DataFrame],
) -> tuple[DataFrame, DataFrame | None, DataFrame | None, DataFrame | None]:
    """Score tonight's unlinked platform ids against every person with a phone.

    A link to a person tonight did not touch brings that person into the affected set
    (its identifiers keep their component, the smallest node, and its one_id).
    """
    from pyspark.sql import functions as F

    sizes = assigned.groupBy("component").agg(F.count("*").alias("size"))
    candidates = (
        assigned.join(sizes, "component")
        .where((F.col("size") == 1) & F.col("id_type").isin(*c.PLATFORM_ID_TYPES))
        .select("node")
    )
    incremental = state.previous is not None and replaced_ids is not None

    def person_of(nodes: DataFrame) -> DataFrame:
        """(node, person) for `nodes`: tonight's clusters, else their unchanged one_id."""
        mine = assigned.join(nodes, "node", "left_semi").select(
            "node", F.concat(F.lit("c"), F.col("component").cast("string")).alias("person")
        )
        if not incremental:
            return mine
        theirs = (
            state.previous.join(nodes, "node", "left_semi")
            .join(replaced_ids, "one_id", "left_anti")
            .select("node", F.col("one_id").alias("person"))
        )
        return mine.unionByName(theirs)

    links = weak_linker(candidates, activity, person_of, phones)
    if links is None:
        return assigned, previous, replaced_ids, None
    links = cut(links)
    outside = links.join(assigned.select(F.col("node").alias("target")), "target", "left_anti")
    if not incremental or outside.limit(1).count() == 0:
        return assigned, previous, replaced_ids, links
    pulled_ids = (
        state.previous.join(outside.select(F.col("target").alias("node")), "node", "left_semi")
        .select("one_id")
        .distinct()
    )
    pulled = state.previous.join(pulled_ids, "one_id", "left_semi")
    components = pulled.groupBy("one_id").agg(F.min("node").alias("component"))
    extra = _known_nodes(pulled.join(components, "one_id"), "component")
    assigned = cut(assigned.unionByName(extra.select(*assigned.columns)))
    previous = cut(previous.unionByName(pulled.select(*previous.columns)))
    replaced_ids = cut(replaced_ids.unionByName(pulled_ids))
    return assigned, previous, replaced_ids, links


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
