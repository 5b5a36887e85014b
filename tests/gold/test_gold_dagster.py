"""Gold in Dagster: dbt models as assets with checks, and a real gold run with readers."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.gold.conftest import write_tiny_silver


def test_definitions_show_the_dbt_assets_grouped_by_folder_with_checks() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {
        key.to_user_string(): graph.get(key).group_name
        for key in graph.get_all_asset_keys()
        if key.path[0] in ("gold", "warehouse")
    }
    assert groups["gold/member_360"] == "gold_member"
    assert groups["gold/stg_silver__orders"] == "gold_staging"
    assert groups["gold/int_orders_attributed"] == "gold_intermediate"
    assert groups["warehouse/analyst_warehouse"] == "gold_warehouse"
    parents = graph.get(dg.AssetKey(["gold", "stg_silver__orders"])).parent_keys
    assert parents == {dg.AssetKey(["silver", "orders"])}
    assert dg.AssetKey(["silver", "member_history"]) in graph.get_all_asset_keys()
    checks = {key.name for key in graph.asset_check_keys if key.asset_key.path[0] == "gold"}
    assert "unique_member_360_one_id" in checks
    warehouse = graph.get(dg.AssetKey(["warehouse", "analyst_warehouse"]))
    assert dg.AssetKey(["gold", "member_tag_history"]) in warehouse.parent_keys


@pytest.mark.slow
def test_a_gold_run_never_blocks_warehouse_readers(settings, tmp_path) -> None:
    """dbt build + warehouse refresh through Dagster while two processes query."""
    from dagster_dbt import DbtCliResource

    from bakehouse import warehouse
    from orchestration.defs.gold.assets import analyst_warehouse, gold_dbt
    from orchestration.defs.gold.project import dbt_project
    from orchestration.resources import LakehouseResource
    from tests.bakehouse.test_warehouse import start_readers, stop_readers

    write_tiny_silver(settings.layer("silver"))
    warehouse.refresh_views(settings)  # the analysts' file exists before the run
    con = warehouse.connect(settings)
    con.execute("select count(*) from silver.orders").fetchone()
    con.close()
    readers, stop, outputs = start_readers(settings, tmp_path, table="silver.orders")
    try:
        result = dg.materialize(
            [gold_dbt, analyst_warehouse],
            resources={
                "lakehouse": LakehouseResource(home=str(settings.home)),
                "dbt": DbtCliResource(
                    project_dir=dbt_project,
                    dbt_executable=str(Path(sys.executable).with_name("dbt")),
                ),
            },
            run_config={"ops": {"gold_dbt": {"config": {"as_of_date": "2026-11-04"}}}},
        )
    finally:
        results = stop_readers(readers, stop, outputs)
    assert result.success
    for ok, failed, errors in results:
        assert failed == 0, errors
        assert ok > 0
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)
    con = warehouse.connect(settings)
    assert con.execute("select count(*) from gold.member_360").fetchone() == (4,)
    con.close()
