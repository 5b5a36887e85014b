"""The nightly OneID run: bronze in, the silver identity tables out.

This is the I/O edge around the pure functions of the package. A night reads only the
landing files identity has not processed yet (the file ledger's `landed` copies minus
`silver/identity_files`), adds their records to the identifier graph kept in silver
(`identity_edges`, `identity_shared`, `identity_activity`, `identity_phones`) and
re-resolves the people they touch; everyone else keeps their rows. The first night,
or `full=True`, rebuilds the graph from every bronze row and still keeps the one_ids
of the previous map. A night with no new file changes nothing, so re-running is safe.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bakehouse.lake import Lake
from bakehouse.pii import load_key
from transforms.identity.config import IdentityConfig
from transforms.identity.graph import Checkpointer
from transforms.identity.identifiers import all_observations
from transforms.identity.linkage import make_weak_linker
from transforms.identity.profiles import members_profile, pii_vault, primary_members
from transforms.identity.resolution import (
    EDGE_COLUMNS,
    GraphState,
    NightResult,
    hash_observations,
    merge_activity,
    node_id,
    resolve_night,
)
from transforms.identity.stable_ids import (
    AUDIT_SCHEMA,
    assign_one_ids,
    guard_events,
    identity_map,
    lineage_events,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SILVER = "silver"
IDENTITY_MAP = "identity_map"
MEMBERS = "members"
PII_VAULT = "pii_vault"
IDENTITY_AUDIT = "identity_audit"
# The graph kept between nights (pseudonymous or masked values only).
EDGES = "identity_edges"
SHARED = "identity_shared"
ACTIVITY = "identity_activity"
PHONES = "identity_phones"
FILES = "identity_files"
STATE_TABLES = (EDGES, SHARED, ACTIVITY, PHONES, FILES)
COMPACT_EVERY = 7  # nights of appended activity between two summed rewrites
LEDGER = ("bronze", "file_ledger")
BRONZE_TABLES = (
    "mp_members",
    "mp_orders",
    "pos_sales",
    "wecom_contacts",
    "douyin_orders",
    "douyin_verifications",
    "meituan_orders",
    "eleme_orders",
    "erp_stores",
)
MASTERS = ("erp_stores",)


@dataclass
class IdentityRunSummary:
    """What a night's run did; becomes the Dagster asset metadata."""

    night: date
    mode: str = "full"  # full | incremental | noop
    files: int = 0
    affected_identifiers: int = 0
    identifiers: int = 0
    clusters: int = 0
    members: int = 0
    vault_rows: int = 0
    erased: int = 0
    shared_identifiers: int = 0
    size_cap_splits: int = 0
    merges: int = 0
    splits: int = 0
    probabilistic_links: int = 0
    rounds: int = 0
    events: dict[str, int] = field(default_factory=dict)


def read_bronze(lake: Lake) -> dict[str, DataFrame]:
    """The bronze tables identity reads, those that exist."""
    return {
        name: lake.read("bronze", name) for name in BRONZE_TABLES if lake.exists("bronze", name)
    }


def _copy_key(source_file, file_sha256):
    from pyspark.sql import functions as F

    return F.concat_ws("|", source_file, F.coalesce(file_sha256, F.lit("")))


def _landed_copies(lake: Lake, bronze: dict[str, DataFrame]) -> DataFrame:
    """(source_file, file_sha256, business_date) of every current copy of a file."""
    from pyspark.sql import functions as F

    if lake.exists(*LEDGER):
        ledger = lake.read(*LEDGER).where(F.lower("status") == "landed")
        return ledger.select("source_file", "file_sha256", "business_date").distinct()
    frames = [
        frame.select("source_file", "file_sha256", "business_date")
        for name, frame in bronze.items()
        if name not in MASTERS
    ]
    copies = frames[0]
    for frame in frames[1:]:
        copies = copies.unionByName(frame)
    return copies.distinct()


def _pending(lake: Lake, bronze: dict[str, DataFrame], full: bool) -> list[tuple]:
    """The copies not processed yet (all of them for a full rebuild)."""
    from pyspark.sql import functions as F

    if not lake.exists(*LEDGER) and all(name in MASTERS for name in bronze):
        return []  # a fresh lake whose first night had no files: nothing to resolve
    copies = _landed_copies(lake, bronze).withColumn(
        "copy", _copy_key(F.col("source_file"), F.col("file_sha256"))
    )
    if not full and lake.exists(SILVER, FILES):
        done = lake.read(SILVER, FILES).select(
            _copy_key(F.col("source_file"), F.col("file_sha256")).alias("copy")
        )
        copies = copies.join(done, "copy", "left_anti")
    return [
        tuple(row) for row in copies.select("source_file", "file_sha256", "business_date").collect()
    ]


