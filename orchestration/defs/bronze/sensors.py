"""Watch landing/ and run bronze for the business dates that new files touch.

The cursor keeps the fingerprint (mtime and size: a stat, no read) of every file
changed within the last `RETENTION_DAYS`, plus that horizon. A file is new when its
fingerprint is not in the cursor and it changed after the horizon; a re-export has a
new mtime, so it shows again. Sources send files at most 3 days late, so a week of
fingerprints is ample and the cursor stays small however long landing/ grows. (A file
copied in with an old mtime preserved is not seen here; the nightly run and the CLI's
`ingest` of everything new still land it.)

One run request per business date, restricted to the feeds whose files changed; the
run key carries the files' fingerprints so that a re-export triggers a new run and an
unchanged file never does twice. A date new to the partition set is added with the
request. A file whose date is not a complete business date (today or later in
Asia/Shanghai, or before 2000) is logged and skipped, and kept out of the cursor: it is
looked at again on the next tick, and requested once its day has ended.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from ingestion.common.files import LandingFile, Readiness, discover, split_ready
from ingestion.schemas import FEEDS
from orchestration.defs.bronze.assets import asset_key
from orchestration.defs.bronze.jobs import bronze_job
from orchestration.partitions import business_dates, today_local, why_not_a_business_date
from orchestration.resources import LakehouseResource

RETENTION_DAYS = 7


@dataclass
class LandingCursor:
    horizon_ns: int = 0
    seen: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, cursor: str | None) -> "LandingCursor":
        if not cursor:
            return cls()
        state = json.loads(cursor)
        return cls(int(state["horizon_ns"]), dict(state["seen"]))

    def dump(self) -> str:
        return json.dumps({"horizon_ns": self.horizon_ns, "seen": self.seen}, sort_keys=True)


@dataclass(frozen=True)
class DateRequest:
    business_date: date
    feeds: tuple[str, ...]
    run_key: str


@dataclass(frozen=True)
class SkippedFile:
    relative: str
    reason: str


def plan_requests(
    files: list[LandingFile], cursor: LandingCursor, now: datetime
) -> tuple[list[DateRequest], LandingCursor, list[SkippedFile]]:
    """The run requests for files changed since the cursor, the next cursor, and the
    changed files skipped because their date is not a complete business date."""
    changed = [
        f
        for f in files
        if f.mtime_ns > cursor.horizon_ns and cursor.seen.get(f.relative) != f.fingerprint
    ]
    today = today_local(now)
    by_date: dict[date, list[LandingFile]] = defaultdict(list)
    skipped: list[SkippedFile] = []
    for landing_file in changed:
        business_date = landing_file.business_date
        if business_date is None:
            continue  # a name without a date: the ingest run reports it as rejected
        reason = why_not_a_business_date(business_date, today)
        if reason is None:
            by_date[business_date].append(landing_file)
        else:
            skipped.append(SkippedFile(landing_file.relative, reason))
    requests = []
    for business_date, date_files in sorted(by_date.items()):
        feeds = sorted(
            {
                feed.name
                for f in date_files
                for feed in ([f.feed] if f.feed else [x for x in FEEDS if x.source == f.source])
            }
        )
        digest = hashlib.sha256(
            "\n".join(sorted(f"{f.relative}@{f.fingerprint}" for f in date_files)).encode()
        ).hexdigest()[:16]
        requests.append(DateRequest(business_date, tuple(feeds), f"{business_date}:{digest}"))
    horizon_ns = int((now - timedelta(days=RETENTION_DAYS)).timestamp() * 1e9)
    waiting = {s.relative for s in skipped}
    next_cursor = LandingCursor(
        horizon_ns=max(horizon_ns, cursor.horizon_ns),
        seen={
            f.relative: f.fingerprint
            for f in files
            if f.mtime_ns > horizon_ns and f.relative not in waiting
        },
    )
    return requests, next_cursor, skipped


@dg.sensor(
    job=bronze_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,  # like the schedules: turn it on
    description="Runs bronze for the business dates of new, late or re-exported landing files.",
)
def bronze_landing_sensor(
    context: dg.SensorEvaluationContext, lakehouse: LakehouseResource
) -> dg.SensorResult:
    # A file still being written is left out (so not remembered): a later tick sees it.
    files, _ = split_ready(discover(lakehouse.settings.landing), Readiness.from_env())
    requests, next_cursor, skipped = plan_requests(
        files, LandingCursor.parse(context.cursor), datetime.now(UTC)
    )
    for skipped_file in skipped:
        context.log.info(f"skipped {skipped_file.relative}: {skipped_file.reason}")
    new_dates = sorted(
        {
            request.business_date.isoformat()
            for request in requests
            if not context.instance.has_dynamic_partition(
                business_dates.name, request.business_date.isoformat()
            )
        }
    )
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=request.run_key,
                partition_key=request.business_date.isoformat(),
                asset_selection=[asset_key(name) for name in request.feeds],
                tags={"bakehouse/trigger": "landing_sensor"},
            )
            for request in requests
        ],
        cursor=next_cursor.dump(),
        dynamic_partitions_requests=(
            [business_dates.build_add_request(new_dates)] if new_dates else []
        ),
    )
