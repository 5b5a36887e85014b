"""Which expected landing files are missing or came late: `bronze/feed_completeness`.

Each feed declares when its files are expected (`Feed.arrival`): one file per business
date ("daily"), one per open store per date ("per_store_daily", POS), or one per month
due with the month's first business date ("monthly", store costs). A business date D's
files are due on the morning of D+1 (Asia/Shanghai): the sources export overnight.
The spec allows a file to come up to 3 days late (`LATE_DAYS`); a file still missing
after that is an error, before that a warning.

Arrival is the file's modification time as the ledger recorded it when the file was
first seen (the earliest copy of its name). Open stores come from the latest
`bronze/erp_stores` snapshot dated on or before D (status 营业, opened by D); without
one, the stores that ever sent a POS file. Expectations begin with the first business
date on which at least two daily feeds sent files: an onboarding export alone (the
CRM's member base, dated the day before the first day) does not make every other feed
"missing" on its date, nor does a monthly file dated the 1st.

The table holds one row per expected file and checked date; each check replaces the
rows of the dates it checked (the run's dates and the `LATE_DAYS` before them, so a
late file's row turns from missing to late when it comes). A check that finds what
the table already says writes nothing, so re-running a night the same day adds no
Delta version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from bakehouse.config import LOCAL_TZ, Settings
from bakehouse.lake import Lake
from ingestion.common.arrow import sql_literal, to_arrow
from ingestion.common.ledger import DUPLICATE, Ledger
from ingestion.schemas import FEEDS, FEEDS_BY_NAME, Feed

TABLE = "feed_completeness"
LATE_DAYS = 3
COLUMNS: tuple[tuple[str, str], ...] = (
    ("business_date", "date"),
    ("feed", "string"),
    ("store_code", "string"),  # per-store feeds; null otherwise
    ("expected_file", "string"),  # path relative to landing/
    ("status", "string"),  # on_time | late | missing
    ("arrived_at", "timestamp"),  # first copy's modification time (UTC); null if missing
    ("days_late", "int"),  # arrived: days after due; missing: days overdue so far
    ("severity", "string"),  # ok | warning | error
    ("checked_at", "timestamp"),
)
_OPEN = "营业"
_TZ = ZoneInfo(LOCAL_TZ)


@dataclass(frozen=True)
class Expected:
    business_date: date
    feed: str
    store_code: str | None
    expected_file: str
    status: str
    arrived_at: datetime | None
    days_late: int
    severity: str


@dataclass
class Completeness:
    """The outcome of `check`: every expected file of the checked dates, worst first."""

    checked_dates: list[date]
    rows: list[Expected] = field(default_factory=list)
    dates_without_files: list[date] = field(default_factory=list)

    @property
    def missing(self) -> list[Expected]:
        return [r for r in self.rows if r.status == "missing"]

    @property
    def late(self) -> list[Expected]:
        return [r for r in self.rows if r.status == "late"]

    @property
    def errors(self) -> list[Expected]:
        return [r for r in self.rows if r.severity == "error"]

    def metadata(self) -> dict[str, object]:
        """Counts for a Dagster run's metadata (file names only, no personal data)."""
        return {
            "expected_files": len(self.rows),
            "missing_files": len(self.missing),
            "late_files": len(self.late),
            "missing_over_3_days": len(self.errors),
            "dates_without_files": ", ".join(d.isoformat() for d in self.dates_without_files),
        }


def expected_name(feed: Feed, business_date: date, store_code: str | None = None) -> str:
    """The landing path (relative) of the file `feed` sends for this date or store."""
    token = f"{business_date:%Y%m}" if feed.monthly else f"{business_date:%Y%m%d}"
    stem = feed.name if store_code is None else f"{feed.name}_{store_code}"
    extension = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}[feed.format]
    return f"{feed.source}/{stem}_{token}.{extension}"


def _due(business_date: date) -> date:
    return business_date + timedelta(days=1)


def _local_date(instant: datetime) -> date:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(_TZ).date()


def _first_arrivals(ledger_rows: Iterable[dict]) -> dict[str, datetime]:
    """Earliest modification time per landing name (every copy but duplicates counts)."""
    first: dict[str, datetime] = {}
    for row in ledger_rows:
        if row["status"] == DUPLICATE or row["file_mtime"] is None:
            continue
        name = row["source_file"]
        if name not in first or row["file_mtime"] < first[name]:
            first[name] = row["file_mtime"]
    return first


def _open_stores(lake: Lake, pos_names: Iterable[str]) -> Callable[[date], list[str]]:
    """A function date -> sorted open store codes on that date."""
    if lake.exists("bronze", "erp_stores"):
        stores = lake.read_polars(
            "bronze", "erp_stores", columns=["business_date", "store_code", "status", "opened_on"]
        )
    else:
        stores = pl.DataFrame()
    snapshot_dates = sorted(stores["business_date"].unique().to_list()) if len(stores) else []
    fallback = sorted({name.split("_")[2] for name in pos_names if name.count("_") >= 3})

    def on(day: date) -> list[str]:
        if not snapshot_dates:
            return fallback
        earlier = [d for d in snapshot_dates if d <= day]
        snapshot = earlier[-1] if earlier else snapshot_dates[0]
        rows = stores.filter(
            (pl.col("business_date") == snapshot)
            & (pl.col("status") == _OPEN)
            & (pl.col("opened_on").is_null() | (pl.col("opened_on") <= day))
        )
        return sorted(rows["store_code"].unique().to_list())

    return on


