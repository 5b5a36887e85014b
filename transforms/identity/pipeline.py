"""The nightly OneID run: bronze in, the silver identity tables out.

This is the I/O edge around the pure functions of the package. A night reads only the
landing files identity has not processed yet (the file ledger's `landed` copies minus
`silver/identity_files`), adds their records to the identifier graph kept in silver
(`identity_edges`, `identity_shared`, `identity_activity`, `identity_phones`) and
re-resolves the people they touch; everyone else keeps their rows. The first night,
or `full=True`, rebuilds the graph from every bronze row and still keeps the one_ids
of the previous map. A night with no new file changes nothing, so re-running is safe.

Commit protocol: a night commits about ten Delta tables. Before the first, it appends
a `started` row to `silver/identity_nights` holding every table's version; after the
last, a `done` row. A run that finds the last row `started` (the process died in
between) first restores every table to those versions, then does the night again,
so a kill at any point converges to the uninterrupted result: `members` always
covers every one_id of the map, and no evidence is counted twice. Scratch files hold
pseudonyms and masked forms only, live in `scratch/identity-<pid>-*`, and are removed
at the end or, after a crash, by the next run.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bakehouse.lake import Lake
from bakehouse.pii import load_key
from transforms.identity.config import DETERMINISTIC, PROBABILISTIC, IdentityConfig
from transforms.identity.graph import Checkpointer
from transforms.identity.identifiers import all_observations, pos_observations
from transforms.identity.linkage import WeakModel, estimate_model, make_weak_linker
from transforms.identity.profiles import members_profile, pii_vault, primary_members
from transforms.identity.resolution import (
    EDGE_COLUMNS,
    GraphState,
    NightResult,
    hash_observations,
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
LINKS = "identity_links"  # the accepted weak links (platform node -> phone node)
MODEL = "identity_model"  # the weak model's parameter versions
NIGHTS = "identity_nights"  # the commit protocol's manifest
STATE_TABLES = (EDGES, SHARED, ACTIVITY, PHONES, FILES)
# Every table a night may commit, in the order it commits them.
NIGHT_TABLES = (
    MODEL,
    IDENTITY_MAP,
    MEMBERS,
    PII_VAULT,
    IDENTITY_AUDIT,
    EDGES,
    LINKS,
    SHARED,
    ACTIVITY,
    PHONES,
    FILES,
)
NIGHTS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("night", pa.date32()),
        ("mode", pa.string()),
        ("status", pa.string()),  # started | done | rolled_back
        ("versions", pa.string()),  # JSON {table: Delta version before the night, -1: none}
        ("erased", pa.int64()),
        ("at", pa.timestamp("us", tz="UTC")),
    ]
)
MODEL_SCHEMA = pa.schema(
    [
        ("version", pa.int64()),
        ("night", pa.date32()),
        ("phones", pa.int64()),
        ("params", pa.string()),  # JSON: prior and the m/u of every level
        ("estimated_at", pa.timestamp("us", tz="UTC")),
    ]
)
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
    rescored: int = 0
    model_version: int = 0
    recovered: str | None = None  # what the run rolled back first, if anything
    rounds: int = 0
    events: dict[str, int] = field(default_factory=dict)


def read_bronze(lake: Lake) -> dict[str, DataFrame]:
    """The bronze tables identity reads, those that exist."""
    return {
        name: lake.read("bronze", name) for name in BRONZE_TABLES if lake.exists("bronze", name)
    }


def _copy_key(source_file, file_sha256):
    return F.concat_ws("|", source_file, F.coalesce(file_sha256, F.lit("")))


def _landed_copies(lake: Lake, bronze: dict[str, DataFrame]) -> DataFrame:
    """(source_file, file_sha256, business_date) of every current copy of a file."""
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


def _with_dependents(lake: Lake, bronze: dict[str, DataFrame], pending: list[tuple]) -> list[tuple]:
    """`pending` plus the Douyin order files whose vouchers tonight's redemptions name.

    An order's store is where its voucher was redeemed (`douyin_verifications`); when
    the redemption arrives after the order, the order's file is read again, so its
    evidence is what a full rebuild would see (re-reading a file replaces its rows).
    """
    redeemed, orders = bronze.get("douyin_verifications"), bronze.get("douyin_orders")
    if redeemed is None or orders is None:
        return pending
    names = sorted({name for name, _, _ in pending})
    vouchers = (
        redeemed.where(F.col("source_file").isin(*names))
        .select(F.trim("voucher_code").alias("voucher"))
        .where(F.col("voucher").isNotNull() & (F.col("voucher") != ""))
        .distinct()
    )
    copies = (
        orders.join(vouchers, F.trim(orders["voucher_code"]) == vouchers["voucher"], "left_semi")
        .select("source_file", "file_sha256", "business_date")
        .distinct()
        .withColumn("copy", _copy_key(F.col("source_file"), F.col("file_sha256")))
    )
    landed = _landed_copies(lake, bronze).select(
        _copy_key(F.col("source_file"), F.col("file_sha256")).alias("copy")
    )
    copies = copies.join(landed, "copy", "left_semi")
    known = {(name, sha) for name, sha, _ in pending}
    extra = [
        tuple(row)
        for row in copies.select("source_file", "file_sha256", "business_date").collect()
        if (row[0], row[1]) not in known
    ]
    return pending + sorted(extra)


def _restrict(
    bronze: dict[str, DataFrame], pending: list[tuple], lake: Lake
) -> dict[str, DataFrame]:
    """Each bronze table cut to the pending copies' rows (masters whole)."""
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


