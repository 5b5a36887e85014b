"""The weekly maintenance job: its schedule, and one run against a tiny lake."""

from __future__ import annotations

import dagster as dg
import pyarrow as pa

from bakehouse.config import LAKE_WRITE_TAGS, Settings
from bakehouse.lake import Lake
from orchestration.defs.maintenance.jobs import lake_maintenance_job
from orchestration.resources import LakehouseResource

APPENDS = 6


def test_maintenance_is_scheduled_weekly_on_sunday_morning_in_shanghai() -> None:
    from orchestration.definitions import defs

    schedule = defs.resolve_schedule_def("lake_maintenance_sunday_0400_shanghai")
    assert schedule.job_name == "lake_maintenance"
    assert schedule.cron_schedule == "0 4 * * 0"
    assert schedule.execution_timezone == "Asia/Shanghai"


def test_a_maintenance_run_compacts_every_table_and_reports_each(settings: Settings) -> None:
    lake = Lake(settings)
    for table in ("file_ledger", "pos_sales"):
        for batch in range(APPENDS):
            rows = pa.table({"source_file": [f"f{batch}"], "n": [batch]})
            lake.write_arrow(rows, "bronze", table)
    before = lake.read_polars("bronze", "file_ledger").sort("n")

    with dg.DagsterInstance.get() as instance:
        result = lake_maintenance_job.execute_in_process(
            instance=instance,
            resources={"lakehouse": LakehouseResource(home=str(settings.home))},
            run_config={"ops": {"maintain_lake_tables": {"config": {"retention_hours": 168}}}},
        )
        run = instance.get_run_by_id(result.run_id)
    assert result.success
    assert LAKE_WRITE_TAGS.items() <= run.tags.items()
    [output] = [e for e in result.all_node_events if e.is_successful_output]
    metadata = output.step_output_data.metadata
    assert metadata["tables"].value == 2 and metadata["retention_hours"].value == 168
    assert metadata["files_before"].value == 2 * APPENDS
    assert metadata["files_after"].value == 2
    per_table = {row.data["table"]: row.data for row in metadata["per_table"].value.records}
    assert set(per_table) == {"bronze.file_ledger", "bronze.pos_sales"}
    assert per_table["bronze.file_ledger"]["files_before"] == APPENDS
    assert per_table["bronze.file_ledger"]["files_after"] == 1
    assert lake.read_polars("bronze", "file_ledger").sort("n").equals(before)


def test_a_short_retention_fails_the_run_and_changes_nothing(settings: Settings) -> None:
    lake = Lake(settings)
    for batch in range(3):
        lake.write_arrow(pa.table({"n": [batch]}), "quarantine", "pos_sales")
    version = lake.version("quarantine", "pos_sales")
    with dg.DagsterInstance.get() as instance:
        result = lake_maintenance_job.execute_in_process(
            instance=instance,
            resources={"lakehouse": LakehouseResource(home=str(settings.home))},
            run_config={"ops": {"maintain_lake_tables": {"config": {"retention_hours": 1}}}},
            raise_on_error=False,
        )
    assert not result.success
    assert lake.version("quarantine", "pos_sales") == version
