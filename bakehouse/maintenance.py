"""Weekly table maintenance: compact small files and vacuum old versions of every table.

Nightly ingestion appends a few files per feed and rewrites the file ledger per batch,
and silver MERGEs rewrite files every night, so tables collect small files (slow scans)
and files that only old versions reference (disk). `maintain_lake` runs delta-rs'
OPTIMIZE (bin-packing compaction, data unchanged) and then VACUUM on every Delta table
under the lake, and reports what each one looked like before and after.

VACUUM deletes the files that versions older than the retention need: time travel
further back than the retention stops working, and a reader or writer that started
before the vacuum and still needs such a file fails. The retention therefore defaults
to Delta's own (7 days) and is never shorter than the table's
`delta.deletedFileRetentionDuration` unless `allow_short_retention` says so.

Pinned versions (`bakehouse.warehouse.pinned_versions`: the analyst warehouse's views
and any BI pin file) are never broken: when VACUUM would delete a file that a pinned
version reads, the table is compacted but not vacuumed this time, and the result says
why (`vacuum_skipped`). The next warehouse refresh moves the pins forward.

The Dagster job (`orchestration.defs.maintenance`) and `bakehouse maintain` both call
`maintain_lake`; runs that write the lake are serialized by the Dagster run queue.

The guard (`lake_writers_in_progress`) is what the CLI, which the run queue does not
hold back, checks before it writes: Dagster runs that write the lake and are in
progress. A run whose process is gone (a kill, a crash, a reboot) stays "started" in
Dagster forever; every run records its process id, the process's start time and the
host (`record_run_process`), so a run recorded on this host whose process no longer
exists, or whose PID now belongs to a process started at another time, is marked
failed and no longer blocks. A run the check cannot decide (another host, no process
recorded yet) still blocks; `--force` is for those.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deltalake import DeltaTable

from bakehouse.config import LAKE_WRITE_TAGS, LAYERS
from bakehouse.lake import Lake

if TYPE_CHECKING:
    import dagster as dg

DEFAULT_RETENTION_HOURS = 168
RETENTION_ENV = "BAKEHOUSE_VACUUM_RETENTION_HOURS"
ALLOW_SHORT_RETENTION_ENV = "BAKEHOUSE_VACUUM_ALLOW_SHORT_RETENTION"
# Delta's default for a table that does not set delta.deletedFileRetentionDuration.
DELTA_DEFAULT_RETENTION_HOURS = 168.0
_TRUE = {"1", "true", "yes", "on"}
_HOURS_PER_UNIT = {
    "week": 168.0,
    "day": 24.0,
    "hour": 1.0,
    "minute": 1 / 60,
    "second": 1 / 3600,
    "millisecond": 1 / 3_600_000,
    "microsecond": 1 / 3_600_000_000,
}


class MaintenanceError(ValueError):
    """Maintenance that would be unsafe or is misconfigured; nothing was changed."""


@dataclass(frozen=True)
class TableMaintenance:
    """One table before and after: files a reader opens, and what is on disk."""

    layer: str
    table: str
    version_before: int
    version_after: int
    files_before: int
    files_after: int
    files_compacted: int
    files_vacuumed: int
    bytes_removed: int
    """Bytes of the files VACUUM deleted."""
    bytes_on_disk_before: int
    bytes_on_disk_after: int
    """Data files on disk after compaction added its files and VACUUM deleted old ones."""
    seconds: float
    vacuum_skipped: str | None = None
    """Why VACUUM did not run (files of a pinned version would have gone), else None."""

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"

    def as_row(self) -> dict[str, object]:
        return {**asdict(self), "table": self.name}


def retention_from_env(environ: Mapping[str, str] | None = None) -> int:
    """The vacuum retention in hours: `BAKEHOUSE_VACUUM_RETENTION_HOURS`, default 168."""
    value = (os.environ if environ is None else environ).get(RETENTION_ENV, "").strip()
    if not value:
        return DEFAULT_RETENTION_HOURS
    try:
        hours = int(value)
    except ValueError:
        raise MaintenanceError(f"{RETENTION_ENV} must be whole hours, got {value!r}") from None
    if hours < 0:
        raise MaintenanceError(f"{RETENTION_ENV} must not be negative, got {hours}")
    return hours


def allow_short_retention_from_env(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(ALLOW_SHORT_RETENTION_ENV, "")
    return value.strip().lower() in _TRUE


def minimum_retention_hours(table: DeltaTable) -> float:
    """The table's `delta.deletedFileRetentionDuration` in hours (Delta's default: 168)."""
    configured = table.metadata().configuration.get("delta.deletedFileRetentionDuration")
    if configured is None:
        return DELTA_DEFAULT_RETENTION_HOURS
    match = re.fullmatch(r"\s*interval\s+(\d+)\s+([a-z]+?)s?\s*", configured.lower())
    if match is None or match.group(2) not in _HOURS_PER_UNIT:
        raise MaintenanceError(f"cannot read delta.deletedFileRetentionDuration {configured!r}")
    return int(match.group(1)) * _HOURS_PER_UNIT[match.group(2)]


def _data_files(table_path: Path) -> dict[Path, int]:
    """Data files on disk and their sizes (the Delta log is not vacuumed: left out)."""
    return {
        path: path.stat().st_size
        for path in table_path.rglob("*")
        if path.is_file() and "_delta_log" not in path.relative_to(table_path).parts
    }


def _check_retention(
    lake: Lake, tables: list[tuple[str, str]], retention_hours: int, allow_short: bool
) -> None:
    if retention_hours < 0:
        raise MaintenanceError(f"retention must not be negative, got {retention_hours} h")
    if allow_short:
        return
    minimums = {
        (layer, table): minimum_retention_hours(DeltaTable(lake.path(layer, table)))
        for layer, table in tables
    }
    too_short = [
        f"{layer}.{table} ({minimum:g} h)"
        for (layer, table), minimum in minimums.items()
        if retention_hours < minimum
    ]
    if too_short:
        raise MaintenanceError(
            f"a vacuum retention of {retention_hours} h is shorter than the tables' safe "
            f"minimum: {', '.join(too_short)}. Time travel and running readers could lose "
            f"files; set {ALLOW_SHORT_RETENTION_ENV}=true (or --allow-short-retention) "
            "only when nothing else uses the lake."
        )


def _relative(table_path: Path, uri: str) -> str:
    """A data file's path relative to its table, from an absolute URI or a relative path."""
    path = uri.removeprefix("file://")
    if not os.path.isabs(path):
        return path
    return str(Path(path).resolve().relative_to(table_path.resolve()))