def check(
    settings: Settings,
    dates: Sequence[date],
    *,
    now: datetime | None = None,
    write: bool = True,
) -> Completeness:
    """Check the expected files of `dates` and the `LATE_DAYS` dates before each.

    `now` (default: the current time) decides how late a missing file is. With `write`,
    the rows replace those of the checked dates in `bronze/feed_completeness`. A checked
    date with no landing file at all is listed in `dates_without_files`. Dates before
    the lake's first full date (see the module doc), and dates not yet due, are not
    checked.
    """
    now = now or datetime.now(UTC)
    today = _local_date(now)
    lake = Lake(settings)
    ledger_rows = Ledger.load(lake).rows()
    arrivals = _first_arrivals(ledger_rows)
    dated = [r for r in ledger_rows if r["business_date"] is not None]
    start = _first_date(dated)
    wanted = {d - timedelta(days=k) for d in dates for k in range(LATE_DAYS + 1)}
    checked = sorted(d for d in wanted if start is not None and d >= start and _due(d) <= today)
    result = Completeness(checked)
    if not checked:
        return result
    open_stores = _open_stores(lake, [n for n in arrivals if n.startswith("pos/pos_sales_")])
    files_by_date: dict[date, int] = {}
    for row in dated:
        files_by_date[row["business_date"]] = files_by_date.get(row["business_date"], 0) + 1
    for day in checked:
        if not files_by_date.get(day):
            result.dates_without_files.append(day)
        for feed in FEEDS:
            for store, name in _expected_files(feed, day, open_stores):
                result.rows.append(_judge(feed, day, store, name, arrivals.get(name), today))
    result.rows.sort(key=_worst_first)
    if write:
        _write(lake, result, now)
    return result


def _first_date(dated: list[dict]) -> date | None:
    """The first business date with files of at least two daily feeds, if any."""
    feeds_by_date: dict[date, set[str]] = {}
    for row in dated:
        feed = FEEDS_BY_NAME.get(row["feed"] or "")
        if feed is not None and feed.arrival != "monthly":
            feeds_by_date.setdefault(row["business_date"], set()).add(feed.name)
    return min((d for d, feeds in feeds_by_date.items() if len(feeds) >= 2), default=None)


def _expected_files(
    feed: Feed, day: date, open_stores: Callable[[date], list[str]]
) -> list[tuple[str | None, str]]:
    if feed.arrival == "per_store_daily":
        return [(store, expected_name(feed, day, store)) for store in open_stores(day)]
    if feed.arrival == "monthly":
        return [(None, expected_name(feed, day))] if day.day == 1 else []
    if feed.arrival == "daily":
        return [(None, expected_name(feed, day))]
    raise ValueError(f"feed {feed.name}: unknown arrival {feed.arrival!r}")


def _judge(
    feed: Feed,
    day: date,
    store: str | None,
    name: str,
    arrived: datetime | None,
    today: date,
) -> Expected:
    if arrived is None:
        overdue = (today - _due(day)).days
        severity = "error" if overdue > LATE_DAYS else "warning"
        return Expected(day, feed.name, store, name, "missing", None, overdue, severity)
    days_late = max((_local_date(arrived) - _due(day)).days, 0)
    status, severity = ("late", "warning") if days_late else ("on_time", "ok")
    if days_late > LATE_DAYS:
        severity = "error"
    return Expected(day, feed.name, store, name, status, arrived, days_late, severity)


def _worst_first(row: Expected) -> tuple:
    rank = {"error": 0, "warning": 1, "ok": 2}[row.severity]
    return (rank, -row.days_late, row.business_date, row.expected_file)


def _write(lake: Lake, result: Completeness, now: datetime) -> None:
    frame = pl.DataFrame(
        [
            {
                "business_date": r.business_date,
                "feed": r.feed,
                "store_code": r.store_code,
                "expected_file": r.expected_file,
                "status": r.status,
                "arrived_at": r.arrived_at,
                "days_late": r.days_late,
                "severity": r.severity,
                "checked_at": now,
            }
            for r in result.rows
        ],
        schema={
            "business_date": pl.Date,
            "feed": pl.String,
            "store_code": pl.String,
            "expected_file": pl.String,
            "status": pl.String,
            "arrived_at": pl.Datetime("us", "UTC"),
            "days_late": pl.Int64,
            "severity": pl.String,
            "checked_at": pl.Datetime("us", "UTC"),
        },
    )
    if _unchanged(lake, frame, result.checked_dates):
        return  # a night re-run the same day: no new Delta version
    predicate = (
        "business_date IN ("
        + ", ".join(sql_literal(d.isoformat()) for d in result.checked_dates)
        + ")"
    )
    lake.write_arrow(
        to_arrow(frame, COLUMNS), "bronze", TABLE, mode="overwrite", predicate=predicate
    )


def _unchanged(lake: Lake, frame: pl.DataFrame, dates: list[date]) -> bool:
    """Whether the table already holds exactly these rows for these dates (bar checked_at)."""
    if not lake.exists("bronze", TABLE):
        return False
    columns = [name for name, _ in COLUMNS if name != "checked_at"]
    stored = lake.read_polars("bronze", TABLE, columns=columns).filter(
        pl.col("business_date").is_in(dates)
    )
    return stored.sort(columns).equals(frame.select(columns).sort(columns))


def read(settings: Settings, dates: Sequence[date] | None = None) -> pl.DataFrame:
    """`bronze/feed_completeness` (these business dates only, when given)."""
    lake = Lake(settings)
    if not lake.exists("bronze", TABLE):
        return pl.DataFrame(schema={name: pl.String for name, _ in COLUMNS})
    rows = lake.read_polars("bronze", TABLE)
    if dates is not None:
        rows = rows.filter(pl.col("business_date").is_in(sorted(set(dates))))
    return rows


__all__ = ["COLUMNS", "LATE_DAYS", "TABLE", "Completeness", "Expected", "check", "read"]