def _state(lake: Lake, previous: DataFrame | None, full: bool, pending: list[tuple]) -> GraphState:
    """The graph earlier nights left; the activity of tonight's file copies is left out
    (tonight's copy of a file replaces an earlier copy's evidence)."""
    if previous is not None and "node" not in previous.columns:  # a map from before `node`
        previous = previous.withColumn("node", node_id(F.col("id_type"), F.col("id_hash")))
    if full or not all(lake.exists(SILVER, t) for t in STATE_TABLES):
        return GraphState(previous=previous)
    edges = lake.read(SILVER, EDGES)
    if lake.exists(SILVER, LINKS):
        links = lake.read(SILVER, LINKS)
    else:  # a lake from before identity_links kept the links among the edges
        links = edges.where(F.col("kind") == PROBABILISTIC)
    activity = lake.read(SILVER, ACTIVITY)
    if "source_file" not in activity.columns:  # from before per-file evidence
        activity = activity.withColumn("source_file", F.lit(None).cast("string"))
    names = sorted({name for name, _, _ in pending})
    activity = activity.where(~F.col("source_file").isin(*names) | F.col("source_file").isNull())
    return GraphState(
        previous=previous,
        edges=edges.where(F.col("kind") == DETERMINISTIC),
        links=links,
        shared=lake.read(SILVER, SHARED),
        activity=activity,
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
    refit: bool | None = None,
) -> IdentityRunSummary:
    """Resolve the identities in the landing files not processed yet (all, if `full`).

    Stages: recover (roll back a night a crash interrupted) -> plan (pending file
    copies, the weak model's version) -> resolve (`resolve_night`) -> publish (the
    silver tables, between the manifest's `started` and `done` rows) -> summarise.
    `refit`: estimate a new weak-model version (default: on an explicit `full`
    rebuild, or when the lake has none yet); otherwise the current version scores.
    Raises whatever the engine raises; the next run then rolls the night back first.
    """
    config = config or IdentityConfig()
    key = key or load_key(lake.settings.pii_key_file)
    recovered = recover(lake)
    bronze = read_bronze(lake)
    explicit_full = full
    full = full or not all(lake.exists(SILVER, t) for t in (*STATE_TABLES, IDENTITY_MAP))
    pending = _pending(lake, bronze, full)
    if not full and pending:
        pending = _with_dependents(lake, bronze, pending)
    # The night defaults to the latest business date among the files read.
    night = night or max((day for _, _, day in pending if day is not None), default=date.today())
    summary = IdentityRunSummary(night=night, mode="full" if full else "incremental")
    summary.files, summary.recovered = len(pending), recovered
    if not pending:  # nothing new: the tables stand as they are
        summary.mode = "noop"
        if lake.exists(SILVER, IDENTITY_MAP):
            summary.identifiers = lake.row_count(SILVER, IDENTITY_MAP)
            summary.clusters = lake.row_count(SILVER, MEMBERS)
        return summary
    model = load_model(lake)
    if refit if refit is not None else (explicit_full or model is None):
        model = None  # estimated below, from the rebuilt evidence
    scratch = _scratch(lake)
    cut = Checkpointer(scratch)
    run_id = uuid.uuid4().hex
    try:
        _manifest(lake, run_id, night, summary.mode, "started")
        state = _plan(lake, night, full, pending, cut)
        if model is None:
            model = _refit(lake, state, bronze, pending, key, night, full)
        summary.model_version = model.version
        result = _resolve(
            lake, bronze, pending, state, key, config, model, full, use_weak_links, cut
        )
        audit = _publish(lake, result, state, bronze, key, night, full, pending, summary, cut)
        _manifest(lake, run_id, night, summary.mode, "done", erased=summary.erased)
        if summary.erased:
            # Older table versions still hold the erased values: drop them now.
            lake.vacuum(SILVER, PII_VAULT, retention_hours=0)
        _summarise(lake, result, audit, summary)
        return summary
    finally:
        cut.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def _plan(
    lake: Lake, night: date, full: bool, pending: list[tuple], cut: Checkpointer
) -> GraphState:
    """The graph state the night starts from, with the map it compares with.

    A full rebuild compares with the map of an earlier night (a re-run of the night
    must find its own merges again); a night adds to the current map.
    """
    previous = _previous_map(lake, night) if full else lake.read(SILVER, IDENTITY_MAP)
    if previous is not None and full:
        previous = cut(previous)
    return _state(lake, previous, full, pending)


