"""The identity graph, resolved night by night: only the people tonight's records touch.

Nodes are pseudonymous identifiers `(id_type, id_hash)`, with a `long` node id derived
from them for the join-heavy component algorithm (xxhash64; with 10 million
identifiers the chance of any collision is about 3e-6). Clear values are replaced by
the keyed hash (and a phone's masked form) as soon as observations are hashed.

The graph is kept between nights (`GraphState`, tables in `pipeline.py`): every pair
of identifiers seen on one record (deterministic edges), every accepted weak link,
the identifiers the guards took out, the activity evidence per identifier and file,
the masked form of each phone. A night adds tonight's records and recomputes the
people they touch (*affected*, `_plan_affected`), not the whole population. The
first night, or a `full` rebuild, is the same computation over an empty state, with
every person affected, and gives the same people and labels as the nights did.

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

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bakehouse.pii import pseudonym_col
from transforms.identity import config as c
from transforms.identity.graph import Checkpointer, connected_components

# Proposes probabilistic links: (candidates, activity, person_of, phones) -> (node,
# target) rows attaching platform nodes to the person holding phone node `target`, or
# None. `person_of(nodes)` returns (node, person) for the nodes it is given.
WeakLinker = Callable[
    ["DataFrame", "DataFrame", Callable[["DataFrame"], "DataFrame"], "DataFrame"],
    "DataFrame | None",
]


def node_id(id_type: Column | str, id_hash: Column | str) -> Column:
    return F.xxhash64(F.concat_ws(":", id_type, id_hash))


def hash_observations(observations: DataFrame, key: bytes) -> DataFrame:
    """Add `id_hash` (keyed pseudonym) and `node`; the clear value becomes `masked_value`.

    `masked_value` is a phone's masked form (`138****5678`, what the weak model blocks
    on) and null for every other id type, so nothing downstream (and no scratch file)
    holds a clear identifier. `pseudonym_col` needs the id type as a literal, so the
    hash is a CASE over the known id types.
    """
    id_hash = None
    for id_type in c.ID_TYPES:
        branch = pseudonym_col(key, id_type, F.col("id_value"))
        condition = F.col("id_type") == id_type
        id_hash = F.when(condition, branch) if id_hash is None else id_hash.when(condition, branch)
    masked = F.when(
        F.col("id_type") == c.PHONE,
        F.concat(F.substring("id_value", 1, 3), F.lit("****"), F.substring("id_value", 8, 4)),
    )
    hashed = observations.withColumn("id_hash", id_hash).withColumn("masked_value", masked)
    return hashed.withColumn("node", node_id("id_type", "id_hash")).drop("id_value")


def observed_nodes(hashed: DataFrame) -> DataFrame:
    """One row per identifier seen: node, id_type, id_hash, masked_value, first/last seen."""
    return hashed.groupBy("node", "id_type", "id_hash").agg(
        F.max("masked_value").alias("masked_value"),
        F.min("business_date").alias("first_seen"),
        F.max("business_date").alias("last_seen"),
    )


def record_pairs(hashed: DataFrame) -> DataFrame:
    """Every pair of identifiers seen on one record, as a deterministic edge (a < b)."""
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
    """Tonight's evidence per identifier and landing file: stores, masked phone, city,
    hours (summed). Keyed by `source_file`, so a later copy of a file replaces its
    evidence instead of adding to it."""
    city = F.regexp_extract("address", CITY, 1)
    return (
        hashed.where(F.col("store_code").isNotNull() | F.col("masked_phone").isNotNull())
        .withColumn("city", F.when(city != "", city))
        .groupBy("node", "id_type", "store_code", "masked_phone", "city", "source_file")
        .agg(
            F.count("*").alias("visits"),
            F.sum(F.hour("at")).cast("long").alias("hour_sum"),
            F.count("at").alias("hour_n"),
        )
    )


def merge_activity(old: DataFrame | None, tonight: DataFrame) -> DataFrame:
    """Activity summed per (node, store, masked phone, city, file)."""
    both = tonight if old is None else old.unionByName(tonight)
    keys = ["node", "id_type", "store_code", "masked_phone", "city", "source_file"]
    return both.groupBy(*keys).agg(
        F.sum("visits").alias("visits"),
        F.sum("hour_sum").alias("hour_sum"),
        F.sum("hour_n").alias("hour_n"),
    )


def phone_tails(nodes: DataFrame) -> DataFrame:
    """The masked form of each phone node (`138****5678` as prefix3 + last4)."""
    return nodes.where(F.col("id_type") == c.PHONE).select(
        "node",
        F.substring("masked_value", 1, 3).alias("prefix3"),
        F.substring("masked_value", 8, 4).alias("last4"),
    )


@dataclass(frozen=True)
class GraphState:
    """What earlier nights left (all None on the first night or a full rebuild).

    `previous`: last night's identity_map plus `node`; `edges`: deterministic pairs
    (EDGE_COLUMNS); `links`: the accepted weak links (EDGE_COLUMNS, `a` the platform
    node, `b` the phone node of its person); `shared`: node, id_type, id_hash, reason,
    evidence; `activity`: node, id_type, store_code, masked_phone, city, source_file,
    visits, hour_sum, hour_n (without the rows of the file copies read tonight, which
    replace them); `phones`: node, prefix3, last4.
    """

    previous: DataFrame | None = None
    edges: DataFrame | None = None
    links: DataFrame | None = None
    shared: DataFrame | None = None
    activity: DataFrame | None = None
    phones: DataFrame | None = None


@dataclass(frozen=True)
class NightResult:
    """The affected people re-resolved, and what the state tables gain or lose.

    `clusters`: node, id_type, id_hash, component, link_kind, first_seen, last_seen,
    for every affected identifier (no clear value: phones carry only their masked
    form, and not here). `previous`: the previous map's rows of the affected people
    (for stable ids); `replaced_ids`: their old one_ids (their rows in the outputs are
    replaced). `seen_again`: node, one_id, seen (tonight's last date) of the people
    only seen again, whose rows stay but whose `last_seen` moves on. `shared`:
    identifiers the guards took out tonight. `new_edges`: deterministic pairs to add.
    `links`: tonight's weak links (EDGE_COLUMNS) that survived the size cap;
    `relinked`: (node) every platform id whose link was decided again tonight (its
    earlier link, if any, is replaced by `links`). `activity` (tonight's rows) and
    `new_phones`: state to add. `rescored`: how many platform ids were scored.
    """

    clusters: DataFrame
    previous: DataFrame | None
    replaced_ids: DataFrame | None
    seen_again: DataFrame | None
    shared: DataFrame
    new_edges: DataFrame
    links: DataFrame
    relinked: DataFrame
    activity: DataFrame
    new_phones: DataFrame
    splits: list[tuple[int, list[int], str]]
    rounds: int
    probabilistic_links: int
    rescored: int = 0


EDGE_COLUMNS = ("a", "b", "a_type", "b_type", "kind", "first_seen")
LAST4 = r"(\d{4})$"
PREFIX3 = r"^(1\d{2})\*"


@dataclass(frozen=True)
class _Evidence:
    """Tonight's additions to the graph and the accumulated evidence they give."""

    tonight: DataFrame  # observed_nodes(hashed)
    fresh: DataFrame  # new deterministic pairs
    fresh_nodes: DataFrame  # (node) their ends
    edges: DataFrame  # every deterministic pair
    new_shared: DataFrame
    shared_nodes: DataFrame  # (node) every shared identifier
    activity_tonight: DataFrame
    activity: DataFrame
    new_phones: DataFrame
    phones: DataFrame  # every phone's masked form, shared phones left out


@dataclass(frozen=True)
class _Plan:
    """Who is re-resolved tonight: `nodes` and what the previous map said of them."""

    nodes: DataFrame  # node, id_type, id_hash, first_seen, last_seen
    previous: DataFrame | None
    replaced_ids: DataFrame | None
    seen_again: DataFrame | None


def resolve_night(
    hashed: DataFrame,
    state: GraphState,
    config: c.IdentityConfig,
    *,
    weak_linker: WeakLinker | None = None,
    checkpoint: Checkpointer | None = None,
    ties: DataFrame | None = None,
) -> NightResult:
    """Cluster tonight's identifiers and the people they touch into people.

    Stages: evidence (tonight's pairs, guards, activity) -> plan the affected people
    -> deterministic components -> weak links (every platform id alone whose evidence
    or candidate phones changed tonight is scored again) -> labels -> size cap ->
    state delta. The result depends on the accumulated evidence only, not on the
    nights it came in (tests/transforms/identity/test_identity_order.py).

    `ties`: extra observations that only add deterministic pairs (no activity, no
    first/last seen), e.g. earlier POS tickets paid with a voucher whose Douyin order
    arrives tonight.
    """
    cut = checkpoint or Checkpointer()
    hashed = cut(hashed)
    evidence = _evidence(hashed, state, config, cut, ties)
    plan = _plan_affected(hashed, evidence, state, cut)
    assigned, rounds = _components(plan.nodes, evidence.edges, cut)
    links = None
    relinked = assigned.limit(0).select("node")
    if weak_linker is not None:
        assigned, plan, links, relinked = _link_weak_ids(
            assigned, state, plan, evidence, weak_linker, cut
        )
    n_links = links.count() if links is not None else 0
    clusters = _label(assigned, links, cut)
    inside = clusters.select("node")
    det = (
        evidence.edges.select(F.col("a").alias("src"), F.col("b").alias("dst"))
        .join(inside.withColumnRenamed("node", "src"), "src", "left_semi")
        .join(inside.withColumnRenamed("node", "dst"), "dst", "left_semi")
    )
    clusters, splits, extra_shared, extra_rounds = _cap_cluster_size(clusters, det, config, cut)
    new_shared = evidence.new_shared
    if extra_shared is not None:
        new_shared = new_shared.unionByName(extra_shared)

    # State changes: tonight's pairs, and the links that survived the size cap.
    still_linked = clusters.where(
        (F.col("link_kind") == c.PROBABILISTIC) & F.col("id_type").isin(*c.PLATFORM_ID_TYPES)
    ).select("node")
    if links is not None:
        kept_links = _link_edges(links.join(still_linked, "node", "left_semi"), clusters)
    else:
        kept_links = _link_edges(None, clusters)
    # A link the size cap undid is decided again (dropped) like a re-scored one.
    undone = (
        assigned.where(F.col("prior_kind") == c.PROBABILISTIC)
        .where(F.col("id_type").isin(*c.PLATFORM_ID_TYPES))
        .select("node")
        .join(still_linked, "node", "left_anti")
    )
    relinked = cut(relinked.unionByName(undone).distinct())
    return NightResult(
        clusters=clusters,
        previous=plan.previous,
        replaced_ids=plan.replaced_ids,
        seen_again=plan.seen_again,
        shared=new_shared,
        new_edges=evidence.fresh,
        links=cut(kept_links),
        relinked=relinked,
        activity=evidence.activity_tonight,
        new_phones=evidence.new_phones,
        splits=splits,
        rounds=rounds + extra_rounds,
        probabilistic_links=n_links,
        rescored=relinked.count(),
    )


def _evidence(
    hashed: DataFrame,
    state: GraphState,
    config: c.IdentityConfig,
    cut: Callable[[DataFrame], DataFrame],
    ties: DataFrame | None,
) -> _Evidence:
    """Tonight's pairs, guards, activity and phones, and their totals with the state."""
    tonight = cut(observed_nodes(hashed))
    pairs = record_pairs(hashed if ties is None else hashed.unionByName(ties))
    if state.edges is not None:
        pairs = pairs.join(state.edges.select("a", "b"), ["a", "b"], "left_anti")
    fresh = cut(pairs.select(*EDGE_COLUMNS))
    edges = fresh if state.edges is None else state.edges.select(*EDGE_COLUMNS).unionByName(fresh)
    fresh_nodes = cut(
        fresh.select(F.col("a").alias("node"))
        .unionByName(fresh.select(F.col("b").alias("node")))
        .distinct()
    )
    gained = tonight.join(fresh_nodes, "node", "left_semi")
    if ties is not None:  # a tie's identifiers may not be among tonight's own
        tied = observed_nodes(ties).join(fresh_nodes, "node", "left_semi")
        gained = gained.unionByName(tied.join(gained.select("node"), "node", "left_anti"))
    shared_tonight = shared_identifiers(hashed, gained, edges, config)
    if state.shared is not None:
        shared_tonight = shared_tonight.join(state.shared.select("node"), "node", "left_anti")
    new_shared = cut(shared_tonight)
    shared_nodes = new_shared.select("node")
    if state.shared is not None:
        shared_nodes = state.shared.select("node").unionByName(shared_nodes)
    activity_tonight = cut(night_activity(hashed))
    activity = (
        activity_tonight if state.activity is None else state.activity.unionByName(activity_tonight)
    )
    new_phones = phone_tails(tonight)
    if state.phones is not None:
        new_phones = new_phones.join(state.phones.select("node"), "node", "left_anti")
    new_phones = cut(new_phones)
    phones = new_phones if state.phones is None else state.phones.unionByName(new_phones)
    return _Evidence(
        tonight=tonight,
        fresh=fresh,
        fresh_nodes=fresh_nodes,
        edges=edges,
        new_shared=new_shared,
        shared_nodes=shared_nodes,
        activity_tonight=activity_tonight,
        activity=activity,
        new_phones=new_phones,
        phones=phones.join(shared_nodes, "node", "left_anti"),
    )


def _platform_tails(activity: DataFrame) -> DataFrame:
    """(node, last4, prefix3) of every platform id's masked phones (prefix3 null for a
    tail-only mask), the blocking keys of the weak model."""
    masked = activity.where(
        F.col("id_type").isin(*c.PLATFORM_ID_TYPES) & F.col("masked_phone").isNotNull()
    )
    last4 = F.regexp_extract("masked_phone", LAST4, 1)
    prefix = F.regexp_extract("masked_phone", PREFIX3, 1)
    return (
        masked.select(
            "node",
            F.when(last4 != "", last4).alias("last4"),
            F.when(prefix != "", prefix).alias("prefix3"),
        )
        .where(F.col("last4").isNotNull())
        .distinct()
    )


def _plan_affected(
    hashed: DataFrame, ev: _Evidence, state: GraphState, cut: Callable[[DataFrame], DataFrame]
) -> _Plan:
    """The people re-resolved tonight (everyone on the first night or a full rebuild).

    A person is affected if one of their identifiers gained a partner, became shared,
    is on a CRM record tonight (the profile may change), or is a platform id no record
    ties to anyone (its link is a function of its evidence, which grew tonight) -- or if
    they hold a platform id alone whose *candidates* changed tonight: a phone with the
    same masked form (same last four, same prefix where shown) seen tonight, new, or
    in a person re-resolved tonight. Their identifiers plus tonight's new ones are the
    subgraph. People only seen again keep their rows; `last_seen` moves on.
    """
    tonight = ev.tonight
    previous = state.previous
    if previous is None or state.edges is None:
        nodes = cut(
            tonight.select("node", "id_type", "id_hash", "first_seen", "last_seen").join(
                ev.shared_nodes, "node", "left_anti"
            )
        )
        return _Plan(nodes=nodes, previous=previous, replaced_ids=None, seen_again=None)

    hits = cut(
        previous.join(tonight.select("node", F.col("last_seen").alias("seen")), "node").select(
            "node", "id_type", "one_id", "link_kind", "seen"
        )
    )
    new_nodes = tonight.select("node").join(hits.select("node"), "node", "left_anti")
    alone = F.col("id_type").isin(*c.PLATFORM_ID_TYPES) & (F.col("link_kind") != c.DETERMINISTIC)
    crm = hashed.where(F.col("source") == "mp_members").select("node")
    changed = (
        ev.fresh_nodes.unionByName(ev.new_shared.select("node"))
        .unionByName(crm)
        .unionByName(hits.where(alone).select("node"))
    )
    # (over the whole map: a tie may reach identifiers not seen tonight)
    replaced = cut(previous.join(changed, "node", "left_semi").select("one_id").distinct())

    # Phones whose person or evidence changed tonight, and the platform ids alone that
    # could pair with one of them: they are scored again (their person re-resolved).
    changed_phones = (
        tonight.where(F.col("id_type") == c.PHONE)
        .select("node")
        .unionByName(
            previous.join(replaced, "one_id", "left_semi")
            .where(F.col("id_type") == c.PHONE)
            .select("node")
        )
    )
    blocks = ev.phones.join(changed_phones, "node", "left_semi").select("last4", "prefix3")
    blocks = blocks.distinct()
    platform = previous.where(alone).select("node", "one_id")
    tails = _platform_tails(ev.activity).join(platform.select("node"), "node", "left_semi")
    matched = tails.join(blocks.withColumnRenamed("prefix3", "phone_prefix3"), "last4").where(
        F.col("prefix3").isNull() | (F.col("prefix3") == F.col("phone_prefix3"))
    )
    rescore = platform.join(matched.select("node"), "node", "left_semi").select("one_id")
    replaced = cut(replaced.unionByName(rescore).distinct())

    seen_again = cut(hits.join(replaced, "one_id", "left_anti").select("node", "one_id", "seen"))
    previous = cut(previous.join(replaced, "one_id", "left_semi"))
    known = _known_nodes(previous)
    relevant = previous.select("node").unionByName(new_nodes)
    nodes = (
        tonight.join(relevant, "node", "left_semi")
        .select("node", "id_type", "id_hash", "first_seen", "last_seen")
        .unionByName(known)
        .groupBy("node", "id_type", "id_hash")
        .agg(F.min("first_seen").alias("first_seen"), F.max("last_seen").alias("last_seen"))
    )
    nodes = cut(nodes.join(ev.shared_nodes, "node", "left_anti"))
    return _Plan(nodes=nodes, previous=previous, replaced_ids=replaced, seen_again=seen_again)


def _components(
    nodes: DataFrame, edges: DataFrame, cut: Callable[[DataFrame], DataFrame]
) -> tuple[DataFrame, int]:
    """The deterministic components of `nodes`: + component, det_size, prior_kind (null:
    decided tonight)."""
    sub_edges = edges.join(nodes.select(F.col("node").alias("a")), "a", "left_semi").join(
        nodes.select(F.col("node").alias("b")), "b", "left_semi"
    )
    graph = sub_edges.select(F.col("a").alias("src"), F.col("b").alias("dst"))
    result = connected_components(graph, nodes.select("node"), checkpoint=cut)
    assigned = nodes.join(result.components, "node")
    sizes = assigned.groupBy("component").agg(F.count("*").alias("det_size"))
    assigned = assigned.join(sizes, "component").withColumn(
        "prior_kind", F.lit(None).cast("string")
    )
    return cut(assigned), result.rounds


def _label(
    assigned: DataFrame, links: DataFrame | None, cut: Callable[[DataFrame], DataFrame]
) -> DataFrame:
    """Each identifier's person and how it joined it (identity_map.link_kind).

    `deterministic`: a record ties it to another identifier of its person;
    `probabilistic`: no record does, and a weak link attaches it (the platform id, or
    the phone it was linked to); `singleton`: alone. People pulled in by a link keep
    the labels the map gave them (`prior_kind`), their phones gaining the link.
    """
    frame = assigned
    if links is not None:
        attach = links.join(
            assigned.select(F.col("node").alias("target"), F.col("component").alias("linked_to")),
            "target",
        ).select("node", "linked_to")
        targets = links.select(F.col("target").alias("node"), F.lit(True).alias("is_target"))
        frame = frame.join(attach, "node", "left").join(targets.distinct(), "node", "left")
    else:
        frame = frame.withColumn("linked_to", F.lit(None).cast("long")).withColumn(
            "is_target", F.lit(None).cast("boolean")
        )
    decided = F.col("prior_kind").isNull()
    kind = (
        F.when(decided & (F.col("det_size") > 1), F.lit(c.DETERMINISTIC))
        .when(~decided & (F.col("prior_kind") == c.DETERMINISTIC), F.lit(c.DETERMINISTIC))
        .when(F.col("linked_to").isNotNull() | F.col("is_target").isNotNull(), c.PROBABILISTIC)
        .when(~decided, F.col("prior_kind"))
        .otherwise(F.lit(c.SINGLETON))
    )
    return cut(
        frame.select(
            "node",
            "id_type",
            "id_hash",
            F.coalesce("linked_to", "component").alias("component"),
            kind.alias("link_kind"),
            "first_seen",
            "last_seen",
        )
    )


def _known_nodes(map_rows: DataFrame, *extra: str) -> DataFrame:
    """Identity-map rows as graph nodes (pseudonyms and dates only)."""
    return map_rows.select("node", "id_type", "id_hash", "first_seen", "last_seen", *extra)


def _link_edges(links: DataFrame | None, clusters: DataFrame) -> DataFrame:
    """Weak links as edges: a = the platform node, b = the person's phone."""
    if links is None:
        return clusters.sparkSession.createDataFrame(
            [], "a long, b long, a_type string, b_type string, kind string, first_seen date"
        )
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
            F.col("last_seen").alias("first_seen"),  # the platform id's last order
        )
    )


