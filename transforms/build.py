"""The edges of silver: read bronze, run `transforms.pipeline`, write silver.

- `build_full` rebuilds every silver table from all of bronze.
- `build_incremental` rebuilds only the business dates the changed files touch
  (`transforms.incremental`), replacing exactly those dates of the daily tables in one
  MERGE per table; masters and the small unpartitioned tables are rewritten whole.
- `build_pending` asks the bronze file ledger which batches silver has not processed
  yet, and runs `build_incremental` over their files (or `build_full` the first time).

Why MERGE and date literals instead of `replaceWhere`: on Sail 0.7, a replaceWhere
write into a table with a timestamp column fails when the session time zone is not
UTC, and MERGE conditions cannot hold subqueries. The dates come from `datetime.date`
objects (checked), never from source text.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from bakehouse.killpoints import killpoint
from bakehouse.lake import Lake
from transforms.common.bronze import current_copies, read_bronze
from transforms.incremental import (
    AffectedDates,
    changed_files_from_ledger,
    changed_mappings,
    dates_from_bronze,
    dates_from_lineage,
    dates_from_mapping_changes,
)
from transforms.masters.products import OBSERVED_NAMES_SCHEMA
from transforms.masters.stores import conflict_summary
from transforms.members.history import build_member_history
from transforms.orders.union import build_unmapped
from transforms.pipeline import (
    BRONZE_INPUTS,
    DAILY_TABLES,
    MASTER_TABLES,
    POS_VOUCHER_INPUT,
    silver_frames,
)

SILVER = "silver"
LEDGER = ("bronze", "file_ledger")
BUILD_LOG = "build_log"

# Daily tables: which group of affected dates they follow (their key: SILVER_TABLES).
DATE_GROUPS: dict[str, str] = {
    "orders": "orders",
    "order_lines": "orders",
    "unmapped_platform_names": "orders",
    "vouchers": "vouchers",
    "inventory_daily": "inventory",
}


@dataclass(frozen=True)
class SilverTable:
    """What a silver table is, for whoever schedules or documents it (orchestration).

    `inputs` are the bronze tables its rows come from, `grain` the columns that identify
    a row, `daily` whether it is partitioned by `business_date` and rebuilt date by date
    (else rewritten whole on every build).
    """

    name: str
    description: str
    inputs: tuple[str, ...]
    grain: tuple[str, ...]
    daily: bool


_ORDER_INPUTS = (
    "pos_sales",
    "mp_orders",
    "douyin_orders",
    "douyin_verifications",
    "meituan_orders",
    "eleme_orders",
    "erp_b2b_orders",
    "erp_stores",
    "erp_products",
)
# The one list of silver's tables (the identity tables are OneID's, in
# transforms.identity.pipeline). A test checks it covers MASTER_TABLES + DAILY_TABLES.
SILVER_TABLES: dict[str, SilverTable] = {
    t.name: t
    for t in (
        SilverTable(
            "stores",
            "Stores from the latest ERP snapshot (门店).",
            ("erp_stores",),
            ("store_code",),
            daily=False,
        ),
        SilverTable(
            "store_platform_map",
            "Meituan/Ele.me store ids and Douyin POIs to store codes (ERP only).",
            ("erp_stores",),
            ("platform", "platform_store_id"),
            daily=False,
        ),
        SilverTable(
            "products",
            "SKUs from the latest ERP snapshot (商品).",
            ("erp_products",),
            ("sku",),
            daily=False,
        ),
        SilverTable(
            "product_platform_map",
            "Platform product names/ids to SKUs, with method and score.",
            ("erp_products", "meituan_orders", "eleme_orders", "douyin_orders"),
            ("platform", "platform_value"),
            daily=False,
        ),
        SilverTable(
            "b2b_customers",
            "B2B customers; contact name masked, phone pseudonymised.",
            ("erp_b2b_customers",),
            ("customer_code",),
            daily=False,
        ),
        SilverTable(
            "b2b_orders",
            "Latest state of every B2B order line, VAT split, receivables.",
            ("erp_b2b_orders", "erp_b2b_customers"),
            ("order_id", "sku"),
            daily=False,
        ),
        SilverTable(
            "store_costs_monthly",
            "Monthly operating costs per store.",
            ("erp_store_costs",),
            ("cost_month", "store_code"),
            daily=False,
        ),
        SilverTable(
            "member_history",
            "Every dated version of each member's CRM record (pseudonymous).",
            ("mp_members",),
            ("member_id_hash", "valid_from_at"),
            daily=False,
        ),
        SilverTable(
            "orders",
            "One row per order across pos, miniprogram, douyin, meituan, eleme, b2b.",
            _ORDER_INPUTS,
            ("order_id",),
            daily=True,
        ),
        SilverTable(
            "order_lines",
            "Order lines with mapped SKUs and net amounts allocated from the order.",
            _ORDER_INPUTS,
            ("order_id", "line_no"),
            daily=True,
        ),
        SilverTable(
            "unmapped_platform_names",
            "Platform names/ids that map to no SKU/store, with revenue.",
            _ORDER_INPUTS,
            ("business_date", "platform", "kind", "platform_value"),
            daily=True,
        ),
        SilverTable(
            "vouchers",
            "Douyin vouchers from sale to redemption and their POS ticket.",
            ("douyin_orders", "douyin_verifications", "pos_sales", "erp_stores"),
            ("voucher_code",),
            daily=True,
        ),
        SilverTable(
            "inventory_daily",
            "Stock movements per store, SKU and day, waste with its reason.",
            ("erp_inventory",),
            ("business_date", "store_code", "sku"),
            daily=True,
        ),
    )
}

DAILY_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    table: (SILVER_TABLES[table].grain, group) for table, group in DATE_GROUPS.items()
}


def rebuilt_dates(result: BuildResult) -> dict[str, set[dt.date]]:
    """The business dates an incremental build replaced, per daily table."""
    groups = {
        "orders": result.dates.orders,
        "vouchers": result.dates.vouchers,
        "inventory": result.dates.inventory,
    }
    return {table: set(groups[group]) for table, group in DATE_GROUPS.items()}


@dataclass
class BuildResult:
    mode: str  # full | incremental | noop
    dates: AffectedDates = field(default_factory=AffectedDates)
    changed_files: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # Platform store ids the store map left out (`transforms.masters.stores.conflict_summary`)
    store_conflicts: list[str] = field(default_factory=list)


def _bronze(lake: Lake, spark: SparkSession) -> dict[str, DataFrame]:
    return {table: read_bronze(lake, spark, table) for table in BRONZE_INPUTS}


def _silver(lake: Lake, table: str) -> DataFrame | None:
    return lake.read(SILVER, table) if lake.exists(SILVER, table) else None


def _known_names(lake: Lake) -> DataFrame | None:
    existing = _silver(lake, "product_platform_map")
    return existing.select(*OBSERVED_NAMES_SCHEMA.fieldNames()) if existing is not None else None


def date_predicate(column: str, dates: Iterable[dt.date]) -> str:
    """`column IN (DATE'…', …)` from date objects only (see the module docstring)."""
    values = sorted(set(dates))
    if not values or not all(type(d) is dt.date for d in values):
        raise ValueError("date_predicate needs datetime.date values")
    if not column.isidentifier():
        raise ValueError(f"not a column name: {column!r}")
    literals = ", ".join("DATE'" + d.isoformat() + "'" for d in values)
    return f"t.`{column}` IN ({literals})"


def replace_dates(
    lake: Lake,
    source: DataFrame,
    table: str,
    keys: Sequence[str],
    dates: Iterable[dt.date],
) -> None:
    """Make `table`'s rows of `dates` exactly `source`, in one MERGE commit."""
    dates = sorted(set(dates))
    if not lake.exists(SILVER, table):
        lake.write(source, SILVER, table, mode="overwrite", partition_by=["business_date"])
        return
    if not dates:
        return
    lake.merge(
        source,
        SILVER,
        table,
        keys,
        delete_unmatched_where=date_predicate("business_date", dates),
    )


