"""The Dagster multi-asset materialises the silver identity tables with their metadata."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.identity.assets import oneid
from orchestration.resources import LakehouseResource


def test_oneid_asset_materialises_with_metadata(settings, write_bronze, make_member):
    write_bronze(
        "mp_members",
        [
            make_member("U1", card_no="M0000000001", phone="13800000001", unionid="oUn1"),
            make_member("U2", card_no="M0000000002", phone="13900000002"),
        ],
    )
    result = dg.materialize(
        [oneid], resources={"lakehouse": LakehouseResource(home=str(settings.home))}
    )
    assert result.success
    materialised = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    assert set(materialised) == {
        f"silver/{name}"
        for name in (
            "identity_map",
            "members",
            "pii_vault",
            "identity_audit",
            "identity_edges",
            "identity_links",
            "identity_shared",
            "identity_activity",
            "identity_phones",
            "identity_files",
            "identity_model",
            "identity_nights",
        )
    }
    metadata = materialised["silver/identity_map"]
    assert metadata["clusters"].value == 2
    assert metadata["identifiers"].value == 7
    assert (metadata["mode"].value, metadata["files"].value) == ("full", 1)
    assert {"merges", "splits"} <= set(metadata)

    # The next run has no new file: nothing to do, so nothing is materialized (the
    # lake's tables and their last materialization stand as they are).
    again = dg.materialize(
        [oneid], resources={"lakehouse": LakehouseResource(home=str(settings.home))}
    )
    assert again.success
    assert again.get_asset_materialization_events() == []


def test_weekly_full_rebuild_job_rebuilds_with_the_lake_write_tag(
    settings, write_bronze, make_member
):
    from bakehouse.config import LAKE_WRITE_TAGS
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("oneid_rebuild_sunday_0300_shanghai")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 3 * * 0", "Asia/Shanghai")
    job = defs.resolve_job_def("oneid_rebuild")
    assert LAKE_WRITE_TAGS.items() <= job.tags.items()

    write_bronze("mp_members", [make_member("U1", card_no="M0000000001", phone="13800000001")])
    resources = {"lakehouse": LakehouseResource(home=str(settings.home))}
    assert dg.materialize([oneid], resources=resources).success  # first night
    result = job.execute_in_process(resources=resources)
    assert result.success
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }["silver/identity_map"]
    # A nightly run would have had nothing to do; the rebuild reads every file again.
    assert (metadata["mode"].value, metadata["files"].value) == ("full", 1)
