"""Which business dates a night must rebuild, from the files that changed.

A changed file is one the ledger shows as landed or superseded in a batch silver has
not processed yet (a re-export lands under the same name as the copy it supersedes).
The dates to rebuild are found three ways, because each one misses something:
1. the business dates of the changed files' rows, as each silver table dates them (a
   mini-program change record in Tuesday's file dates its order on Monday, a Douyin
   redemption dates its voucher on the sale day, a POS 抖音券 ticket its voucher too);
2. the dates of the silver rows those files fed before (`source_files`), which is
   how rows that a re-export no longer contains get removed;
3. the dates of platform orders whose product or store mapping changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# A rejected re-export removes its older copy from bronze too, so it changes dates.
LEDGER_CHANGED_STATUSES = ("landed", "superseded", "rejected")
_LEDGER_FILE_COLUMNS = ("source_file", "file", "path", "relative_path")


@dataclass
class AffectedDates:
    """The business dates to rebuild, per group of daily silver tables."""

    orders: set[dt.date] = field(default_factory=set)  # orders, order_lines, unmapped names
    vouchers: set[dt.date] = field(default_factory=set)
    inventory: set[dt.date] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.orders or self.vouchers or self.inventory)

    def update(self, other: AffectedDates) -> None:
        self.orders |= other.orders
        self.vouchers |= other.vouchers
        self.inventory |= other.inventory


def collect_dates(df: DataFrame, column: str = "business_date") -> set[dt.date]:
    return {
        row[0] for row in df.select(column).where(F.col(column).isNotNull()).distinct().collect()
    }


def ledger_file_column(ledger: DataFrame) -> str:
    for name in _LEDGER_FILE_COLUMNS:
        if name in ledger.columns:
            return name
    raise ValueError(f"file_ledger has none of the file columns {_LEDGER_FILE_COLUMNS}")


def changed_files_from_ledger(ledger: DataFrame, batch_ids: Iterable[str]) -> list[str]:
    """Files landed or superseded in the given batches (relative landing paths)."""
    batches = sorted(set(batch_ids))
    if not batches:
        return []
    file_column = ledger_file_column(ledger)
    rows = (
        ledger.where(
            F.col("batch_id").isin(batches)
            & F.lower(F.col("status")).isin(*LEDGER_CHANGED_STATUSES)
        )
        .select(file_column)
        .distinct()
        .collect()
    )
    return sorted(row[0] for row in rows if row[0])


def sold_dates_of_vouchers(voucher_codes: DataFrame, douyin_orders: DataFrame) -> DataFrame:
    """The sale dates of the given vouchers (column `voucher_code`)."""
    sold = douyin_orders.select(
        F.trim("voucher_code").alias("voucher_code"), F.to_date("ordered_at").alias("business_date")
    )
    codes = voucher_codes.select(F.trim("voucher_code").alias("voucher_code")).distinct()
    return sold.join(codes, "voucher_code", "left_semi").select("business_date")


def dates_from_bronze(bronze: dict[str, DataFrame], files: Sequence[str]) -> AffectedDates:
    """Rule 1: the dates of the changed files' rows, as each silver table dates them.

    `bronze` holds every row of each table (old copies included): a superseded copy's
    rows date things too.
    """
    changed = {t: df.where(F.col("source_file").isin(list(files))) for t, df in bronze.items()}
    douyin_all = bronze["douyin_orders"]
    orders_parts = [
        changed["pos_sales"].select("business_date"),
        changed["mp_orders"].select(F.to_date("created_at").alias("business_date")),
        changed["meituan_orders"].select(F.to_date("ordered_at").alias("business_date")),
        changed["eleme_orders"].select(F.to_date("ordered_at").alias("business_date")),
        changed["erp_b2b_orders"].select(F.col("order_date").alias("business_date")),
    ]
    voucher_parts = [
        changed["douyin_orders"].select(F.to_date("ordered_at").alias("business_date")),
        sold_dates_of_vouchers(changed["douyin_verifications"].select("voucher_code"), douyin_all),
        sold_dates_of_vouchers(
            changed["pos_sales"].where(F.trim("voucher_code") != "").select("voucher_code"),
            douyin_all,
        ),
    ]
    union = orders_parts[0]
    for part in orders_parts[1:] + voucher_parts[:2]:
        union = union.unionByName(part)
    vouchers = voucher_parts[0].unionByName(voucher_parts[1]).unionByName(voucher_parts[2])
    inventory = changed["erp_inventory"].select(
        F.coalesce("stock_date", "business_date").alias("business_date")
    )
    # Douyin voucher orders live in silver/orders too, dated by their sale.
    return AffectedDates(
        orders=collect_dates(union),
        vouchers=collect_dates(vouchers),
        inventory=collect_dates(inventory),
    )


def dates_from_lineage(silver: dict[str, DataFrame | None], files: Sequence[str]) -> AffectedDates:
    """Rule 2: the dates of silver rows the changed files fed on an earlier night."""
    wanted = F.array(*[F.lit(f) for f in files]) if files else None
    result = AffectedDates()
    if wanted is None:
        return result
    if (orders := silver.get("orders")) is not None:
        result.orders = collect_dates(orders.where(F.arrays_overlap("source_files", wanted)))
    if (vouchers := silver.get("vouchers")) is not None:
        result.vouchers = collect_dates(vouchers.where(F.arrays_overlap("source_files", wanted)))
    if (inventory := silver.get("inventory_daily")) is not None:
        result.inventory = collect_dates(inventory.where(F.col("source_file").isin(list(files))))
    return result


def changed_mappings(
    old: DataFrame | None, new: DataFrame, key: Sequence[str], value: str
) -> list[tuple]:
    """The keys whose mapped value differs between two small map tables (driver side)."""
    new_map = {tuple(r[k] for k in key): r[value] for r in new.select(*key, value).collect()}
    if old is None:
        return []
    old_map = {tuple(r[k] for k in key): r[value] for r in old.select(*key, value).collect()}
    return sorted(k for k in old_map.keys() | new_map.keys() if old_map.get(k) != new_map.get(k))


def dates_from_mapping_changes(
    orders: DataFrame | None,
    lines: DataFrame | None,
    changed_products: list[tuple],
    changed_stores: list[tuple],
) -> set[dt.date]:
    """Rule 3: platform orders whose product or store mapping changed."""
    dates: set[dt.date] = set()
    present = orders if orders is not None else lines
    if present is None:
        return dates
    spark = present.sparkSession
    if changed_products and lines is not None:
        keys = spark.createDataFrame(changed_products, "channel string, source_product string")
        dates |= collect_dates(lines.join(keys, ["channel", "source_product"], "left_semi"))
    if changed_stores and orders is not None:
        keys = spark.createDataFrame(changed_stores, "channel string, platform_store_id string")
        dates |= collect_dates(orders.join(keys, ["channel", "platform_store_id"], "left_semi"))
    return dates
