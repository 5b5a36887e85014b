"""Run the simulator: build the world, play the days, write landing files and truth.

The engine owns the landing folder's life: rendering each feed in its source format,
injecting the planned faults, holding back late files and writing re-exports on a later
simulated day, and logging every write to ``truth/files.jsonl``.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from bakehouse.sim.calendar import day_context
from bakehouse.sim.day import MEITUAN_NUMERIC, DaySimulator, FileOut, World, member_lines
from bakehouse.sim.faults import FaultPlan, FaultSlot, expected_handling, fault_frame, fault_text
from bakehouse.sim.truth import TruthWriter
from bakehouse.sim.world import build_b2b_customers, build_catalogue, build_people, build_stores
from bakehouse.sim.writers import csv_text, encode_text, jsonl_text, xlsx_bytes

# feed -> (landing folder, format, encoding)
FEEDS: dict[str, tuple[str, str, str]] = {
    "pos_sales": ("pos", "csv", "gbk"),
    "mp_orders": ("miniprogram", "jsonl", "utf-8"),
    "mp_members": ("miniprogram", "jsonl", "utf-8"),
    "wecom_contacts": ("wecom", "jsonl", "utf-8"),
    "douyin_orders": ("douyin", "csv", "utf-8-sig"),
    "douyin_verifications": ("douyin", "csv", "utf-8-sig"),
    "meituan_orders": ("meituan", "xlsx", ""),
    "eleme_orders": ("eleme", "csv", "utf-8"),
    "erp_stores": ("erp", "csv", "utf-8-sig"),
    "erp_products": ("erp", "csv", "utf-8-sig"),
    "erp_inventory": ("erp", "csv", "utf-8-sig"),
    "erp_b2b_customers": ("erp", "csv", "utf-8-sig"),
    "erp_b2b_orders": ("erp", "csv", "utf-8-sig"),
    "erp_store_costs": ("erp", "csv", "gbk"),
}
# Feeds whose files may arrive late or be re-exported (daily transactional files).
_DELAYABLE = ("pos_sales", "eleme_orders", "douyin_orders", "erp_inventory", "meituan_orders")
_MEMBER_DUMP_SECONDS = 23 * 3600 + 600
_MEMBER_DUMP_CHUNK = 200_000
_LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Sources export a business day's files overnight: stamped 01:30 local the next morning.
_EXPORT_AFTER_MIDNIGHT = timedelta(hours=1, minutes=30)
# A stamp is never later than this before now, so the landing quiet period (60 s by
# default) never holds back a simulated file.
_STAMP_MARGIN_SECONDS = 3600


class SimulationRefused(ValueError):
    """The simulation would write somewhere it must not; nothing was written."""


def export_time(written_on: date, now: float | None = None) -> float:
    """Epoch seconds a file written on business day ``written_on`` is stamped with.

    01:30 Asia/Shanghai the next morning, the sources' nightly export, but at most an
    hour before ``now`` (a late file released on a day not yet over).
    """
    exported = datetime.combine(written_on + timedelta(days=1), datetime.min.time(), _LOCAL_TZ)
    stamp = (exported + _EXPORT_AFTER_MIDNIGHT).timestamp()
    now = time.time() if now is None else now
    return min(stamp, now - _STAMP_MARGIN_SECONDS)


def today_local() -> date:
    """Today's date in Asia/Shanghai, the business calendar's zone."""
    return datetime.now(_LOCAL_TZ).date()


@dataclass(slots=True)
class FeedCount:
    files: int = 0
    rows: int = 0
    bytes: int = 0


@dataclass(slots=True)
class SimSummary:
    """What a run wrote, per feed, for the CLI's table and the benchmark."""

    feeds: dict[str, FeedCount] = field(
        default_factory=lambda: {feed: FeedCount() for feed in FEEDS}
    )
    days: int = 0
    faults_injected: int = 0
    seconds: float = 0.0
    # The CRM's onboarding export of the member base is dated the day before the first
    # simulated day: a `bakehouse run` must start at this date to read it.
    first_run_date: date | None = None

    columns = ("feed", "files", "rows", "bytes")

    @property
    def total(self) -> FeedCount:
        return FeedCount(
            files=sum(c.files for c in self.feeds.values()),
            rows=sum(c.rows for c in self.feeds.values()),
            bytes=sum(c.bytes for c in self.feeds.values()),
        )

    def to_rows(self) -> list[tuple[str, int, int, int]]:
        """One ``(feed, files, rows, bytes)`` row per feed, then the total."""
        rows = [(feed, c.files, c.rows, c.bytes) for feed, c in self.feeds.items()]
        total = self.total
        return [*rows, ("total", total.files, total.rows, total.bytes)]