def pinned_files(table_path: Path, versions: Iterable[int]) -> set[str] | None:
    """Data files (relative to the table) that these versions read; None if unknowable.

    A pinned version whose log entries are gone cannot be listed: the caller must then
    assume any file may be pinned.
    """
    files: set[str] = set()
    for version in versions:
        try:
            uris = DeltaTable(str(table_path), version=version).file_uris()
        except Exception:  # delta-rs raises several types for a version it cannot load
            return None
        files.update(_relative(table_path, uri) for uri in uris)
    return files


def _pinned_conflict(table_path: Path, pinned: set[int], retention_hours: int) -> str | None:
    """Why vacuuming now would delete a pinned version's file, or None if it would not."""
    if not pinned:
        return None
    needed = pinned_files(table_path, pinned)
    if needed is None:
        return f"pinned version(s) {sorted(pinned)} can no longer be listed"
    candidates = DeltaTable(str(table_path)).vacuum(
        retention_hours=retention_hours, dry_run=True, enforce_retention_duration=False
    )
    doomed = {_relative(table_path, uri) for uri in candidates} & needed
    if doomed:
        return f"{len(doomed)} file(s) of pinned version(s) {sorted(pinned)} would be deleted"
    return None


def maintain_table(
    lake: Lake,
    layer: str,
    table: str,
    retention_hours: int,
    pinned: set[int] | None = None,
) -> TableMaintenance:
    """Compact one table, then vacuum it unless that deletes files of a `pinned` version.

    The retention is not checked here.
    """
    started = time.perf_counter()
    table_path = Path(lake.path(layer, table))
    before = DeltaTable(str(table_path))
    version_before, files_before = before.version(), len(before.file_uris())
    on_disk_before = _data_files(table_path)
    compaction = lake.optimize(layer, table)
    before_vacuum = _data_files(table_path)
    skipped = _pinned_conflict(table_path, pinned or set(), retention_hours)
    vacuumed = [] if skipped else lake.vacuum(layer, table, retention_hours)
    on_disk_after = _data_files(table_path)
    after = DeltaTable(str(table_path))
    return TableMaintenance(
        layer=layer,
        table=table,
        version_before=version_before,
        version_after=after.version(),
        files_before=files_before,
        files_after=len(after.file_uris()),
        files_compacted=int(compaction.get("numFilesRemoved", 0)),
        files_vacuumed=len(vacuumed),
        bytes_removed=sum(
            size for path, size in before_vacuum.items() if path not in on_disk_after
        ),
        bytes_on_disk_before=sum(on_disk_before.values()),
        bytes_on_disk_after=sum(on_disk_after.values()),
        seconds=time.perf_counter() - started,
        vacuum_skipped=skipped,
    )


