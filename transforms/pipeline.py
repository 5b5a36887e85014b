"""All of silver as one pure function: bronze frames in, silver frames out.

No reading or writing happens here (`transforms.build` does that), so the same
function runs on a tiny lakehouse in the tests, on Sail at night and on JVM Spark in
`tests/transforms/test_jvm_spark.py`. The product map is the one step that collects
to the driver: a few hundred distinct names against ~150 SKUs.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame

from transforms.b2b.customers import build_b2b_customers
from transforms.b2b.orders import build_b2b_orders, latest_b2b_lines
from transforms.finance.store_costs import build_store_costs_monthly
from transforms.inventory.daily import build_inventory_daily
from transforms.masters.products import (
    OBSERVED_NAMES_SCHEMA,
    build_product_platform_map,
    build_products,
)
from transforms.masters.stores import build_store_platform_map, build_stores
from transforms.orders.b2b import build_b2b_channel_orders
from transforms.orders.delivery import observed_product_names
from transforms.orders.douyin import build_douyin_orders, observed_douyin_products, voucher_states
from transforms.orders.eleme import build_eleme_orders, eleme_items, latest_eleme_orders
from transforms.orders.meituan import build_meituan_orders, latest_meituan_orders, meituan_items
from transforms.orders.miniprogram import build_miniprogram_orders
from transforms.orders.pos import build_pos_orders
from transforms.orders.union import build_unmapped, union_channels
from transforms.vouchers.douyin import build_vouchers, pos_voucher_tickets

# Bronze inputs silver reads (the contract's table names).
BRONZE_INPUTS = (
    "pos_sales",
    "mp_orders",
    "douyin_orders",
    "douyin_verifications",
    "meituan_orders",
    "eleme_orders",
    "erp_stores",
    "erp_products",
    "erp_inventory",
    "erp_b2b_customers",
    "erp_b2b_orders",
    "erp_store_costs",
)
# The POS rows the voucher link needs can span more dates than the POS rows the
# orders of a night need; the caller may pass them separately under this name.
POS_VOUCHER_INPUT = "pos_sales_vouchers"

MASTER_TABLES = (
    "stores",
    "store_platform_map",
    "products",
    "product_platform_map",
    "b2b_customers",
    "b2b_orders",
    "store_costs_monthly",
)
DAILY_TABLES = ("orders", "order_lines", "unmapped_platform_names", "vouchers", "inventory_daily")


def silver_frames(
    bronze: Mapping[str, DataFrame],
    key: bytes,
    *,
    known_names: DataFrame | None = None,
) -> dict[str, DataFrame]:
    """Every silver table from the bronze frames.

    `known_names` (platform, platform_value, platform_title) are names met on earlier
    nights: the product map keeps them when the frames of one night do not mention them.
    """
    stores = build_stores(bronze["erp_stores"])
    store_map = build_store_platform_map(stores)
    products = build_products(bronze["erp_products"])
    customers = build_b2b_customers(bronze["erp_b2b_customers"], key)

    meituan_latest = latest_meituan_orders(bronze["meituan_orders"])
    meituan_lines = meituan_items(meituan_latest)
    eleme_latest = latest_eleme_orders(bronze["eleme_orders"])
    eleme_lines = eleme_items(eleme_latest)
    vouchers_state = voucher_states(
        bronze["douyin_orders"], bronze["douyin_verifications"], store_map
    )
    observed = (
        observed_product_names(meituan_lines, "meituan")
        .unionByName(observed_product_names(eleme_lines, "eleme"))
        .unionByName(observed_douyin_products(vouchers_state))
    )
    if known_names is not None:
        observed = observed.unionByName(known_names.select(*OBSERVED_NAMES_SCHEMA.fieldNames()))
    product_map = build_product_platform_map(products, observed)

    b2b_lines = latest_b2b_lines(bronze["erp_b2b_orders"])
    channels = union_channels(
        [
            build_pos_orders(bronze["pos_sales"], key),
            build_miniprogram_orders(bronze["mp_orders"], key),
            build_douyin_orders(vouchers_state, product_map, key),
            build_meituan_orders(
                meituan_latest, meituan_lines, store_map, product_map, products, key
            ),
            build_eleme_orders(eleme_latest, eleme_lines, store_map, product_map, products, key),
            build_b2b_channel_orders(b2b_lines),
        ]
    )
    pos_for_vouchers = bronze.get(POS_VOUCHER_INPUT, bronze["pos_sales"])
    return {
        "stores": stores,
        "store_platform_map": store_map,
        "products": products,
        "product_platform_map": product_map,
        "b2b_customers": customers,
        "b2b_orders": build_b2b_orders(b2b_lines, customers),
        "store_costs_monthly": build_store_costs_monthly(bronze["erp_store_costs"]),
        "orders": channels.orders,
        "order_lines": channels.lines,
        "unmapped_platform_names": build_unmapped(channels.orders, channels.lines, stores),
        "vouchers": build_vouchers(
            vouchers_state, pos_voucher_tickets(pos_for_vouchers), product_map, key
        ),
        "inventory_daily": build_inventory_daily(bronze["erp_inventory"]),
    }