@dataclass(slots=True)
class _Write:
    relative_path: str
    data: bytes
    feed: str
    business_date: date
    rows: int
    kind: str


def _render(
    file: FileOut,
    frame: pl.DataFrame | None = None,
    *,
    encoding: str | None = None,
    fault: str | None = None,
) -> tuple[bytes, str]:
    """A file's bytes in its feed's format; ``fault`` applies text-level defects."""
    _, file_format, default_encoding = FEEDS[file.feed]
    frame = file.frame if frame is None else frame
    if file_format == "xlsx":
        sheet = "Sheet1" if fault == "xlsx_missing_sheet" else "订单明细"
        title = f"美团外卖订单明细 {file.business_date.isoformat()}"
        detail = "workbook has only sheet Sheet1" if fault == "xlsx_missing_sheet" else ""
        return xlsx_bytes(frame, title, MEITUAN_NUMERIC & set(frame.columns), sheet), detail
    text = jsonl_text(frame["line"]) if file_format == "jsonl" else csv_text(frame)
    detail = ""
    if fault in ("truncated_last_line", "malformed_json"):
        text, detail = fault_text(fault, text)
    if fault == "empty_file":
        return b"", "0-byte file"
    if fault == "wrong_encoding":
        return encode_text(text, "utf-8"), f"written as UTF-8 instead of {default_encoding.upper()}"
    return encode_text(text, encoding or default_encoding), detail


class _Landing:
    """Writes files under ``landing/`` and logs each write in the truth."""

    def __init__(
        self, landing: Path, truth: TruthWriter, summary: SimSummary, overwrite: bool = False
    ) -> None:
        self.landing = landing
        self.truth = truth
        self.summary = summary
        self.overwrite = overwrite
        self.written: set[str] = set()  # this run may rewrite its own files (re-exports)
        self.held: dict[date, list[_Write]] = defaultdict(list)

    def path_of(self, file: FileOut) -> str:
        return f"{FEEDS[file.feed][0]}/{file.name}"

    def write(self, item: _Write, written_on: date) -> None:
        self.write_chunks(item, [item.data], written_on)

    def write_chunks(self, item: _Write, chunks: Iterable[bytes], written_on: date) -> None:
        """Write a file from consecutive byte chunks (``item.data`` is ignored)."""
        path = self.landing / item.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        # "xb" fails on an existing file: a file this run did not write is never replaced
        # unless asked (the up-front check in `simulate` names them; this is the backstop).
        mode = "wb" if self.overwrite or item.relative_path in self.written else "xb"
        try:
            handle = path.open(mode)
        except FileExistsError:
            raise SimulationRefused(
                f"landing/{item.relative_path} already exists; pass overwrite=True "
                "(--overwrite) to replace it"
            ) from None
        with handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
        self.written.add(item.relative_path)
        stamp = export_time(written_on)
        os.utime(path, (stamp, stamp))
        counts = self.summary.feeds[item.feed]
        counts.files += 1
        counts.rows += item.rows
        counts.bytes += size
        self.truth.record_file(
            path=item.relative_path,
            feed=item.feed,
            business_date=item.business_date.isoformat(),
            written_on=written_on.isoformat(),
            kind=item.kind,
            bytes=size,
        )

    def hold(self, item: _Write, written_on: date) -> None:
        self.held[written_on].append(item)

    def release(self, written_on: date) -> None:
        for item in self.held.pop(written_on, []):
            self.write(item, written_on)

    def release_all(self) -> None:
        for written_on in sorted(self.held):
            self.release(written_on)


def _faulted_writes(
    file: FileOut, kind: str, landing: _Landing, rng: np.random.Generator
) -> tuple[list[_Write], str]:
    """The writes for a faulted file (a duplicate adds a second, byte-identical file)."""
    frame, detail = fault_frame(kind, file.feed, file.frame, rng)
    data, text_detail = _render(file, frame, fault=kind)
    path = landing.path_of(file)
    writes = [_Write(path, data, file.feed, file.business_date, frame.height, "normal")]
    if kind == "duplicate_file":
        stem, suffix = path.rsplit(".", 1)
        copy = f"{stem} (1).{suffix}" if rng.random() < 0.5 else f"{stem}_copy.{suffix}"
        writes.append(_Write(copy, data, file.feed, file.business_date, frame.height, "normal"))
        detail = f"byte-identical copy of {path} written as {copy}"
    return writes, detail or text_detail


