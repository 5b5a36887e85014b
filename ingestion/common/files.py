"""Finding landing files and what the contract says about each one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.schemas import FEEDS, FEEDS_BY_NAME, SOURCES, Feed, feed_for_file

# Exporters write under a temporary name and rename; a file still being written is
# not ours yet.
_IN_FLIGHT_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
_ANY_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


@dataclass(frozen=True)
class LandingFile:
    """One file under landing/, as found on disk (not yet read)."""

    path: Path
    relative: str  # e.g. "pos/pos_sales_SH001_20261121.csv" (always '/'-separated)
    source: str
    feed: Feed | None  # None: the name matches no feed of its folder
    business_date: date | None
    size: int
    mtime_ns: int
    bad_name_date: bool = False  # the name matches a feed but its date is not a date

    @property
    def fingerprint(self) -> str:
        """Cheap change detector (no read): what the sensor compares between ticks."""
        return f"{self.mtime_ns}:{self.size}"


def parse_file_date(token: str, *, monthly: bool) -> date | None:
    try:
        if monthly:
            return date(int(token[:4]), int(token[4:6]), 1)
        return date(int(token[:4]), int(token[4:6]), int(token[6:8]))
    except ValueError:
        return None


def _is_in_flight(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$") or name.endswith(_IN_FLIGHT_SUFFIXES)


def classify(landing: Path, path: Path) -> LandingFile | None:
    """The landing file at `path`, or None when it is not in a source folder."""
    relative = path.relative_to(landing)
    if len(relative.parts) != 2 or relative.parts[0] not in SOURCES:
        return None
    source, name = relative.parts
    if _is_in_flight(name):
        return None
    stat = path.stat()
    found = feed_for_file(source, name)
    if found is None:
        any_date = _ANY_DATE.search(name)
        business_date = parse_file_date(any_date.group(1), monthly=False) if any_date else None
        return LandingFile(
            path, relative.as_posix(), source, None, business_date, stat.st_size, stat.st_mtime_ns
        )
    feed, match = found
    business_date = parse_file_date(match.group("d"), monthly=feed.monthly)
    return LandingFile(
        path,
        relative.as_posix(),
        source,
        feed,
        business_date,
        stat.st_size,
        stat.st_mtime_ns,
        bad_name_date=business_date is None,
    )


def discover(landing: Path) -> list[LandingFile]:
    """Every landing file in the source folders, sorted by relative path."""
    found: list[LandingFile] = []
    for source in SOURCES:
        folder = landing / source
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and (landing_file := classify(landing, path)):
                found.append(landing_file)
    return sorted(found, key=lambda f: f.relative)


def in_scope(
    landing_file: LandingFile,
    dates: Iterable[date] | None,
    feeds: Sequence[str] | None,
) -> bool:
    """Whether a run for these business dates and feeds should look at this file.

    A monthly file belongs to every date of its month, so the nightly run of any day
    picks up a monthly export that arrived that day. A file whose name no feed knows
    (and so has no reliable date) is seen by every run of its folder: it gets its
    ledger row (rejected or duplicate) on the first one.
    """
    if feeds is not None:
        if landing_file.feed is not None:
            if landing_file.feed.name not in feeds:
                return False
        elif landing_file.source not in {FEEDS_BY_NAME[name].source for name in feeds}:
            return False
    if dates is None:
        return True
    wanted = set(dates)
    if landing_file.business_date is None:
        return landing_file.feed is None or landing_file.bad_name_date
    if landing_file.feed is not None and landing_file.feed.monthly:
        return any(
            (d.year, d.month) == (landing_file.business_date.year, landing_file.business_date.month)
            for d in wanted
        )
    return landing_file.business_date in wanted


def validate_feed_names(feeds: Sequence[str] | None) -> list[Feed]:
    """The feeds to ingest (all when None); an unknown name is a caller's mistake."""
    if feeds is None:
        return list(FEEDS)
    unknown = sorted(set(feeds) - set(FEEDS_BY_NAME))
    if unknown:
        raise ValueError(f"unknown feeds {unknown}; expected some of {sorted(FEEDS_BY_NAME)}")
    return [FEEDS_BY_NAME[name] for name in feeds]