def _stage(df: DataFrame, path: Path) -> DataFrame:
    """Compute a frame once into parquet and read it back.

    A MERGE may evaluate its source more than once; staging keeps the whole silver plan
    from running again per evaluation (a 10x difference on Sail).
    """
    df.write.mode("overwrite").parquet(str(path))
    killpoint("step:silver.staged")
    if not any(path.glob("*.parquet")):  # Sail writes no file at all for an empty result
        return df.sparkSession.createDataFrame([], df.schema)
    return df.sparkSession.read.parquet(str(path))


def _write_masters(lake: Lake, frames: dict[str, DataFrame]) -> list[str]:
    """Write the master tables; the store map's conflicts, for the run summary."""
    for table in MASTER_TABLES:
        lake.write(frames[table], SILVER, table, mode="overwrite")
    return conflict_summary(lake.read(SILVER, "stores"))


def _write_member_history(lake: Lake, key: bytes) -> None:
    """`member_history` from every CRM version in bronze (rewritten whole; small)."""
    mp_members = current_copies(read_bronze(lake, lake._spark(), "mp_members"))
    history = build_member_history(mp_members, key)
    lake.write(history, SILVER, "member_history", mode="overwrite")


def _count(lake: Lake, tables: Iterable[str]) -> dict[str, int]:
    """Row counts from the Delta files' metadata (no Spark job)."""
    return {t: lake.row_count(SILVER, t) for t in tables if lake.exists(SILVER, t)}