def _link_weak_ids(
    assigned: DataFrame,
    state: GraphState,
    plan: _Plan,
    ev: _Evidence,
    weak_linker: WeakLinker,
    cut: Callable[[DataFrame], DataFrame],
) -> tuple[DataFrame, _Plan, DataFrame | None, DataFrame]:
    """Score every affected platform id that no record ties to anyone.

    Returns the assigned nodes (plus the people links reach outside the affected set:
    their identifiers keep their component, the smallest node, their one_id and their
    labels), the plan updated likewise, the links (node, target) and the platform ids
    scored (their earlier links are replaced).
    """
    candidates = cut(
        assigned.where(
            (F.col("det_size") == 1) & F.col("id_type").isin(*c.PLATFORM_ID_TYPES)
        ).select("node")
    )
    incremental = plan.replaced_ids is not None

    def person_of(nodes: DataFrame) -> DataFrame:
        """(node, person) for `nodes`: tonight's clusters, else their unchanged one_id."""
        mine = assigned.join(nodes, "node", "left_semi").select(
            "node", F.concat(F.lit("c"), F.col("component").cast("string")).alias("person")
        )
        if not incremental:
            return mine
        theirs = (
            state.previous.join(nodes, "node", "left_semi")
            .join(plan.replaced_ids, "one_id", "left_anti")
            .select("node", F.col("one_id").alias("person"))
        )
        return mine.unionByName(theirs)

    links = weak_linker(candidates, ev.activity, person_of, ev.phones)
    if links is None:
        return assigned, plan, None, candidates
    links = cut(links)
    outside = links.join(assigned.select(F.col("node").alias("target")), "target", "left_anti")
    if not incremental or outside.limit(1).count() == 0:
        return assigned, plan, links, candidates
    pulled_ids = (
        state.previous.join(outside.select(F.col("target").alias("node")), "node", "left_semi")
        .select("one_id")
        .distinct()
    )
    pulled = state.previous.join(pulled_ids, "one_id", "left_semi")
    components = pulled.groupBy("one_id").agg(F.min("node").alias("component"))
    extra = _known_nodes(pulled.join(components, "one_id"), "component").select(
        *[col for col in assigned.columns if col not in {"det_size", "prior_kind"}],
    )
    extra = extra.join(
        pulled.select("node", F.col("link_kind").alias("prior_kind")), "node"
    ).withColumn("det_size", F.lit(None).cast("long"))
    assigned = cut(assigned.unionByName(extra.select(*assigned.columns)))
    plan = _Plan(
        nodes=plan.nodes,
        previous=cut(plan.previous.unionByName(pulled.select(*plan.previous.columns))),
        replaced_ids=cut(plan.replaced_ids.unionByName(pulled_ids)),
        seen_again=plan.seen_again,
    )
    return assigned, plan, links, candidates


def _cap_cluster_size(
    clusters: DataFrame,
    edges: DataFrame,
    config: c.IdentityConfig,
    cut: Callable[[DataFrame], DataFrame],
) -> tuple[DataFrame, list[tuple[int, list[int], str]], DataFrame | None, int]:
    """Split clusters above the cap: weak links go first, then the busiest identifiers."""
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
    weak = in_big.where(
        (F.col("link_kind") == c.PROBABILISTIC) & F.col("id_type").isin(*c.PLATFORM_ID_TYPES)
    )
    if weak.limit(1).count() > 0:
        detached = weak.withColumn("component", F.col("node")).withColumn(
            "link_kind", F.lit(c.SINGLETON)
        )
        clusters = clusters.join(weak.select("node"), "node", "left_anti").unionByName(detached)
        # A phone that only a weak link tied to its person is alone again.
        sizes = clusters.groupBy("component").agg(F.count("*").alias("size"))
        clusters = cut(
            clusters.join(sizes, "component")
            .withColumn(
                "link_kind",
                F.when(F.col("size") == 1, F.lit(c.SINGLETON)).otherwise(F.col("link_kind")),
            )
            .select(*clusters.columns)
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
