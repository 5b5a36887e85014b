"""The silver Dagster assets: keys, groups, partitions, and one real materialisation."""

import dagster as dg
from silver_testkit import land, scenario_night

from orchestration.defs.silver import defs
from orchestration.defs.silver.assets import silver_daily, silver_masters
from orchestration.partitions import daily_partitions
from orchestration.resources import LakehouseResource


def test_silver_asset_graph():
    with_resources = dg.Definitions.merge(
        defs, dg.Definitions(resources={"lakehouse": LakehouseResource()})
    )
    graph = with_resources.get_repository_def().asset_graph
    silver = {k for k in graph.get_all_asset_keys() if k.path[0] == "silver"}
    assert dg.AssetKey(["silver", "orders"]) in silver
    assert dg.AssetKey(["silver", "product_platform_map"]) in silver
    orders = graph.get(dg.AssetKey(["silver", "orders"]))
    assert orders.partitions_def == daily_partitions and orders.group_name == "silver"
    assert dg.AssetKey(["bronze", "pos_sales"]) in orders.parent_keys
    assert graph.get(dg.AssetKey(["silver", "stores"])).partitions_def is None


def test_materialise_silver_on_a_tiny_lake(settings, lake, spark):
    land(lake, spark, scenario_night(1))
    resources = {"lakehouse": LakehouseResource(home=str(settings.home))}
    assert dg.materialize([silver_masters], resources=resources).success
    result = dg.materialize([silver_daily], resources=resources, partition_key="2026-11-01")
    assert result.success
    materialisations = result.asset_materializations_for_node("silver_daily")
    orders = next(m for m in materialisations if m.asset_key.path == ["silver", "orders"])
    assert orders.metadata["partition_row_count"].value == 5
    unmapped = next(
        m for m in materialisations if m.asset_key.path == ["silver", "unmapped_platform_names"]
    )
    assert unmapped.metadata["unmapped_revenue_yuan"].value == 0.0