def build_full(lake: Lake, key: bytes) -> BuildResult:
    """Every silver table from all of bronze."""
    started = time.perf_counter()
    spark = lake._spark()
    frames = silver_frames(_bronze(lake, spark), key)
    conflicts = _write_masters(lake, frames)
    _write_member_history(lake, key)
    for table in DAILY_TABLES:
        if table == "unmapped_platform_names":  # from the written orders, not the plan again
            frames[table] = build_unmapped(
                lake.read(SILVER, "orders"),
                lake.read(SILVER, "order_lines"),
                lake.read(SILVER, "stores"),
            )
        lake.write(frames[table], SILVER, table, mode="overwrite", partition_by=["business_date"])
    return BuildResult(
        mode="full",
        store_conflicts=conflicts,
        row_counts=_count(lake, (*MASTER_TABLES, *DAILY_TABLES)),
        seconds=time.perf_counter() - started,
    )


def build_masters(lake: Lake, key: bytes) -> BuildResult:
    """Only the unpartitioned tables: masters, maps, B2B and monthly costs."""
    started = time.perf_counter()
    spark = lake._spark()
    bronze = _bronze(lake, spark)
    frames = silver_frames(_restrict(bronze, AffectedDates()), key, known_names=_known_names(lake))
    conflicts = _write_masters(lake, frames)
    _write_member_history(lake, key)
    return BuildResult(
        mode="masters",
        store_conflicts=conflicts,
        row_counts=_count(lake, (*MASTER_TABLES, "member_history")),
        seconds=time.perf_counter() - started,
    )


def affected_dates(lake: Lake, bronze: dict[str, DataFrame], files: Sequence[str]) -> AffectedDates:
    """Rules 1 and 2 of `transforms.incremental` for these changed files."""
    dates = dates_from_bronze(bronze, files)
    dates.update(dates_from_lineage(_daily_silver(lake), files))
    return dates


def remapped_dates(lake: Lake, frames: dict[str, DataFrame]) -> set[dt.date]:
    """Rule 3: dates of platform orders whose product or store mapping changed."""
    products = changed_mappings(
        _silver(lake, "product_platform_map"),
        frames["product_platform_map"],
        ("platform", "platform_value"),
        "sku",
    )
    stores = changed_mappings(
        _silver(lake, "store_platform_map"),
        frames["store_platform_map"],
        ("platform", "platform_store_id"),
        "store_code",
    )
    silver = _daily_silver(lake)
    return dates_from_mapping_changes(silver["orders"], silver["order_lines"], products, stores)


def _daily_silver(lake: Lake) -> dict[str, DataFrame | None]:
    return {t: _silver(lake, t) for t in ("orders", "order_lines", "vouchers", "inventory_daily")}