def _resolve(
    lake: Lake,
    bronze: dict[str, DataFrame],
    pending: list[tuple],
    state: GraphState,
    key: bytes,
    config: IdentityConfig,
    model: WeakModel,
    full: bool,
    use_weak_links: bool,
    cut: Checkpointer,
) -> NightResult:
    """Tonight's observations, hashed at once, resolved against the state."""
    whole = full and not lake.exists(*LEDGER)  # no ledger: every bronze row counts
    night_bronze = bronze if whole else _restrict(bronze, pending, lake)
    if "douyin_verifications" in bronze:  # a lookup (where a voucher was redeemed): whole
        night_bronze["douyin_verifications"] = bronze["douyin_verifications"]
    observations = all_observations(night_bronze, douyin_orders=bronze.get("douyin_orders"))
    hashed = hash_observations(observations, key)
    ties = None if full else _voucher_ties(bronze, night_bronze, pending, key)
    linker = make_weak_linker(bronze.get("erp_stores"), config, model) if use_weak_links else None
    return resolve_night(hashed, state, config, weak_linker=linker, checkpoint=cut, ties=ties)


def _voucher_ties(
    bronze: dict[str, DataFrame],
    night_bronze: dict[str, DataFrame],
    pending: list[tuple],
    key: bytes,
) -> DataFrame | None:
    """Earlier POS tickets paid with a voucher whose Douyin order arrives tonight.

    The ticket's own night could not tie the buyer (the order was not there yet); a
    full rebuild would. Only their pairs count: their evidence was counted already.
    """
    orders = night_bronze.get("douyin_orders")
    pos = bronze.get("pos_sales")
    if orders is None or pos is None:
        return None
    vouchers = orders.select(F.trim("voucher_code").alias("voucher")).where(
        F.col("voucher").isNotNull() & (F.col("voucher") != "")
    )
    names = sorted({name for name, _, _ in pending})
    earlier = pos.where(~F.col("source_file").isin(*names)).join(
        vouchers.distinct(), F.trim(pos["voucher_code"]) == vouchers["voucher"], "left_semi"
    )
    tied = pos_observations(earlier, bronze.get("douyin_orders"))
    return hash_observations(tied, key)