def _restrict(
    bronze: dict[str, DataFrame], pending: list[tuple], lake: Lake
) -> dict[str, DataFrame]:
    """Each bronze table cut to the pending copies' rows (masters whole)."""
    from pyspark.sql import functions as F

    spark = lake._spark()
    keys = spark.createDataFrame(
        [(f"{name}|{sha or ''}",) for name, sha, _ in pending], "copy string"
    )
    dates = sorted({day for _, _, day in pending if day is not None})
    restricted = {}
    for name, frame in bronze.items():
        if name in MASTERS:
            restricted[name] = frame
            continue
        if dates:  # lets the engine prune date partitions before matching files
            frame = frame.where(
                F.col("business_date").isin(dates) | F.col("business_date").isNull()
            )
        frame = frame.withColumn("copy", _copy_key(F.col("source_file"), F.col("file_sha256")))
        restricted[name] = frame.join(F.broadcast(keys), "copy", "left_semi").drop("copy")
    return restricted


def _state(lake: Lake, previous: DataFrame | None, full: bool) -> GraphState:
    from pyspark.sql import functions as F

    if previous is not None and "node" not in previous.columns:  # a map from before `node`
        previous = previous.withColumn("node", node_id(F.col("id_type"), F.col("id_hash")))
    if full or not all(lake.exists(SILVER, t) for t in STATE_TABLES):
        return GraphState(previous=previous)
    return GraphState(
        previous=previous,
        edges=lake.read(SILVER, EDGES),
        shared=lake.read(SILVER, SHARED),
        activity=lake.read(SILVER, ACTIVITY),
        phones=lake.read(SILVER, PHONES),
    )