def _restrict(bronze: dict[str, DataFrame], dates: AffectedDates) -> dict[str, DataFrame]:
    """Only the bronze rows that can feed the dates being rebuilt (plus small tables whole).

    Each frame is cut down after `current_copies` ran on the whole table, so a re-export
    whose new copy lacks a date cannot make its old copy look current.
    """
    order_days = sorted(dates.orders)
    # POS is the big table and all copies of a till file share its date: cut it first.
    bronze = {
        **bronze,
        "pos_sales": bronze["pos_sales"].where(
            F.col("business_date").isin(order_days) | (F.trim("voucher_code") != "")
        ),
    }
    current = {t: current_copies(df) for t, df in bronze.items()}
    voucher_days = sorted(dates.orders | dates.vouchers)
    inventory_days = sorted(dates.inventory)
    restricted = dict(current)
    restricted["pos_sales"] = current["pos_sales"].where(F.col("business_date").isin(order_days))
    restricted[POS_VOUCHER_INPUT] = current["pos_sales"].where(F.trim("voucher_code") != "")
    restricted["mp_orders"] = current["mp_orders"].where(F.to_date("created_at").isin(order_days))
    for table in ("meituan_orders", "eleme_orders"):
        restricted[table] = current[table].where(F.to_date("ordered_at").isin(order_days))
    restricted["douyin_orders"] = current["douyin_orders"].where(
        F.to_date("ordered_at").isin(voucher_days)
    )
    restricted["erp_inventory"] = current["erp_inventory"].where(
        F.coalesce("stock_date", "business_date").isin(inventory_days)
    )
    return restricted


def build_incremental(lake: Lake, key: bytes, changed_files: Sequence[str]) -> BuildResult:
    """Rebuild the dates `changed_files` touch; a no-op when they touch none."""
    started = time.perf_counter()
    if not lake.exists(SILVER, "orders"):
        result = build_full(lake, key)
        result.changed_files = list(changed_files)
        return result
    spark = lake._spark()
    bronze = _bronze(lake, spark)
    known = _known_names(lake)
    dates = affected_dates(lake, bronze, changed_files)
    frames = silver_frames(_restrict(bronze, dates), key, known_names=known)
    # A changed mapping restates older orders too; rare, so it costs a second pass only then.
    if extra := remapped_dates(lake, frames) - dates.orders:
        dates.orders |= extra
        frames = silver_frames(_restrict(bronze, dates), key, known_names=known)
    conflicts = _write_masters(lake, frames)
    _write_member_history(lake, key)
    groups = {"orders": dates.orders, "vouchers": dates.vouchers, "inventory": dates.inventory}
    staging = lake.settings.home / "tmp" / f"silver-{uuid.uuid4().hex}"
    staged: dict[str, DataFrame] = {}
    try:
        for table, (keys, group) in DAILY_KEYS.items():
            days = sorted(groups[group])
            if not days:
                continue
            if table == "unmapped_platform_names":
                source = build_unmapped(
                    staged["orders"], staged["order_lines"], lake.read(SILVER, "stores")
                )
            else:
                source = frames[table].where(F.col("business_date").isin(days))
            staged[table] = _stage(source, staging / table)
            replace_dates(lake, staged[table], table, keys, days)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(
        mode="incremental",
        store_conflicts=conflicts,
        dates=dates,
        changed_files=list(changed_files),
        row_counts=_count(lake, (*MASTER_TABLES, *DAILY_TABLES)),
        seconds=time.perf_counter() - started,
    )


def processed_batches(lake: Lake) -> set[str]:
    log = _silver(lake, BUILD_LOG)
    return (
        {r.batch_id for r in log.select("batch_id").distinct().collect()}
        if log is not None
        else set()
    )


def _log_batches(lake: Lake, batch_ids: Iterable[str], result: BuildResult) -> None:
    spark = lake._spark()
    built_at = dt.datetime.now(dt.UTC)
    rows = [(b, built_at, result.mode, len(result.changed_files)) for b in sorted(set(batch_ids))]
    if rows:
        frame = spark.createDataFrame(
            rows, "batch_id string, built_at timestamp, mode string, changed_files int"
        )
        lake.write(frame, SILVER, BUILD_LOG, mode="append")


def build_pending(lake: Lake, key: bytes, *, full: bool = False) -> BuildResult:
    """Process every ledger batch silver has not processed yet (the nightly entry point)."""
    if not lake.exists(*LEDGER):
        return (
            build_full(lake, key)
            if full or lake.exists("bronze", "pos_sales")
            else BuildResult("noop")
        )
    ledger = lake.read(*LEDGER)
    pending = {
        r.batch_id for r in ledger.select("batch_id").distinct().collect()
    } - processed_batches(lake)
    if full or not lake.exists(SILVER, "orders"):
        result = build_full(lake, key)
    elif not pending:
        return BuildResult("noop")
    else:
        result = build_incremental(lake, key, changed_files_from_ledger(ledger, pending))
    _log_batches(lake, pending, result)
    return result
