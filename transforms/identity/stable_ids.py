"""Stable `one_id`s from night to night, and the audit of merges and splits.

Components are recomputed every night, so their ids (the smallest node id) mean
nothing from one night to the next. A person keeps their `one_id` as long as they
exist: each new cluster inherits the `one_id` of a predecessor (a cluster of last
night's `identity_map` sharing identifiers with it), and each old `one_id` goes to at
most one heir: the new cluster holding most of its identifiers (ties: the smallest
component). Where a cluster has several predecessors it keeps the one_id of the oldest
(first seen, then most overlap) among those it is heir of: that is a *merge*, audited.
An old one_id whose identifiers are now spread over several clusters is a *split*.
New people get a fresh one_id, a hash of the night and the cluster's smallest
pseudonym, so a re-run of the same night gives the same ids.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

AUDIT_SCHEMA = (
    "night date, event string, old_ids array<string>, new_ids array<string>, "
    "id_type string, id_hash string, detail string"
)
IDENTITY_MAP_COLUMNS = (
    "node",  # the graph's node id: xxhash64 of "id_type:id_hash"
    "id_type",
    "id_hash",
    "one_id",
    "first_seen",
    "last_seen",
    "link_kind",
)


def assign_one_ids(clusters: DataFrame, previous: DataFrame | None, night: date) -> DataFrame:
    """`clusters` (id_type, id_hash, component, ...) plus `one_id` and `predecessors`.

    `previous` is last night's identity_map (id_type, id_hash, one_id, first_seen).
    """
    fresh = F.concat(
        F.lit("P"),
        F.substring(
            F.sha2(F.concat_ws(":", F.lit(night.isoformat()), F.min("id_hash")), 256), 1, 20
        ),
    )
    fresh_ids = clusters.groupBy("component").agg(fresh.alias("fresh_id"))
    if previous is None:
        assigned = fresh_ids.select(
            "component",
            F.col("fresh_id").alias("one_id"),
            F.array().cast("array<string>").alias("predecessors"),
        )
        return clusters.join(assigned, "component")

    old = previous.select(
        "id_type", "id_hash", F.col("one_id").alias("old_id"), F.col("first_seen").alias("old_seen")
    )
    overlap = (
        clusters.select("id_type", "id_hash", "component")
        .join(old, ["id_type", "id_hash"])
        .groupBy("component", "old_id")
        .agg(F.count("*").alias("shared"), F.min("old_seen").alias("old_seen"))
    )
    heir_rank = Window.partitionBy("old_id").orderBy(F.desc("shared"), F.asc("component"))
    heirs = overlap.withColumn("heir_rank", F.row_number().over(heir_rank)).where(
        F.col("heir_rank") == 1
    )
    keep_rank = Window.partitionBy("component").orderBy(
        F.asc_nulls_last("old_seen"), F.desc("shared"), F.asc("old_id")
    )
    kept = (
        heirs.withColumn("keep_rank", F.row_number().over(keep_rank))
        .where(F.col("keep_rank") == 1)
        .select("component", F.col("old_id").alias("kept_id"))
    )
    predecessors = overlap.groupBy("component").agg(
        F.sort_array(F.collect_set("old_id")).alias("predecessors")
    )
    assigned = (
        fresh_ids.join(kept, "component", "left")
        .join(predecessors, "component", "left")
        .select(
            "component",
            F.coalesce("kept_id", "fresh_id").alias("one_id"),
            F.coalesce("predecessors", F.array().cast("array<string>")).alias("predecessors"),
        )
    )
    return clusters.join(assigned, "component")


def identity_map(assigned: DataFrame, previous: DataFrame | None, night: date) -> DataFrame:
    """The published map; `first_seen` survives from earlier nights."""
    current = assigned.select(*IDENTITY_MAP_COLUMNS)
    if previous is not None:
        earlier = previous.select("id_type", "id_hash", F.col("first_seen").alias("earlier_seen"))
        current = (
            current.join(earlier, ["id_type", "id_hash"], "left")
            .withColumn("first_seen", F.least("first_seen", "earlier_seen"))
            .select(*IDENTITY_MAP_COLUMNS)
        )
    return current.withColumn("night", F.lit(night))


def lineage_events(assigned: DataFrame, night: date) -> DataFrame:
    """`merge` (several old ids, one new) and `split` (one old id, several new) rows."""
    people = assigned.select("one_id", "predecessors").distinct()
    merges = people.where(F.size("predecessors") > 1).select(
        F.lit("merge").alias("event"),
        F.col("predecessors").alias("old_ids"),
        F.array("one_id").alias("new_ids"),
    )
    successors = (
        people.select(F.explode("predecessors").alias("old_id"), "one_id")
        .groupBy("old_id")
        .agg(F.sort_array(F.collect_set("one_id")).alias("new_ids"))
    )
    splits = successors.where(F.size("new_ids") > 1).select(
        F.lit("split").alias("event"), F.array("old_id").alias("old_ids"), "new_ids"
    )
    return merges.unionByName(splits).select(
        F.lit(night).alias("night"),
        "event",
        "old_ids",
        "new_ids",
        F.lit(None).cast("string").alias("id_type"),
        F.lit(None).cast("string").alias("id_hash"),
        F.lit(None).cast("string").alias("detail"),
    )


def guard_events(shared: DataFrame, night: date) -> DataFrame:
    """One row per identifier the guards kept from linking, with why and how much."""
    return shared.select(
        F.lit(night).alias("night"),
        F.col("reason").alias("event"),
        F.array().cast("array<string>").alias("old_ids"),
        F.array().cast("array<string>").alias("new_ids"),
        "id_type",
        "id_hash",
        F.concat(F.lit("evidence="), F.col("evidence").cast("string")).alias("detail"),
    )
