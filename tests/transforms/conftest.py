"""Fixtures of the silver tests; the row builders live in `silver_testkit`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Test modules in the domain folders import `silver_testkit` from here.
sys.path.insert(0, str(Path(__file__).parent))

from silver_testkit import bronze_frame, masters_rows


@pytest.fixture
def masters(spark):
    """Stores, store map, products (frames) for the channel transforms."""
    from transforms.masters.products import build_products
    from transforms.masters.stores import build_store_platform_map, build_stores

    rows = masters_rows()
    stores = build_stores(bronze_frame(spark, "erp_stores", rows["erp_stores"]))
    products = build_products(bronze_frame(spark, "erp_products", rows["erp_products"]))
    return {"stores": stores, "store_map": build_store_platform_map(stores), "products": products}
