"""The bronze Dagster assets and landing sensor, against a temp home."""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from bakehouse.config import Settings
from ingestion.schemas import FEEDS
from orchestration.defs.bronze import defs as bronze_defs
from orchestration.defs.bronze.assets import BRONZE_ASSETS, asset_key
from orchestration.defs.bronze.sensors import LandingCursor, bronze_landing_sensor
from orchestration.defs.ledger.assets import LEDGER_KEY
from orchestration.partitions import BUSINESS_DATES, LAKE_POOL, business_dates, today_local
from orchestration.resources import LakehouseResource
from tests.ingestion.conftest import POS_FILE, POS_ROW, pos_text, read_table

COMPLETENESS_KEY = dg.AssetKey(["bronze", "feed_completeness"])


def test_definitions_load_with_one_asset_per_feed() -> None:
    from orchestration.definitions import defs

    repository = defs.get_repository_def()
    keys = {key for key in repository.asset_graph.get_all_asset_keys() if key.path[0] == "bronze"}
    # One per feed, the ledger, and bronze/feed_completeness after them.
    assert keys == {asset_key(feed.name) for feed in FEEDS} | {LEDGER_KEY, COMPLETENESS_KEY}
    assert len(BRONZE_ASSETS) == 14
    for asset in BRONZE_ASSETS:
        assert asset.partitions_def == business_dates
        assert asset.op.pool == LAKE_POOL
    assert repository.get_job("bronze_job") is not None
    assert bronze_defs.sensors


def test_materialize_one_bronze_asset_for_one_partition(sample_home: Settings) -> None:
    pos_asset = next(a for a in BRONZE_ASSETS if a.key == asset_key("pos_sales"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BUSINESS_DATES, ["2026-11-01"])
        result = dg.materialize(
            [pos_asset],
            partition_key="2026-11-01",
            resources={"lakehouse": LakehouseResource(home=str(sample_home.home))},
            instance=instance,
        )
    assert result.success
    metadata = result.asset_materializations_for_node("bronze__pos_sales")[0].metadata
    assert metadata["files"].value == 5
    assert metadata["rows_landed"].value == 442  # the five sample files of that day
    assert metadata["rows_quarantined"].value == 0
    preview = metadata["preview"].value
    assert preview.count("\n") <= 6 and "| store_code |" in preview
    bronze = read_table(sample_home, "bronze", "pos_sales")
    assert set(bronze["business_date"]) == {date(2026, 11, 1)}


def test_sensor_requests_each_touched_date_once_and_again_on_re_export(
    settings: Settings, landing
) -> None:
    path = landing(POS_FILE, pos_text(POS_ROW).encode("gbk"))
    landing("pos/pos_sales_SH102_20261120.csv", pos_text(POS_ROW).encode("gbk"))
    landing("erp/erp_store_costs_202611.csv", "月份,门店编码\n", encoding="gbk")
    resources = {"lakehouse": LakehouseResource(home=str(settings.home))}
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources)
        first = bronze_landing_sensor(context)
        by_partition = {r.partition_key: r for r in first.run_requests}
        assert set(by_partition) == {"2026-11-21", "2026-11-20", "2026-11-01"}
        # the dates join the partition set with their first file
        [added] = first.dynamic_partitions_requests
        assert added.partitions_def_name == BUSINESS_DATES
        assert sorted(added.partition_keys) == ["2026-11-01", "2026-11-20", "2026-11-21"]
        instance.add_dynamic_partitions(BUSINESS_DATES, list(added.partition_keys))
        assert by_partition["2026-11-01"].asset_selection == [asset_key("erp_store_costs")]
        assert by_partition["2026-11-21"].asset_selection == [asset_key("pos_sales")]

        context = dg.build_sensor_context(
            instance=instance, resources=resources, cursor=first.cursor
        )
        quiet = bronze_landing_sensor(context)
        assert quiet.run_requests == []

        path.write_bytes(pos_text(POS_ROW, POS_ROW).encode("gbk"))  # re-export
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        context = dg.build_sensor_context(
            instance=instance, resources=resources, cursor=quiet.cursor
        )
        again = bronze_landing_sensor(context)
        assert [r.partition_key for r in again.run_requests] == ["2026-11-21"]
        assert again.run_requests[0].run_key != by_partition["2026-11-21"].run_key
        assert again.dynamic_partitions_requests == []  # known already


def test_sensor_logs_and_skips_dates_that_are_not_business_dates_yet(
    settings: Settings, landing
) -> None:
    """Today's file (day not over in Shanghai) and a future one: skipped, logged, and
    looked at again later; the other files still run."""
    today = today_local()
    later = today + timedelta(days=3)
    landing(f"pos/pos_sales_SH101_{today:%Y%m%d}.csv", pos_text(POS_ROW).encode("gbk"))
    landing(f"pos/pos_sales_SH101_{later:%Y%m%d}.csv", pos_text(POS_ROW).encode("gbk"))
    landing("pos/pos_sales_SH102_20261120.csv", pos_text(POS_ROW).encode("gbk"))
    resources = {"lakehouse": LakehouseResource(home=str(settings.home))}
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources)
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append
        context.log.addHandler(handler)  # what the UI's sensor tick log shows
        result = bronze_landing_sensor(context)
        assert [r.partition_key for r in result.run_requests] == ["2026-11-20"]
        [added] = result.dynamic_partitions_requests
        assert list(added.partition_keys) == ["2026-11-20"]
        skipped = [r.getMessage() for r in records if "skipped" in r.getMessage()]
        assert len(skipped) == 2
        assert any(f"pos_sales_SH101_{today:%Y%m%d}.csv" in m for m in skipped)
        assert any(f"business date {later} is not over yet" in m for m in skipped)
        cursor = LandingCursor.parse(result.cursor)
        assert set(cursor.seen) == {"pos/pos_sales_SH102_20261120.csv"}  # the others wait


def test_cursor_keeps_only_recent_fingerprints() -> None:
    cursor = LandingCursor(horizon_ns=5, seen={"pos/a.csv": "1:2"})
    assert LandingCursor.parse(cursor.dump()) == cursor
    assert LandingCursor.parse(None) == LandingCursor()
    assert datetime.now(UTC).year >= 2024
