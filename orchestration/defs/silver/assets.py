"""Silver assets over `transforms.build`; the logic lives there, not here.

- `silver_masters` (unpartitioned): stores, products, their platform maps, B2B
  customers and order lines, monthly store costs.
- `silver_daily` (daily partitions): orders, order lines, unmapped platform names,
  vouchers, inventory. A partition's run processes every bronze batch silver has not
  processed yet (the ledger), so it also rebuilds the earlier dates that late files,
  re-exports and change records touched, not just its own date.
"""

import datetime as dt

import dagster as dg

from orchestration.partitions import daily_partitions
from orchestration.resources import LakehouseResource

GROUP = "silver"

ORDER_SOURCES = (
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
MASTER_SOURCES = {
    "stores": ("erp_stores",),
    "store_platform_map": ("erp_stores",),
    "products": ("erp_products",),
    "product_platform_map": ("erp_products", "meituan_orders", "eleme_orders", "douyin_orders"),
    "b2b_customers": ("erp_b2b_customers",),
    "b2b_orders": ("erp_b2b_orders", "erp_b2b_customers"),
    "store_costs_monthly": ("erp_store_costs",),
    "member_history": ("mp_members",),
}
DAILY_SOURCES = {
    "orders": ORDER_SOURCES,
    "order_lines": ORDER_SOURCES,
    "unmapped_platform_names": ORDER_SOURCES,
    "vouchers": ("douyin_orders", "douyin_verifications", "pos_sales", "erp_stores"),
    "inventory_daily": ("erp_inventory",),
}
DESCRIPTIONS = {
    "stores": "Stores from the latest ERP snapshot (门店).",
    "store_platform_map": "Meituan/Ele.me store ids and Douyin POIs to store codes (ERP only).",
    "products": "SKUs from the latest ERP snapshot (商品).",
    "product_platform_map": "Platform product names/ids to SKUs, with method and score.",
    "b2b_customers": "B2B customers; contact name masked, phone pseudonymised.",
    "b2b_orders": "Latest state of every B2B order line, VAT split, receivables.",
    "store_costs_monthly": "Monthly operating costs per store.",
    "member_history": "Every dated version of each member's CRM record (pseudonymous).",
    "orders": "One row per order across pos, miniprogram, douyin, meituan, eleme, b2b.",
    "order_lines": "Order lines with mapped SKUs and net amounts allocated from the order.",
    "unmapped_platform_names": "Platform names/ids that map to no SKU/store, with revenue.",
    "vouchers": "Douyin vouchers from sale to redemption and their POS ticket.",
    "inventory_daily": "Stock movements per store, SKU and day, waste with its reason.",
}


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


def _spec(table: str, sources: tuple[str, ...], *, partitioned: bool, extra=()) -> dg.AssetSpec:
    return dg.AssetSpec(
        _key(table),
        group_name=GROUP,
        description=DESCRIPTIONS[table],
        deps=[dg.AssetKey(["bronze", s]) for s in sources] + list(extra),
        partitions_def=daily_partitions if partitioned else None,
        kinds={"spark", "delta"},
    )


@dg.multi_asset(
    specs=[_spec(t, s, partitioned=False) for t, s in MASTER_SOURCES.items()],
    name="silver_masters",
    can_subset=False,
)
def silver_masters(lakehouse: LakehouseResource):
    from bakehouse.pii import load_key
    from transforms.build import build_masters

    lake = lakehouse.lake(with_spark=True)
    result = build_masters(lake, load_key(lakehouse.settings.pii_key_file))
    for table in MASTER_SOURCES:
        yield dg.MaterializeResult(
            asset_key=_key(table),
            metadata={"row_count": dg.MetadataValue.int(result.row_counts.get(table, 0))},
        )


@dg.multi_asset(
    specs=[
        _spec(t, s, partitioned=True, extra=[_key("store_platform_map"), _key("products")])
        for t, s in DAILY_SOURCES.items()
    ],
    name="silver_daily",
    can_subset=False,
)
def silver_daily(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    from pyspark.sql import functions as F

    from bakehouse.pii import load_key
    from transforms.build import build_pending

    lake = lakehouse.lake(with_spark=True)
    result = build_pending(lake, load_key(lakehouse.settings.pii_key_file))
    day = dt.date.fromisoformat(context.partition_key)
    rebuilt = {
        "orders": result.dates.orders,
        "order_lines": result.dates.orders,
        "unmapped_platform_names": result.dates.orders,
        "vouchers": result.dates.vouchers,
        "inventory_daily": result.dates.inventory,
    }
    for table in DAILY_SOURCES:
        metadata: dict[str, dg.MetadataValue] = {
            "build_mode": dg.MetadataValue.text(result.mode),
            "rebuilt_dates": dg.MetadataValue.text(
                ", ".join(d.isoformat() for d in sorted(rebuilt[table])) or "-"
            ),
            "table_row_count": dg.MetadataValue.int(result.row_counts.get(table, 0)),
        }
        if lake.exists("silver", table):
            frame = lake.read("silver", table).where(F.col("business_date") == F.lit(day))
            metadata["partition_row_count"] = dg.MetadataValue.int(frame.count())
            if table == "unmapped_platform_names":
                revenue = frame.agg(F.sum("revenue_amount")).first()[0]
                metadata["unmapped_revenue_yuan"] = dg.MetadataValue.float(float(revenue or 0))
        yield dg.MaterializeResult(asset_key=_key(table), metadata=metadata)
