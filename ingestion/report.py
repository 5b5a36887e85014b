"""What a run did, per feed, and the same table recomputed from the ledger for any dates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import polars as pl

from bakehouse.config import Settings
from bakehouse.lake import Lake
from ingestion.common.files import (
    LandingFile,
    Readiness,
    Waiting,
    contract_problems,
    discover,
    in_scope,
    split_ready,
)
from ingestion.common.ledger import DUPLICATE, LANDED, REJECTED, SUPERSEDED, Ledger
from ingestion.schemas import FEEDS_BY_NAME


@dataclass
class FeedSummary:
    """One feed's line in the report. `unchanged` counts files skipped as already ingested."""

    feed: str
    files: int = 0
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rejected: int = 0
    duplicates: int = 0
    superseded: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file in a run (its ledger row, in short)."""

    source_file: str
    feed: str | None
    business_date: date | None
    status: str
    reason: str | None
    notes: tuple[str, ...]
    rows_read: int
    rows_landed: int
    rows_quarantined: int
    superseded: int = 0  # how many older copies of the name this copy replaced


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(FeedSummary))


@dataclass
class IngestReport:
    """The outcome of `ingestion.ingest`: per-feed summaries and every file's outcome."""

    batch_id: str
    feeds: dict[str, FeedSummary] = field(default_factory=dict)
    files: list[FileOutcome] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)  # maybe still being written

    columns = COLUMNS

    def summary(self, feed: str) -> FeedSummary:
        return self.feeds.setdefault(feed, FeedSummary(feed))

    def add(self, outcome: FileOutcome, label: str) -> None:
        self.files.append(outcome)
        _count(
            self.summary(label),
            outcome.status,
            outcome.rows_read,
            outcome.rows_landed,
            outcome.rows_quarantined,
        )
        self.summary(label).superseded += outcome.superseded

    def skip(self, label: str) -> None:
        self.summary(label).unchanged += 1

    def to_rows(self) -> list[tuple[str, ...]]:
        """One tuple of strings per feed (sorted), ready for `rich.table.Table.add_row`."""
        return _rows(self.feeds.values())

    @property
    def totals(self) -> FeedSummary:
        return _total(self.feeds.values())


def _count(summary: FeedSummary, status: str, read: int, landed: int, quarantined: int) -> None:
    summary.files += 1
    summary.rows_read += read
    summary.rows_landed += landed
    summary.rows_quarantined += quarantined
    if status == REJECTED:
        summary.rejected += 1
    elif status == DUPLICATE:
        summary.duplicates += 1


def _total(summaries: Iterable[FeedSummary]) -> FeedSummary:
    total = FeedSummary("total")
    for summary in summaries:
        for f in fields(FeedSummary)[1:]:
            setattr(total, f.name, getattr(total, f.name) + getattr(summary, f.name))
    return total


def _rows(summaries: Iterable[FeedSummary]) -> list[tuple[str, ...]]:
    ordered = sorted(summaries, key=lambda s: s.feed)
    return [tuple(str(getattr(s, name)) for name in COLUMNS) for s in ordered]


def feed_label(feed: str | None, source: str) -> str:
    """Files no feed recognises are reported under their folder."""
    return feed if feed is not None else f"{source}/(unknown)"


def summary(settings: Settings, dates: Sequence[date] | None = None) -> list[FeedSummary]:
    """The per-feed table for these business dates (all when None), from the ledger.

    Files count once per name (the copy that counts now); `superseded` counts the older
    copies those replaced. Rows are those of the current copies. Monthly files count
    under every date of their month, as runs see them.
    """
    ledger = Ledger.load(Lake(settings))
    wanted = set(dates) if dates is not None else None
    summaries: dict[str, FeedSummary] = {}
    for row in ledger.rows():
        if wanted is not None and not _dated_in(row, wanted):
            continue
        label = feed_label(row["feed"], row["source"])
        feed_summary = summaries.setdefault(label, FeedSummary(label))
        if row["status"] == SUPERSEDED:
            feed_summary.superseded += 1
            continue
        _count(
            feed_summary,
            row["status"],
            row["rows_read"] or 0,
            row["rows_landed"] or 0,
            row["rows_quarantined"] or 0,
        )
    return sorted(summaries.values(), key=lambda s: s.feed)


def _dated_in(row: dict[str, Any], wanted: set[date]) -> bool:
    business_date = row["business_date"]
    if business_date is None:
        return False
    if business_date in wanted:
        return True
    feed = FEEDS_BY_NAME.get(row["feed"] or "")
    return bool(
        feed
        and feed.monthly
        and any((d.year, d.month) == (business_date.year, business_date.month) for d in wanted)
    )


def summary_rows(summaries: Iterable[FeedSummary]) -> list[tuple[str, ...]]:
    """`summary()`'s result as rich-table rows, like `IngestReport.to_rows`."""
    return _rows(summaries)