def _publish(
    lake: Lake,
    result: NightResult,
    state: GraphState,
    bronze: dict[str, DataFrame],
    key: bytes,
    night: date,
    full: bool,
    pending: list[tuple],
    summary: IdentityRunSummary,
    cut: Checkpointer,
) -> DataFrame:
    """Write the outputs and the state; returns tonight's audit rows."""
    summary.rounds = result.rounds
    summary.probabilistic_links = result.probabilistic_links
    summary.rescored = result.rescored
    assigned = cut(assign_one_ids(result.clusters, result.previous, night))
    summary.affected_identifiers = assigned.count()
    new_rows = identity_map(assigned, result.previous, night)
    # The primary member records hold clear values: never checkpointed to scratch.
    primary = primary_members(assigned, bronze.get("mp_members"), key)
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
    # The audit is small; delta-rs writes it (Sail's replaceWhere trips over list
    # columns read back from Delta). A full rebuild replaces the night's rows.
    lake.write_arrow(
        audit.toArrow(),
        SILVER,
        IDENTITY_AUDIT,
        mode="overwrite" if full else "append",
        predicate=f"night = '{night.isoformat()}'" if full else None,
    )
    _write_state(lake, result, state, pending, night, full, cut)
    return audit


def _summarise(
    lake: Lake, result: NightResult, audit: DataFrame, summary: IdentityRunSummary
) -> None:
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


def _table(lake: Lake, table: str) -> DataFrame | None:
    return lake.read(SILVER, table) if lake.exists(SILVER, table) else None


def _seen_again(
    identity_map: DataFrame, members: DataFrame | None, seen: DataFrame
) -> tuple[DataFrame, DataFrame | None]:
    """`last_seen` moved on for the identifiers (and people) only seen again tonight."""
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


def _in_list(column: str, values: list[str]) -> str:
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"{column} IN ({quoted})"


def _write_state(
    lake: Lake,
    result: NightResult,
    state: GraphState,
    pending: list[tuple],
    night: date,
    full: bool,
    cut: Checkpointer,
) -> None:
    """The graph's state after tonight, then the files it now accounts for."""
    spark = lake._spark()
    mode = "overwrite" if full else "append"
    lake.write(result.new_edges.select(*EDGE_COLUMNS), SILVER, EDGES, mode=mode)
    links = result.links.select(*EDGE_COLUMNS)
    if not full and state.links is not None:
        kept = state.links.select(*EDGE_COLUMNS).join(
            result.relinked.select(F.col("node").alias("a")), "a", "left_anti"
        )
        links = cut(kept.unionByName(links))
    lake.write(links, SILVER, LINKS)
    shared = result.shared.withColumn("night", F.lit(night))
    lake.write(shared, SILVER, SHARED, mode=mode)
    # Activity is kept per landing file: tonight's copies replace their earlier copies'
    # rows in one commit, so a file completed later is not counted twice.
    if full or not lake.exists(SILVER, ACTIVITY):
        lake.write(result.activity, SILVER, ACTIVITY)
    else:
        names = sorted({name for name, _, _ in pending})
        lake.write_arrow(
            result.activity.toArrow(),
            SILVER,
            ACTIVITY,
            mode="overwrite",
            predicate=_in_list("source_file", names),
        )
    lake.write(result.new_phones, SILVER, PHONES, mode=mode)
    processed_at = datetime.now(UTC)
    files = spark.createDataFrame(
        [(name, sha, night, processed_at) for name, sha, _ in pending],
        "source_file string, file_sha256 string, night date, processed_at timestamp",
    )
    if not full:  # a file read again for its redemptions is listed once
        done = lake.read(SILVER, FILES).select(
            _copy_key(F.col("source_file"), F.col("file_sha256")).alias("copy")
        )
        copy = _copy_key(F.col("source_file"), F.col("file_sha256"))
        files = files.withColumn("copy", copy).join(done, "copy", "left_anti").drop("copy")
    lake.write(files, SILVER, FILES, mode=mode)


# -- the weak model's versions ------------------------------------------------------


def load_model(lake: Lake) -> WeakModel | None:
    """The current (highest) weak-model version in `silver/identity_model`, if any."""
    if not lake.exists(SILVER, MODEL):
        return None
    rows = DeltaTable(lake.path(SILVER, MODEL)).to_pyarrow_table().to_pylist()
    if not rows:
        return None
    row = max(rows, key=lambda r: r["version"])
    return WeakModel.from_row(row["version"], row["phones"], row["night"], row["params"])


def save_model(lake: Lake, model: WeakModel) -> None:
    """Append one version to `silver/identity_model`."""
    row = {
        "version": model.version,
        "night": model.estimated_on,
        "phones": model.phones,
        "params": model.params_json(),
        "estimated_at": datetime.now(UTC),
    }
    lake.write_arrow(pa.Table.from_pylist([row], MODEL_SCHEMA), SILVER, MODEL, mode="append")