def _build_world(scale: float, start: date, days: int, seed: int) -> World:
    n_stores = max(3, round(200 * scale))
    stores = build_stores(n_stores, seed)
    return World(
        catalogue=build_catalogue(seed),
        stores=stores,
        people=build_people(max(50, round(2_000_000 * scale)), stores, days, scale, seed),
        b2b_customers=build_b2b_customers(max(5, round(400 * scale)), seed),
        start=start,
        scale=scale,
        seed=seed,
    )


def simulate(
    landing: Path,
    truth: Path,
    *,
    scale: float = 0.01,
    start: date,
    days: int = 7,
    seed: int = 42,
    faults: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    overwrite: bool = False,
    today: date | None = None,
) -> SimSummary:
    """Simulate ``days`` business days of the chain from ``start`` into ``landing``.

    Same arguments give the same bytes in every file. ``truth`` receives what the
    pipeline is scored against. ``progress(stage, done, total)`` is called once per day.
    Every file's modification time is its simulated export time (`export_time`), so
    the landing quiet period does not hold it back. The member base is dated
    ``start - 1`` (`SimSummary.first_run_date`).

    Raises `SimulationRefused`, before writing anything, when the last business date
    is not before ``today`` (default: today in Asia/Shanghai; a day is exported after
    it ends), or when ``landing`` already holds files for the simulated dates and
    ``overwrite`` is false.
    """
    preflight(landing, scale=scale, start=start, days=days, overwrite=overwrite, today=today)
    began = time.perf_counter()
    landing.mkdir(parents=True, exist_ok=True)
    summary = SimSummary(days=days, first_run_date=start - timedelta(days=1))
    world = _build_world(scale, start, days, seed)
    truth_writer = TruthWriter(truth)
    out = _Landing(landing, truth_writer, summary, overwrite)
    try:
        truth_writer.write_people(world.people, world.stores, start)
        _write_member_dump(world, out, start - timedelta(days=1))
        open_codes = [str(c) for c in world.stores.code[world.stores.open_index]]
        plan = FaultPlan(days, open_codes, seed, faults)
        simulator = DaySimulator(world)
        for day_index in range(days):
            ctx = day_context(start + timedelta(days=day_index))
            result = simulator.run(day_index, ctx)
            _write_day(day_index, days, result.files, plan, out, truth_writer, seed)
            truth_writer.write_day(ctx.day, result.order_people, result.demand)
            out.release(ctx.day)
            if progress is not None:
                progress("simulate", day_index + 1, days)
        out.release_all()
    finally:
        truth_writer.close()
    summary.faults_injected = len(plan.by_slot)
    summary.seconds = time.perf_counter() - began
    return summary