def run_identity(
    lake: Lake,
    *,
    night: date | None = None,
    config: IdentityConfig | None = None,
    key: bytes | None = None,
    use_weak_links: bool = True,
    full: bool = False,
    previous_map: DataFrame | None = None,
) -> IdentityRunSummary:
    """Resolve the identities in the landing files not processed yet (all, if `full`).

    `previous_map` (with `full`): the map whose one_ids the rebuild keeps, instead of
    the last earlier night's; `bakehouse.rekey` passes it re-expressed under a new key.
    """
    from pyspark.sql import functions as F

    config = config or IdentityConfig()
    key = key or load_key(lake.settings.pii_key_file)
    bronze = read_bronze(lake)
    full = full or not all(lake.exists(SILVER, t) for t in (*STATE_TABLES, IDENTITY_MAP))
    pending = _pending(lake, bronze, full)
    # The night defaults to the latest business date among the files read.
    night = night or max((day for _, _, day in pending if day is not None), default=date.today())
    summary = IdentityRunSummary(night=night, mode="full" if full else "incremental")
    summary.files = len(pending)
    if not pending:  # nothing new: the tables stand as they are
        summary.mode = "noop"
        if lake.exists(SILVER, IDENTITY_MAP):
            summary.identifiers = lake.row_count(SILVER, IDENTITY_MAP)
            summary.clusters = lake.row_count(SILVER, MEMBERS)
        return summary
    scratch = Path(tempfile.mkdtemp(prefix="identity-", dir=_scratch_root(lake)))
    cut = Checkpointer(scratch)
    try:
        # A full rebuild compares with the map of an earlier night (a re-run of the
        # night must find its own merges again); a night adds to the current map.
        # Only a full rebuild reads all of it; a night semi-joins it to tonight's ids.
        previous = _previous_map(lake, night) if full else lake.read(SILVER, IDENTITY_MAP)
        if full and previous_map is not None:
            previous = previous_map
        if previous is not None and full:
            previous = cut(previous)
        state = _state(lake, previous, full)
        whole = full and not lake.exists(*LEDGER)  # no ledger: every bronze row counts
        night_bronze = bronze if whole else _restrict(bronze, pending, lake)
        observations = all_observations(night_bronze, douyin_orders=bronze.get("douyin_orders"))
        hashed = hash_observations(observations, key)
        linker = make_weak_linker(bronze.get("erp_stores"), config) if use_weak_links else None
        result = resolve_night(hashed, state, config, weak_linker=linker, checkpoint=cut)
        summary.rounds = result.rounds
        summary.probabilistic_links = result.probabilistic_links

        assigned = cut(assign_one_ids(result.clusters, result.previous, night))
        summary.affected_identifiers = assigned.count()
        new_rows = identity_map(assigned, result.previous, night)
        primary = primary_members(assigned, bronze.get("mp_members"), key)
        primary = cut(primary) if primary is not None else None
        members = members_profile(assigned, primary, night)
        vault = pii_vault(primary, night)
        # Each part goes through the checkpoint first: Sail refuses to union list
        # columns whose element fields are named differently (literal vs Parquet).
        audit = cut(lineage_events(assigned, night))
        audit = audit.unionByName(cut(guard_events(result.shared, night)))
        audit = cut(audit.unionByName(cut(_size_cap_events(assigned, result.splits, night))))

        # People not re-resolved tonight keep their rows (a Delta overwrite may read the
        # table it replaces: the scan is pinned to the snapshot it started from).
        replaced = None if full else result.replaced_ids
        kept_map, kept_members = state.previous, _table(lake, MEMBERS)
        if not full and result.seen_again is not None:
            kept_map, kept_members = _seen_again(kept_map, kept_members, result.seen_again)
        lake.write(_keep_others(kept_map, replaced, new_rows), SILVER, IDENTITY_MAP)
        lake.write(_keep_others(kept_members, replaced, members), SILVER, MEMBERS)
        if vault is not None:
            lake.write(_keep_others(_table(lake, PII_VAULT), replaced, vault), SILVER, PII_VAULT)
            summary.vault_rows = lake.row_count(SILVER, PII_VAULT)
            erased = lake.read(SILVER, PII_VAULT).where(F.col("is_erased"))
            summary.erased = erased.where(F.col("night") == F.lit(night)).count()
            if summary.erased:
                # Older table versions still hold the erased values: drop them now.
                lake.vacuum(SILVER, PII_VAULT, retention_hours=0)
        # The audit is small; delta-rs writes it (Sail's replaceWhere trips over list
        # columns read back from Delta). A full rebuild replaces the night's rows.
        lake.write_arrow(
            audit.toArrow(),
            SILVER,
            IDENTITY_AUDIT,
            mode="overwrite" if full else "append",
            predicate=f"night = '{night.isoformat()}'" if full else None,
        )
        _write_state(lake, result, pending, night, full, cut)

        summary.identifiers = lake.row_count(SILVER, IDENTITY_MAP)
        summary.clusters = lake.row_count(SILVER, MEMBERS)
        summary.members = lake.read(SILVER, MEMBERS).where(F.col("is_member")).count()
        events = {row.event: row["count"] for row in audit.groupBy("event").count().collect()}
        summary.events = events
        summary.merges = events.get("merge", 0)
        summary.splits = events.get("split", 0)
        summary.size_cap_splits = events.get("size_cap_split", 0)
        summary.shared_identifiers = sum(
            n
            for event, n in events.items()
            if event in {"shared_by_partners", "busy_per_day", "cluster_size_cap"}
        )
        return summary
    finally:
        cut.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def _table(lake: Lake, table: str) -> DataFrame | None:
    return lake.read(SILVER, table) if lake.exists(SILVER, table) else None


def _seen_again(
    identity_map: DataFrame, members: DataFrame | None, seen: DataFrame
) -> tuple[DataFrame, DataFrame | None]:
    """`last_seen` moved on for the identifiers (and people) only seen again tonight."""
    from pyspark.sql import functions as F

    columns = identity_map.columns
    identity_map = (
        identity_map.join(seen.select("node", "seen"), "node", "left")
        .withColumn("last_seen", F.greatest("last_seen", "seen"))
        .select(*columns)
    )
    if members is not None:
        latest = seen.groupBy("one_id").agg(F.max("seen").alias("seen"))
        member_columns = members.columns
        members = (
            members.join(latest, "one_id", "left")
            .withColumn("last_seen", F.greatest("last_seen", "seen"))
            .select(*member_columns)
        )
    return identity_map, members


