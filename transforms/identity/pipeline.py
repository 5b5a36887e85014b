"""The nightly OneID run: bronze in, the four silver identity tables out.

This is the I/O edge around the pure functions of the package. Identity is global,
so every night re-resolves the whole identifier graph from bronze (bronze is the
complete history) and uses last night's `identity_map` only to keep the one_ids
stable. The outputs are replaced atomically (`identity_map`, `members`, `pii_vault`)
and the night's rows of `identity_audit` are replaced, so re-running a night is safe.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bakehouse.lake import Lake
from bakehouse.pii import load_key
from transforms.identity.config import IdentityConfig
from transforms.identity.graph import Checkpointer
from transforms.identity.identifiers import all_observations
from transforms.identity.linkage import make_weak_linker
from transforms.identity.profiles import members_profile, pii_vault
from transforms.identity.resolution import resolve_identities
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


@dataclass
class IdentityRunSummary:
    """What a night's run did; becomes the Dagster asset metadata."""

    night: date
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


def _latest_night(lake: Lake, bronze: dict[str, DataFrame]) -> date:
    from pyspark.sql import functions as F

    nights = [
        frame.agg(F.max("business_date")).collect()[0][0]
        for name, frame in bronze.items()
        if "business_date" in frame.columns and name != "erp_stores"
    ]
    nights = [n for n in nights if n is not None]
    return max(nights) if nights else date.today()


def run_identity(
    lake: Lake,
    *,
    night: date | None = None,
    config: IdentityConfig | None = None,
    key: bytes | None = None,
    use_weak_links: bool = True,
) -> IdentityRunSummary:
    """Resolve identities from bronze and write the silver identity tables."""
    from pyspark.sql import functions as F

    config = config or IdentityConfig()
    key = key or load_key(lake.settings.pii_key_file)
    bronze = read_bronze(lake)
    night = night or _latest_night(lake, bronze)
    previous = None
    scratch = Path(tempfile.mkdtemp(prefix="identity-", dir=_scratch_root(lake)))
    cut = Checkpointer(scratch)
    try:
        previous = _previous_map(lake, night)
        if previous is not None:
            previous = cut(previous)
        weak_linker = make_weak_linker(bronze, config) if use_weak_links else None
        result = resolve_identities(
            all_observations(bronze), key, config, weak_linker=weak_linker, checkpoint=cut
        )
        assigned = cut(assign_one_ids(result.clusters, previous, night))
        summary = IdentityRunSummary(night=night, rounds=result.rounds)
        summary.probabilistic_links = result.probabilistic_links

        new_map = cut(identity_map(assigned, previous, night))
        members = cut(members_profile(assigned, bronze.get("mp_members"), key, night))
        vault = pii_vault(assigned, bronze.get("mp_members"), night)
        # Each part goes through the checkpoint first: Sail refuses to union list
        # columns whose element fields are named differently (literal vs Parquet).
        audit = cut(lineage_events(assigned, night))
        audit = audit.unionByName(cut(guard_events(result.shared, night)))
        audit = cut(audit.unionByName(cut(_size_cap_events(assigned, result.splits, night))))

        lake.write(new_map, SILVER, IDENTITY_MAP)
        lake.write(members, SILVER, MEMBERS)
        if vault is not None:
            vault = cut(vault)
            lake.write(vault, SILVER, PII_VAULT)
            summary.vault_rows = vault.count()
            summary.erased = vault.where(F.col("is_erased")).count()
            if summary.erased:
                # Older table versions still hold the erased values: drop them now.
                lake.vacuum(SILVER, PII_VAULT, retention_hours=0)
        # The audit is small; delta-rs replaces the night's rows atomically (Sail's
        # replaceWhere trips over list columns read back from Delta).
        lake.write_arrow(
            audit.toArrow(),
            SILVER,
            IDENTITY_AUDIT,
            mode="overwrite",
            predicate=f"night = '{night.isoformat()}'",
        )

        summary.identifiers = new_map.count()
        summary.clusters = new_map.select("one_id").distinct().count()
        summary.members = members.where(F.col("is_member")).count()
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