__all__ = [
    "COLUMNS",
    "LANDED",
    "FeedSummary",
    "FileOutcome",
    "IngestReport",
    "summary",
    "summary_rows",
]


@dataclass(frozen=True)
class Problem:
    """One kind of bad source data in a run: what, where, how much, and why."""

    feed: str
    kind: str  # quarantined rows | rejected file | duplicate file
    reason: str
    count: int
    example: str  # a file it happened in


def problems(settings: Settings, dates: Sequence[date] | None = None) -> list[Problem]:
    """Quarantine reasons and rejected or duplicate files for these dates, worst first."""
    lake = Lake(settings)
    wanted = set(dates) if dates is not None else None
    found: list[Problem] = []
    for row in Ledger.load(lake).rows():
        if row["status"] in (REJECTED, DUPLICATE) and (
            wanted is None or _dated_in(row, wanted) or row["business_date"] is None
        ):
            kind = "rejected file" if row["status"] == REJECTED else "duplicate file"
            label = feed_label(row["feed"], row["source"])
            reason = row["reason"] or ""
            if (row["notes"] or "").startswith("expected "):  # a misnamed file: what it should be
                reason = f"{reason}; {row['notes']}"
            found.append(Problem(label, kind, reason, 1, row["source_file"]))
    for table in lake.tables("quarantine"):
        rows = lake.read_polars("quarantine", table)
        if wanted is not None:
            rows = rows.filter(pl.col("business_date").is_in(sorted(wanted)))
        grouped = rows.group_by("reason_code").agg(
            pl.len().alias("count"), pl.col("source_file").min().alias("example")
        )
        for reason, count, example in grouped.iter_rows():
            found.append(Problem(table, "quarantined rows", reason, count, example))
    return sorted(found, key=lambda p: (-p.count, p.feed, p.reason))


@dataclass(frozen=True)
class Notice:
    """One line about the landing folder for the night's summary."""

    severity: str  # warning | error
    message: str


def landing_notices(
    settings: Settings,
    dates: Sequence[date],
    *,
    now: datetime | None = None,
    readiness: Readiness | None = None,
    check_completeness: bool = True,
) -> list[Notice]:
    """What the summary says about landing/ after a run of these dates, errors first.

    Dates with no file at all; expected files missing (an error after 3 days) or that
    came late (`ingestion.completeness.check`, which also writes
    `bronze/feed_completeness`); files still being written (`Readiness`, default from
    the environment); files in unknown folders, outside the source folders or in their
    sub-folders, with the closest expected pattern. (A misnamed file inside a source
    folder is rejected in the ledger and shown by `problems`.)
    """
    from ingestion import completeness

    notices: list[Notice] = []
    if check_completeness:
        result = completeness.check(settings, dates, now=now)
        for day in result.dates_without_files:
            notices.append(Notice("warning", f"{day}: no landing files at all"))
        for row in result.missing:
            notices.append(
                Notice(
                    row.severity,
                    f"missing landing/{row.expected_file}: {_days(row.days_late)} overdue"
                    + (" (the spec allows 3)" if row.severity == "error" else ""),
                )
            )
        for row in result.late:
            notices.append(
                Notice(
                    row.severity, f"late landing/{row.expected_file}: {_days(row.days_late)} late"
                )
            )
    landing_files = [f for f in discover(settings.landing) if in_scope(f, dates, None)]
    _, waiting = split_ready(
        landing_files,
        readiness or Readiness.from_env(),
        now=None if now is None else now.timestamp(),
    )
    for item in waiting:
        notices.append(
            Notice("warning", f"waiting landing/{item.relative}: {item.reason}; not landed yet")
        )
    for problem in contract_problems(settings.landing):
        if problem.kind != "unknown_file_name":
            notices.append(Notice("warning", f"ignored {problem.message}"))
    # Before completeness has a baseline (a fresh lake), a date with no file is still said.
    dated = {f.business_date for f in landing_files if f.feed is not None and not _monthly(f)}
    said = {n.message for n in notices}
    for day in sorted(set(dates) - dated):
        message = f"{day}: no landing files at all"
        if message not in said:
            notices.append(Notice("warning", message))
    return sorted(notices, key=_priority)


def _monthly(landing_file: LandingFile) -> bool:
    return landing_file.feed is not None and landing_file.feed.arrival == "monthly"


def _priority(notice: Notice) -> tuple[int, int]:
    """Few and actionable first: files ignored or waiting, dates without files; then
    errors, then the rest (a long list of overdue files must not hide them)."""
    first = ("ignored ", "waiting ")
    urgent = notice.message.startswith(first) or notice.message.endswith("no landing files at all")
    return (0 if urgent else 1, 0 if notice.severity == "error" else 1)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