def _refit(
    lake: Lake,
    state: GraphState,
    bronze: dict[str, DataFrame],
    pending: list[tuple],
    key: bytes,
    night: date,
    full: bool,
) -> WeakModel:
    """Estimate and store the next version from the evidence the rebuild reads."""
    current = load_model(lake)
    if full:
        whole = not lake.exists(*LEDGER)
        night_bronze = bronze if whole else _restrict(bronze, pending, lake)
        observations = all_observations(night_bronze, douyin_orders=bronze.get("douyin_orders"))
        phones = (
            hash_observations(observations.where(F.col("id_type") == "phone"), key)
            .select("node")
            .distinct()
            .count()
        )
    else:
        phones = state.phones.count() if state.phones is not None else 0
    model = estimate_model(phones, (current.version if current else 0) + 1, night)
    save_model(lake, model)
    return model


# -- the commit protocol --------------------------------------------------------------


def _nights(lake: Lake) -> list[dict]:
    if not lake.exists(SILVER, NIGHTS):
        return []
    rows = DeltaTable(lake.path(SILVER, NIGHTS)).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda r: r["at"])


def _manifest(
    lake: Lake, run_id: str, night: date, mode: str, status: str, *, erased: int = 0
) -> None:
    """Append a manifest row; `started` records every night table's current version."""
    versions = {}
    if status == "started":
        versions = {
            table: lake.version(SILVER, table) if lake.exists(SILVER, table) else -1
            for table in NIGHT_TABLES
        }
    row = {
        "run_id": run_id,
        "night": night,
        "mode": mode,
        "status": status,
        "versions": json.dumps(versions, sort_keys=True),
        "erased": erased,
        "at": datetime.now(UTC),
    }
    lake.write_arrow(pa.Table.from_pylist([row], NIGHTS_SCHEMA), SILVER, NIGHTS, mode="append")


def recover(lake: Lake) -> str | None:
    """Roll back the night a crash interrupted; returns a one-line notice, or None.

    If the manifest's last row is `started`, every night table is restored to the
    version it had before that night (a table the night created is removed). Restoring
    is itself a commit, so a crash during recovery is recovered by the next run. Also
    removes scratch directories of dead runs, and repeats the vault's vacuum after a
    night with erasures (idempotent).
    """
    _clean_scratch(lake)
    rows = _nights(lake)
    if not rows:
        return None
    last = rows[-1]
    if last["status"] == "done":
        if last["erased"]:
            lake.vacuum(SILVER, PII_VAULT, retention_hours=0)
        return None
    if last["status"] != "started":
        return None
    versions = json.loads(last["versions"])
    restored = []
    for table in reversed(NIGHT_TABLES):
        before = versions.get(table, -1)
        if not lake.exists(SILVER, table):
            continue
        if before < 0:
            shutil.rmtree(lake.path(SILVER, table))
            restored.append(f"{table} removed")
        elif lake.version(SILVER, table) > before:
            DeltaTable(lake.path(SILVER, table)).restore(before)
            restored.append(f"{table}@{before}")
    _manifest(lake, last["run_id"], last["night"], last["mode"], "rolled_back")
    return f"OneID night {last['night']} was interrupted; rolled back: " + (
        ", ".join(restored) or "nothing had been written"
    )


def _scratch(lake: Lake) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"identity-{os.getpid()}-", dir=_scratch_root(lake)))


def _clean_scratch(lake: Lake) -> None:
    """Remove `scratch/identity-*` directories whose process is gone."""
    root = lake.settings.home / "scratch"
    if not root.exists():
        return
    for path in root.glob("identity-*"):
        parts = path.name.split("-")
        pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        if pid == os.getpid():
            continue  # this process's own (a concurrent call in one process)
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _previous_map(lake: Lake, night: date, max_lookback: int = 20) -> DataFrame | None:
    """The identity_map as written by the last run for an earlier night.

    Re-running a night must compare with the night before, not with its own first
    run, or its merges and splits would vanish from the audit: walk back the Delta
    versions until the map's `night` is earlier.
    """
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
