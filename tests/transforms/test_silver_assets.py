"""The silver Dagster asset: built from the transforms' table spec, unpartitioned and
ledger-driven, and one real materialisation per night on a tiny lake."""

import datetime as dt

import dagster as dg
import pyarrow as pa
from silver_testkit import land, scenario_night

from ingestion.common.ledger import LEDGER_SCHEMA
from orchestration.defs.silver import defs
from orchestration.defs.silver.assets import silver
from orchestration.partitions import LAKE_POOL
from orchestration.resources import LakehouseResource
from transforms.build import SILVER_TABLES
from transforms.pipeline import DAILY_TABLES, MASTER_TABLES


def test_the_spec_lists_every_silver_table_once():
    # member_history is built beside the masters (transforms/members), from every CRM version
    expected = (*MASTER_TABLES, *DAILY_TABLES, "member_history")
    assert sorted(SILVER_TABLES) == sorted(expected)
    assert {t for t, spec in SILVER_TABLES.items() if spec.daily} == set(DAILY_TABLES)


def test_silver_assets_are_built_from_the_spec():
    with_resources = dg.Definitions.merge(
        defs, dg.Definitions(resources={"lakehouse": LakehouseResource()})
    )
    graph = with_resources.get_repository_def().asset_graph
    silver_keys = {k for k in graph.get_all_asset_keys() if k.path[0] == "silver"}
    assert silver_keys == {dg.AssetKey(["silver", t]) for t in SILVER_TABLES}
    for name, table in SILVER_TABLES.items():
        node = graph.get(dg.AssetKey(["silver", name]))
        assert node.partitions_def is None and node.group_name == "silver"
        assert node.parent_keys == {dg.AssetKey(["bronze", s]) for s in table.inputs}
        assert node.metadata["grain"] == ", ".join(table.grain)
    assert silver.op.pool == LAKE_POOL


def _ledger(lake, files: list[str], batch_id: str) -> None:
    """The file ledger rows ingestion would have written for these landed files."""
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    rows = [
        {
            "source_file": name,
            "source": name.split("/")[0],
            "status": "landed",
            "batch_id": batch_id,
            "ingested_at": now,
        }
        for name in files
    ]
    lake.write_arrow(pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA), "bronze", "file_ledger")


def _materialisations(result) -> dict[str, dict]:
    return {
        m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node("silver")
    }


def test_each_run_rebuilds_what_the_ledger_says_and_a_rerun_finds_nothing(settings, lake, spark):
    resources = {"lakehouse": LakehouseResource(home=str(settings.home))}
    _ledger(lake, land(lake, spark, scenario_night(1)), "night-1")
    first = dg.materialize([silver], resources=resources)
    assert first.success
    built = _materialisations(first)
    assert set(built) == set(SILVER_TABLES)
    assert built["orders"]["build_mode"].value == "full"
    assert built["orders"]["row_count"].value == 5

    again = dg.materialize([silver], resources=resources)  # nothing new in the ledger
    assert again.success and _materialisations(again) == {}

    _ledger(lake, land(lake, spark, scenario_night(2)), "night-2")
    second = dg.materialize([silver], resources=resources)
    built = _materialisations(second)
    values = {t: {k: v.value for k, v in m.items()} for t, m in built.items()}
    # night 2 re-exports a till file of 11-01 and lands 11-02 (silver_testkit)
    assert values["orders"] == {
        "build_mode": "incremental",
        "changed_files": 5,
        "row_count": 9,
        "rebuilt_dates": "2026-11-01, 2026-11-02",
        "rebuilt_date_count": 2,
        "store_conflicts": "-",
    }
    assert values["vouchers"]["rebuilt_dates"] == "2026-11-01"
    assert values["inventory_daily"]["rebuilt_dates"] == "-"
    assert values["stores"] == {
        "build_mode": "incremental",
        "changed_files": 5,
        "row_count": 2,
        "store_conflicts": "-",
    }
