"""Finding landing files and what the contract says about each one."""

from __future__ import annotations

import difflib
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.schemas import FEEDS, FEEDS_BY_NAME, SOURCES, Feed, feed_for_file

# Exporters write under a temporary name and rename; a file still being written is
# not ours yet.
_IN_FLIGHT_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
_ANY_DATE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
# A source that writes a marker when an export is complete: `<file>.done` beside it.
DONE_SUFFIX = ".done"
QUIET_SECONDS_ENV = "BAKEHOUSE_LANDING_QUIET_SECONDS"
REQUIRE_DONE_ENV = "BAKEHOUSE_LANDING_REQUIRE_DONE"
DEFAULT_QUIET_SECONDS = 60.0


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
    return (
        name.startswith(".")
        or name.startswith("~$")
        or name.endswith(_IN_FLIGHT_SUFFIXES)
        or name.endswith(DONE_SUFFIX)
    )


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


# -- Files still being written ---------------------------------------------------------


@dataclass(frozen=True)
class Readiness:
    """When a landing file counts as complete.

    By default a file is complete once its modification time is `quiet_seconds` old:
    an exporter still writing keeps touching it, so a growing or just-written file
    waits. A `<file>.done` marker beside it makes it complete at once; with
    `require_done`, only a marker does (for sources that always write one).
    """

    quiet_seconds: float = DEFAULT_QUIET_SECONDS
    require_done: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Readiness:
        """`BAKEHOUSE_LANDING_QUIET_SECONDS` (default 60) and `BAKEHOUSE_LANDING_REQUIRE_DONE`
        (true/false, default false), read now. Raises ValueError on a value that is not
        a non-negative number or a boolean word."""
        env = os.environ if environ is None else environ
        raw = env.get(QUIET_SECONDS_ENV, "").strip()
        try:
            quiet = float(raw) if raw else DEFAULT_QUIET_SECONDS
        except ValueError:
            raise ValueError(
                f"{QUIET_SECONDS_ENV} must be a number of seconds, got {raw!r}"
            ) from None
        if quiet < 0:
            raise ValueError(f"{QUIET_SECONDS_ENV} must not be negative, got {raw!r}")
        flag = env.get(REQUIRE_DONE_ENV, "").strip().lower()
        if flag not in ("", "true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{REQUIRE_DONE_ENV} must be true or false, got {flag!r}")
        return cls(quiet, flag in ("true", "1", "yes"))


@dataclass(frozen=True)
class Waiting:
    """A landing file not taken yet because it may still be being written."""

    relative: str
    reason: str  # e.g. "modified 12 s ago; quiet period 60 s"


def split_ready(
    files: Iterable[LandingFile], readiness: Readiness, now: float | None = None
) -> tuple[list[LandingFile], list[Waiting]]:
    """(complete files, files still waiting) by `readiness`; `now` in epoch seconds.

    The modification time is read again here, so a file that grew since `discover`
    waits too.
    """
    now = time.time() if now is None else now
    ready: list[LandingFile] = []
    waiting: list[Waiting] = []
    for landing_file in files:
        marker = landing_file.path.with_name(landing_file.path.name + DONE_SUFFIX)
        if marker.exists():
            ready.append(landing_file)
            continue
        if readiness.require_done:
            waiting.append(Waiting(landing_file.relative, f"no {marker.name} marker yet"))
            continue
        try:
            stat = landing_file.path.stat()
        except FileNotFoundError:
            continue  # gone since discovery (renamed by its exporter): next run sees it
        age = now - stat.st_mtime
        if stat.st_size != landing_file.size or stat.st_mtime_ns != landing_file.mtime_ns:
            waiting.append(Waiting(landing_file.relative, "still growing"))
        elif readiness.quiet_seconds and age < readiness.quiet_seconds:
            waiting.append(
                Waiting(
                    landing_file.relative,
                    f"modified {max(age, 0):.0f} s ago; quiet period "
                    f"{readiness.quiet_seconds:.0f} s",
                )
            )
        else:
            ready.append(landing_file)
    return ready, waiting


# -- The landing contract, explained ----------------------------------------------------

_PLACEHOLDERS = {"store": "<store_code>"}


def landing_pattern(feed: Feed) -> str:
    """The feed's file pattern as people write it, e.g.
    `landing/meituan/meituan_orders_<yyyymmdd>.xlsx` (generated from `Feed.pattern`)."""

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "d":
            return "<yyyymm>" if feed.monthly else "<yyyymmdd>"
        return _PLACEHOLDERS.get(name, f"<{name}>")

    readable = re.sub(r"\(\?P<(\w+)>[^)]*\)", placeholder, feed.pattern).replace("\\", "")
    return f"landing/{feed.source}/{readable}"


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.lower())


def closest_pattern(relative: str) -> str:
    """The expected pattern closest to a landing path that matches none (difflib ratio
    on the lower-cased path with digits folded), e.g. `Meituan/meituan_orders_20261001.xlsx`
    -> `landing/meituan/meituan_orders_<yyyymmdd>.xlsx`."""
    shape = _shape(relative)

    def score(feed: Feed) -> float:
        pattern = landing_pattern(feed).removeprefix("landing/")
        example = re.sub(r"<store_code>", "sh1", re.sub(r"<yyyy\w*>", "1", pattern))
        return difflib.SequenceMatcher(None, shape, _shape(example)).ratio()

    return landing_pattern(max(FEEDS, key=score))


@dataclass(frozen=True)
class ContractProblem:
    """A landing path no feed can take, with the pattern it most likely meant."""

    path: str  # relative to landing/, '/'-separated
    kind: str  # unknown_folder | outside_source_folder | nested_folder | unknown_file_name
    expected: str  # closest expected pattern

    @property
    def message(self) -> str:
        what = {
            "unknown_folder": f"folder {self.path.split('/')[0]}/ is not a source folder",
            "outside_source_folder": "not in a source folder",
            "nested_folder": "source folders have no sub-folders",
            "unknown_file_name": "name matches no feed of its folder",
        }[self.kind]
        return f"landing/{self.path}: {what}; expected {self.expected}"


def contract_problems(landing: Path) -> list[ContractProblem]:
    """Every file under `landing` that no feed can take, sorted by path.

    Files in unknown folders, directly in landing/, or in a sub-folder of a source
    folder are never ingested, so this is where they are reported; a misnamed file in a
    source folder is also rejected in the ledger (`unknown_file_name`). Hidden files,
    temporary names and `.done` markers are not problems.
    """
    found: list[ContractProblem] = []
    if not landing.is_dir():
        return found
    for folder, subfolders, names in os.walk(landing):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            if _is_in_flight(name):
                continue
            relative = (Path(folder) / name).relative_to(landing).as_posix()
            parts = relative.split("/")
            if len(parts) == 1:
                kind = "outside_source_folder"
            elif parts[0] not in SOURCES:
                kind = "unknown_folder"
            elif len(parts) > 2:
                kind = "nested_folder"
            elif feed_for_file(parts[0], name) is None:
                kind = "unknown_file_name"
            else:
                continue
            found.append(ContractProblem(relative, kind, closest_pattern(relative)))
    return sorted(found, key=lambda problem: problem.path)