def preflight(
    landing: Path,
    *,
    scale: float,
    start: date,
    days: int,
    overwrite: bool = False,
    today: date | None = None,
) -> None:
    """Raise `SimulationRefused` if `simulate` with these arguments must not run.

    The last business date must be before ``today`` (default: today in Asia/Shanghai),
    and without ``overwrite`` ``landing`` must hold no file dated within the simulated
    dates (the member base's day before ``start`` included). Reads only file names.
    """
    if days < 1:
        raise SimulationRefused(f"days must be at least 1, got {days}")
    if scale <= 0:
        raise SimulationRefused(f"scale must be positive, got {scale}")
    last = start + timedelta(days=days - 1)
    today = today or today_local()
    if last >= today:
        raise SimulationRefused(
            f"the last simulated business date {last} is not over yet (today is {today} in "
            f"Asia/Shanghai): the latest start for {days} days is {today - timedelta(days=days)}"
        )
    if not overwrite and (existing := _existing_files(landing, start - timedelta(days=1), last)):
        shown = ", ".join(f"landing/{name}" for name in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise SimulationRefused(
            f"landing already has {len(existing)} files for {start - timedelta(days=1)}.."
            f"{last} ({shown}{more}); the simulation would replace them. Pass --overwrite "
            "to replace them, or simulate other dates (the member base is dated the day "
            "before --start)"
        )


def _existing_files(landing: Path, first: date, last: date) -> list[str]:
    """Landing files (relative paths) whose name dates them within ``first``..``last``.

    Any file of a source folder with a yyyymmdd (or, for monthly feeds, yyyymm) in its
    name counts, misnamed copies included: the simulator writes those too.
    """
    if not landing.is_dir():
        return []
    found = []
    for folder in sorted({folder for folder, _, _ in FEEDS.values()}):
        directory = landing / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            name = path.name.removesuffix(".done")
            if _dated_within(name, first, last):
                found.append(f"{folder}/{path.name}")
    return found


def _dated_within(name: str, first: date, last: date) -> bool:
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    for token in digits:
        try:
            if len(token) == 8:
                day = date(int(token[:4]), int(token[4:6]), int(token[6:]))
                if first <= day <= last:
                    return True
            elif len(token) == 6:
                month = (int(token[:4]), int(token[4:6]))
                if (first.year, first.month) <= month <= (last.year, last.month):
                    return True
        except ValueError:
            continue
    return False


def _write_member_dump(world: World, out: _Landing, dump_day: date) -> None:
    """The CRM's onboarding export: every member who exists before the first day.

    Rendered in chunks so the two-million-line dump never sits in memory whole.
    """
    base = np.flatnonzero(world.people.join_day < 0)

    def chunks() -> Iterator[bytes]:
        for first in range(0, base.size, _MEMBER_DUMP_CHUNK):
            who = base[first : first + _MEMBER_DUMP_CHUNK]
            none = np.zeros(who.size, dtype=bool)
            lines = member_lines(
                world,
                who,
                dump_day,
                np.full(who.size, _MEMBER_DUMP_SECONDS),
                deleted=none,
                consent_changed=none,
                joined_today=none,
            )
            yield jsonl_text(lines).encode("utf-8")

    path = f"{FEEDS['mp_members'][0]}/mp_members_{dump_day:%Y%m%d}.jsonl"
    out.write_chunks(
        _Write(path, b"", "mp_members", dump_day, base.size, "normal"), chunks(), dump_day
    )


def _write_day(
    day_index: int,
    days: int,
    files: list[FileOut],
    plan: FaultPlan,
    out: _Landing,
    truth: TruthWriter,
    seed: int,
) -> None:
    """Write a day's files: faults as planned, then pick late and re-exported files."""
    rng = np.random.default_rng([seed, 3000 + day_index])
    today = files[0].business_date
    clean: list[FileOut] = []
    for file in files:
        store_code = file.name.split("_")[2] if file.feed == "pos_sales" else ""
        kind = plan.kind_for(FaultSlot(day_index, file.feed, store_code))
        if kind is None:
            clean.append(file)
            continue
        writes, detail = _faulted_writes(file, kind, out, rng)
        for item in writes:
            out.write(item, today)
        truth.record_fault(
            file=writes[-1].relative_path,
            feed=file.feed,
            business_date=today.isoformat(),
            fault=kind,
            detail=detail,
            expected=expected_handling(
                kind,
                file.feed,
                writes[-1].relative_path,
                writes[-1].rows,
                original=writes[0].relative_path if len(writes) > 1 else None,
            ),
        )

    delayable = [i for i, f in enumerate(clean) if f.feed in _DELAYABLE and f.frame.height > 1]
    late = reexport = -1
    if delayable and (day_index == 0 or rng.random() < 0.3):
        late = delayable[int(rng.integers(len(delayable)))]
    if day_index + 1 < days and (day_index == 0 or rng.random() < 0.25):
        others = [i for i in delayable if i != late]
        if others:
            reexport = others[int(rng.integers(len(others)))]
    for i, file in enumerate(clean):
        data, _ = _render(file)
        item = _Write(out.path_of(file), data, file.feed, today, file.frame.height, "normal")
        if i == late:
            item.kind = "late"
            out.hold(item, today + timedelta(days=int(rng.integers(1, 4))))
        elif i == reexport:
            first = _first_version(file)
            out.write(
                _Write(
                    item.relative_path,
                    _render(file, first)[0],
                    file.feed,
                    today,
                    first.height,
                    "normal",
                ),
                today,
            )
            item.kind = "reexport"
            delay = int(rng.integers(1, min(2, days - 1 - day_index) + 1))
            out.hold(item, today + timedelta(days=delay))
        else:
            out.write(item, today)


def _first_version(file: FileOut) -> pl.DataFrame:
    """What the source exported before its correction: the last records had not synced."""
    frame = file.frame
    if file.feed == "pos_sales":
        last_ticket = frame["小票号"].max()
        return frame.filter(pl.col("小票号") != last_ticket)
    return frame.head(max(1, frame.height - max(1, frame.height // 20)))
