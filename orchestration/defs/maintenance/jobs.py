"""The weekly maintenance job and its schedule: Sunday 04:00 in Asia/Shanghai.

Sunday 04:00 is after the 02:00 nightly run has usually finished and before the
Monday reports; if the nightly run is still going, the run queue holds this run until
it ends (both carry the lake-write tag). The logic is `bakehouse.maintenance`.
"""

import dagster as dg

from bakehouse.config import LAKE_WRITE_TAGS, LOCAL_TZ
from bakehouse.maintenance import (
    TableMaintenance,
    allow_short_retention_from_env,
    maintain_lake,
    retention_from_env,
)
from orchestration.partitions import LAKE_POOL
from orchestration.resources import LakehouseResource


class MaintenanceConfig(dg.Config):
    retention_hours: int | None = None
    """Hours of old versions to keep; unset: $BAKEHOUSE_VACUUM_RETENTION_HOURS, else 168."""
    allow_short_retention: bool = False
    """Allow a retention below the safe minimum; also $BAKEHOUSE_VACUUM_ALLOW_SHORT_RETENTION."""


_COLUMNS = {
    "table": "string",
    "files_before": "int",
    "files_after": "int",
    "files_compacted": "int",
    "files_vacuumed": "int",
    "bytes_removed": "int",
    "bytes_on_disk_before": "int",
    "bytes_on_disk_after": "int",
    "version_after": "int",
    "seconds": "float",
}


def maintenance_metadata(results: list[TableMaintenance], retention_hours: int) -> dict:
    """Totals, and one row per table, for the op's output metadata."""
    rows = [{column: r.as_row()[column] for column in _COLUMNS} for r in results]
    return {
        "tables": len(results),
        "retention_hours": retention_hours,
        "files_before": sum(r.files_before for r in results),
        "files_after": sum(r.files_after for r in results),
        "files_vacuumed": sum(r.files_vacuumed for r in results),
        "bytes_removed": sum(r.bytes_removed for r in results),
        "per_table": dg.MetadataValue.table(
            records=[dg.TableRecord(row) for row in rows],
            schema=dg.TableSchema(
                columns=[dg.TableColumn(name, kind) for name, kind in _COLUMNS.items()]
            ),
        ),
    }


@dg.op(
    out=dg.Out(dg.Nothing),
    pool=LAKE_POOL,
    description="OPTIMIZE (compaction) then VACUUM every Delta table under the lake.",
)
def maintain_lake_tables(
    context: dg.OpExecutionContext, config: MaintenanceConfig, lakehouse: LakehouseResource
):
    retention_hours = (
        retention_from_env() if config.retention_hours is None else config.retention_hours
    )

    def log_table(result: TableMaintenance) -> None:
        context.log.info(
            f"{result.name}: files {result.files_before} -> {result.files_after}, "
            f"{result.files_vacuumed} vacuumed ({result.bytes_removed:,} bytes), bytes on disk "
            f"{result.bytes_on_disk_before:,} -> {result.bytes_on_disk_after:,}"
        )

    results = maintain_lake(
        lakehouse.lake(),
        retention_hours=retention_hours,
        allow_short_retention=config.allow_short_retention or allow_short_retention_from_env(),
        on_table=log_table,
    )
    return dg.Output(None, metadata=maintenance_metadata(results, retention_hours))


@dg.job(
    name="lake_maintenance",
    tags=LAKE_WRITE_TAGS,
    description="Compact small files and vacuum old versions of every lake table.",
)
def lake_maintenance_job():
    maintain_lake_tables()


lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_sunday_0400_shanghai",
    job=lake_maintenance_job,
    cron_schedule="0 4 * * 0",
    execution_timezone=LOCAL_TZ,
    description="Weekly OPTIMIZE + VACUUM of every lake table (turn on with the nightly run).",
)