def _keep_others(
    current: DataFrame | None, replaced: DataFrame | None, new_rows: DataFrame
) -> DataFrame:
    """`current`'s rows of people not re-resolved tonight, plus tonight's rows."""
    if replaced is None or current is None:
        return new_rows
    kept = current.join(replaced, "one_id", "left_anti")
    return kept.unionByName(new_rows).select(*new_rows.columns)


def _write_state(
    lake: Lake,
    result: NightResult,
    pending: list[tuple],
    night: date,
    full: bool,
    cut: Checkpointer,
) -> None:
    """The graph's state after tonight, then the files it now accounts for."""
    from pyspark.sql import functions as F

    spark = lake._spark()
    mode = "overwrite" if full else "append"
    lake.write(result.new_edges.select(*EDGE_COLUMNS), SILVER, EDGES, mode=mode)
    if not full and result.dropped_links is not None:
        dropped = result.dropped_links.select(F.col("node").alias("a"))
        if dropped.limit(1).count():
            undone = dropped.withColumn("kind", F.lit("probabilistic"))
            kept = lake.read(SILVER, EDGES).join(undone, ["a", "kind"], "left_anti")
            lake.write(cut(kept), SILVER, EDGES)
    shared = result.shared.withColumn("night", F.lit(night))
    lake.write(shared, SILVER, SHARED, mode=mode)
    # Activity is appended nightly and summed when read; every COMPACT_EVERY-th
    # version it is rewritten summed, so reads stay about the size of the evidence.
    if full or (lake.version(SILVER, ACTIVITY) + 1) % COMPACT_EVERY == 0:
        current = (
            result.activity if full else lake.read(SILVER, ACTIVITY).unionByName(result.activity)
        )
        lake.write(cut(merge_activity(None, current)), SILVER, ACTIVITY)
    else:
        lake.write(result.activity, SILVER, ACTIVITY, mode="append")
    lake.write(result.new_phones, SILVER, PHONES, mode=mode)
    processed_at = datetime.now(UTC)
    files = spark.createDataFrame(
        [(name, sha, night, processed_at) for name, sha, _ in pending],
        "source_file string, file_sha256 string, night date, processed_at timestamp",
    )
    lake.write(files, SILVER, FILES, mode=mode)


def _previous_map(lake: Lake, night: date, max_lookback: int = 20) -> DataFrame | None:
    """The identity_map as written by the last run for an earlier night.

    Re-running a night must compare with the night before, not with its own first
    run, or its merges and splits would vanish from the audit: walk back the Delta
    versions until the map's `night` is earlier.
    """
    from pyspark.sql import functions as F

    if not lake.exists(SILVER, IDENTITY_MAP):
        return None
    version = lake.version(SILVER, IDENTITY_MAP)
    for candidate in range(version, max(-1, version - max_lookback), -1):
        try:
            frame = lake.read(SILVER, IDENTITY_MAP, version=candidate)
        except Exception:  # vacuumed away
            return None
        written = frame.agg(F.max("night")).collect()[0][0]
        if written is None or written < night:
            return frame
    return None


def _scratch_root(lake: Lake) -> Path:
    root = lake.settings.home / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _size_cap_events(
    assigned: DataFrame, splits: list[tuple[int, list[int], str]], night: date
) -> DataFrame:
    """Audit rows for clusters split by the size cap, with the resulting one_ids."""
    from pyspark.sql import functions as F

    spark = assigned.sparkSession
    schema = AUDIT_SCHEMA
    if not splits:
        return spark.createDataFrame([], schema)
    rows = [(before, component, reason) for before, after, reason in splits for component in after]
    frame = spark.createDataFrame(rows, "before long, component long, reason string")
    ids = assigned.select("component", "one_id").distinct()
    return (
        frame.join(ids, "component", "left")
        .groupBy("before", "reason")
        .agg(F.sort_array(F.collect_set("one_id")).alias("new_ids"))
        .select(
            F.lit(night).alias("night"),
            F.lit("size_cap_split").alias("event"),
            F.array().cast("array<string>").alias("old_ids"),
            "new_ids",
            F.lit(None).cast("string").alias("id_type"),
            F.lit(None).cast("string").alias("id_hash"),
            F.concat(F.col("reason"), F.lit(" cluster="), F.col("before").cast("string")).alias(
                "detail"
            ),
        )
    )