def maintain_lake(
    lake: Lake,
    *,
    retention_hours: int = DEFAULT_RETENTION_HOURS,
    allow_short_retention: bool = False,
    layers: Iterable[str] = LAYERS,
    on_table: Callable[[TableMaintenance], None] | None = None,
) -> list[TableMaintenance]:
    """Compact and vacuum every Delta table of these layers, one table after another.

    The retention is checked against every table before any is touched, so a
    too-short retention changes nothing.
    """
    tables = [(layer, table) for layer in layers for table in lake.tables(layer)]
    _check_retention(lake, tables, retention_hours, allow_short_retention)
    from bakehouse.warehouse import pinned_versions

    pins = pinned_versions(lake.settings)
    results = []
    for layer, table in tables:
        pinned = pins.get(str(Path(lake.path(layer, table)).resolve()), set())
        result = maintain_table(lake, layer, table, retention_hours, pinned)
        results.append(result)
        if on_table is not None:
            on_table(result)
    return results


# -- the lake-writer guard -----------------------------------------------------------
PID_TAG = "bakehouse/pid"
PID_STARTED_TAG = "bakehouse/pid_started_at"
HOST_TAG = "bakehouse/host"
LAKE_POOL_TAG = ".dagster/pool/bakehouse_lake"  # Dagster's run tag for the lake pool
# psutil's create_time is a float of seconds; the same process reads back equal, but
# allow for rounding through the tag's text.
_START_TIME_TOLERANCE_SECONDS = 0.5


def _process_start_time(pid: int) -> float | None:
    """The start time (epoch seconds) of process `pid` on this machine, None if none."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # exists, owned by someone else: not ours to judge
        return -1.0


def record_run_process(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run with this process's PID, start time and host."""
    pid = os.getpid()
    instance.add_run_tags(
        run_id,
        {
            PID_TAG: str(pid),
            PID_STARTED_TAG: repr(_process_start_time(pid)),
            HOST_TAG: socket.gethostname(),
        },
    )


def run_process_gone(tags: Mapping[str, str]) -> str | None:
    """Why the run's process is certainly gone, or None if it may be alive (or unknown).

    Raises nothing: tags that cannot be read mean "cannot decide".
    """
    if tags.get(HOST_TAG) != socket.gethostname() or PID_TAG not in tags:
        return None
    try:
        pid = int(tags[PID_TAG])
        recorded = float(tags[PID_STARTED_TAG])
    except (KeyError, ValueError):
        return None
    started = _process_start_time(pid)
    if started is None:
        return f"its process {pid} on {tags[HOST_TAG]} is gone"
    if started >= 0 and abs(started - recorded) > _START_TIME_TOLERANCE_SECONDS:
        return f"its process {pid} on {tags[HOST_TAG]} is gone (the PID now belongs to another)"
    return None


@dataclass
class WriterCheck:
    """Lake-writing runs in progress (`blocking`, short ids) and the dead ones marked
    failed by this check (`recovered`, one line each)."""

    blocking: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)


def lake_writers_in_progress(instance: dg.DagsterInstance) -> WriterCheck:
    """The instance's lake-writing runs in progress, after failing the dead ones.

    A lake writer is a run with the lake-write tag or an op in the lake pool (the
    hidden asset job's runs carry no job tags). Source: the instance's run storage and
    the process table (psutil).
    """
    import dagster as dg

    in_progress = [
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    runs = {
        run.run_id: run
        for tags in (LAKE_WRITE_TAGS, {LAKE_POOL_TAG: "true"})
        for run in instance.get_runs(dg.RunsFilter(tags=tags, statuses=in_progress))
    }
    check = WriterCheck()
    for run_id, run in sorted(runs.items()):
        reason = run_process_gone(run.tags)
        if reason is None:
            check.blocking.append(run_id[:8])
            continue
        message = f"marked run {run_id[:8]} ({run.job_name}) failed: {reason}"
        instance.report_run_failed(run, message)
        check.recovered.append(message)
    return check
