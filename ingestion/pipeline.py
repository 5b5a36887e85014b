"""Landing files to bronze: the one entry point, `ingest`.

Per feed, the night's new files are read (bytes once: hashed, decoded, parsed), typed,
and written in batches: one delta-rs commit per batch to the bronze table, one to the
feed's quarantine table, one to the file ledger. Every commit replaces the rows of the
batch's file names (`overwrite` with a `source_file IN (...)` predicate), which is
what makes a re-export replace its older copy atomically and a crashed run safe to
repeat. Batches are bounded by a byte budget, so memory follows the largest file, not
the size of the night; typed rows reach delta-rs as a stream of record batches, and a
large JSON-lines file is read and typed chunk by chunk into that stream (still one
commit), so its working set is a chunk's.

A source sending bad data never raises: the file is rejected or its rows quarantined,
and the ledger says which. A platform failure (a Delta write failing) does raise.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from bakehouse.config import Settings
from bakehouse.lake import Lake
from ingestion.common.arrow import arrow_schema, sql_literal, to_arrow
from ingestion.common.casting import REASON, type_rows
from ingestion.common.csv_reader import read_csv
from ingestion.common.files import (
    LandingFile,
    Readiness,
    closest_pattern,
    discover,
    in_scope,
    split_ready,
    validate_feed_names,
)
from ingestion.common.jsonl_reader import (
    merge_chunk_notes,
    raw_lines,
    read_chunks,
    read_jsonl,
    valid_utf8,
)
from ingestion.common.ledger import DUPLICATE, LANDED, REJECTED, Ledger
from ingestion.common.quarantine import QUARANTINE_SCHEMA, from_rejects, from_typing_failures
from ingestion.common.rows import RAW_LINE, ROW, FileRejected, RawRows
from ingestion.meituan.xlsx import read_xlsx
from ingestion.pos.checks import flag_rows
from ingestion.report import FileOutcome, IngestReport, feed_label
from ingestion.schemas import QUARANTINE_COLUMNS, Feed, bronze_columns

READERS: dict[str, Callable[[Feed, bytes], RawRows]] = {
    "csv": read_csv,
    "jsonl": read_jsonl,
    "xlsx": read_xlsx,
}
# Source-specific, row-local steps after typing, by feed.
ROW_STEPS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {"pos_sales": flag_rows}

# A batch is files of one feed (several dates when they are small), up to this many
# bytes or files; a larger file is a batch of its own.
MAX_BATCH_BYTES = 64 * 1024 * 1024
MAX_BATCH_FILES = 2_000
# A JSON-lines file larger than this is read, typed and written in chunks of about this
# size, all in one commit: memory follows the chunk, not the file (see `_stream`).
STREAM_CHUNK_BYTES = MAX_BATCH_BYTES
# Files of a batch are read, hashed and parsed this many at a time (polars, hashlib,
# file reads and Arrow release the GIL); the outcomes are then decided in file order.
READ_THREADS = 2


@dataclass
class _Run:
    lake: Lake
    ledger: Ledger
    report: IngestReport
    batch_id: str
    ingested_at: datetime


def new_batch_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def ingest(
    settings: Settings,
    dates: Sequence[date] | None = None,
    *,
    feeds: Sequence[str] | None = None,
    batch_id: str | None = None,
    readiness: Readiness | None = None,
) -> IngestReport:
    """Ingest the landing files of these business dates (None: everything new).

    Files already recorded with the same name and content are skipped, so running a
    night twice changes nothing (no new Delta versions). `feeds` limits the run to
    some bronze tables (by name, see `ingestion.schemas.FEEDS`). A file that may still
    be being written (`readiness`, default `Readiness.from_env()`) is not read: it is
    listed in `IngestReport.waiting` and taken by a later run.
    """
    selected = validate_feed_names(feeds)
    now = datetime.now(UTC)
    lake = Lake(settings)
    report = IngestReport(batch_id or new_batch_id(now))
    run = _Run(lake, Ledger.load(lake), report, report.batch_id, now)
    files = [f for f in discover(settings.landing) if in_scope(f, dates, feeds)]
    files, report.waiting = split_ready(files, readiness or Readiness.from_env())
    for feed in selected:
        feed_files = [f for f in files if f.feed is feed and not f.bad_name_date]
        # The ledger is committed once per feed, after its data. A crash in between
        # leaves files unrecorded, and the next run simply lands them again: every
        # bronze commit replaces the rows of its file names, so nothing doubles.
        touched: list[str] = []
        for batch in _batches(feed_files):
            touched.extend(_land_batch(run, feed, batch))
        run.ledger.commit(touched)
    _record_unrecognised(run, [f for f in files if f.feed is None or f.bad_name_date])
    return run.report


def _batches(files: list[LandingFile]) -> Iterator[list[LandingFile]]:
    """Files in date order, cut into batches by the byte and file budgets."""
    batch: list[LandingFile] = []
    size = 0
    for landing_file in sorted(files, key=lambda f: (f.business_date, f.relative)):
        if batch and (size + landing_file.size > MAX_BATCH_BYTES or len(batch) >= MAX_BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(landing_file)
        size += landing_file.size
    if batch:
        yield batch


def _ledger_row(run: _Run, landing_file: LandingFile, sha: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "source_file": landing_file.relative,
        "source": landing_file.source,
        "feed": landing_file.feed.name if landing_file.feed else None,
        "business_date": landing_file.business_date,
        "file_size": landing_file.size,
        "file_mtime": datetime.fromtimestamp(landing_file.mtime_ns / 1e9, UTC),
        "file_sha256": sha,
        "status": LANDED,
        "reason": None,
        "notes": None,
        "encoding": None,
        "rows_read": 0,
        "rows_landed": 0,
        "rows_quarantined": 0,
        "batch_id": run.batch_id,
        "ingested_at": run.ingested_at,
        "superseded_at": None,
    }
    row.update(values)
    return row


def _read(landing_file: LandingFile) -> tuple[bytes, str]:
    data = landing_file.path.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


@dataclass
class _Prepared:
    """One file of a batch, read (and parsed, unless already current) in the pool.

    A JSON-lines file too large to hold (`large`) is only scanned (`_scan`); it is
    streamed from disk chunk by chunk (`_stream`), or read whole if it cannot be.
    """

    sha: str
    parsed: RawRows | FileRejected | None = None
    large: bool = False
    size: int = 0  # bytes scanned (a large file)
    utf8: bool = False  # every chunk strict UTF-8 (a large file)


def _streamed(feed: Feed, landing_file: LandingFile) -> bool:
    return feed.format == "jsonl" and landing_file.size > STREAM_CHUNK_BYTES


def _parse_file(feed: Feed, data: bytes) -> RawRows | FileRejected:
    try:
        return READERS[feed.format](feed, data)
    except FileRejected as rejected:
        return rejected


def _scan(path: Path) -> tuple[str, int, bool]:
    """(sha256, size, whether every chunk is strict UTF-8) of a large file, in one read.

    The file is read chunk by chunk (`read_chunks`, so never held whole); each chunk is
    hashed in a thread (hashlib releases the GIL) while this one checks its UTF-8.
    """
    digest = hashlib.sha256()
    size, utf8 = 0, True
    with ThreadPoolExecutor(1, thread_name_prefix="bronze-sha") as hasher:
        hashing: Future[None] | None = None
        for chunk in read_chunks(path, STREAM_CHUNK_BYTES):
            if hashing is not None:
                hashing.result()
            hashing = hasher.submit(digest.update, chunk)
            size += len(chunk)
            utf8 = utf8 and valid_utf8(chunk)
        if hashing is not None:
            hashing.result()
    return digest.hexdigest(), size, utf8


def _prepare(run: _Run, feed: Feed, landing_file: LandingFile) -> _Prepared:
    """Read and hash one file, and parse it unless the ledger already has it.

    Runs in the read pool: it only reads the ledger. A file parsed here may still turn
    out a duplicate of an earlier file of its batch; its parse is then unused.
    """
    if _streamed(feed, landing_file):
        sha, size, utf8 = _scan(landing_file.path)
        return _Prepared(sha, large=True, size=size, utf8=utf8)
    data, sha = _read(landing_file)
    prepared = _Prepared(sha)
    if not run.ledger.is_current(landing_file.relative, sha):
        prepared.parsed = _parse_file(feed, data)
        if isinstance(prepared.parsed, RawRows) and len(prepared.parsed.frame):
            prepared.parsed.frame = _with_lineage(
                prepared.parsed.frame, landing_file.relative, sha, landing_file
            )
    return prepared


def _prepared(run: _Run, feed: Feed, batch: list[LandingFile]) -> Iterator[_Prepared]:
    """`_prepare` of each file of the batch, in order, READ_THREADS at a time."""
    if len(batch) == 1:
        yield _prepare(run, feed, batch[0])
        return
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix="bronze-read") as pool:
        yield from pool.map(lambda landing_file: _prepare(run, feed, landing_file), batch)


def _land_batch(run: _Run, feed: Feed, batch: list[LandingFile]) -> list[str]:
    """Read, type and commit one batch of one feed; the names touched."""
    text_frames: list[pl.DataFrame] = []
    streams: list[_Stream] = []
    quarantine_frames: list[pl.DataFrame] = []
    rows_by_file: dict[str, dict[str, Any]] = {}
    superseded: dict[str, int] = {}
    replace_bronze = replace_quarantine = False
    for landing_file, prepared in zip(batch, _prepared(run, feed, batch), strict=True):
        name = landing_file.relative
        sha = prepared.sha
        if run.ledger.is_current(name, sha):
            run.report.skip(feed.name)
            continue
        older = run.ledger.current(name)
        superseded[name] = len(older)
        replace_bronze |= run.ledger.had_rows(name, "rows_landed")
        replace_quarantine |= run.ledger.had_rows(name, "rows_quarantined")
        if duplicate_of := run.ledger.duplicate_of(name, sha, feed.name):
            row = _ledger_row(
                run, landing_file, sha, status=DUPLICATE, reason=f"duplicate_of:{duplicate_of}"
            )
        elif (
            prepared.large
            and prepared.utf8
            and (stream := _stream(run, feed, landing_file, prepared, quarantine_frames))
        ):
            row = stream.row
            streams.append(stream)
        else:
            raw = prepared.parsed
            if prepared.large:  # cannot stream: read whole, as any other file
                data, sha_read = _read(landing_file)
                if sha_read != sha:
                    raise RuntimeError(f"{name} changed while it was being ingested")
                raw = _parse_file(feed, data)
                del data
                if isinstance(raw, RawRows) and len(raw.frame):
                    raw.frame = _with_lineage(raw.frame, name, sha, landing_file)
            assert raw is not None
            if isinstance(raw, FileRejected):
                rejected = raw
                row = _ledger_row(
                    run,
                    landing_file,
                    sha,
                    status=REJECTED,
                    reason=rejected.reason,
                    notes=rejected.detail or None,
                    encoding=rejected.encoding,
                )
            else:
                row = _ledger_row(
                    run,
                    landing_file,
                    sha,
                    rows_read=raw.rows_read,
                    notes="; ".join(raw.notes) or None,
                    encoding=raw.encoding,
                )
                if len(raw.frame):  # lineage columns already added (`_prepare`)
                    text_frames.append(raw.frame)
                if raw.rejects:
                    quarantine_frames.append(
                        from_rejects(
                            feed.name,
                            name,
                            sha,
                            landing_file.business_date,
                            raw.rejects,
                            run.batch_id,
                            run.ingested_at,
                        )
                    )
        del prepared
        run.ledger.record(row, run.ingested_at)
        rows_by_file[name] = row
    if not rows_by_file:
        return []

    names = sorted(rows_by_file)
    # The date condition lets delta-rs prune partitions before matching file names.
    dates = sorted({row["business_date"].isoformat() for row in rows_by_file.values()})
    predicate = (
        "business_date IN ("
        + ", ".join(sql_literal(d) for d in dates)
        + ") AND source_file IN ("
        + ", ".join(sql_literal(n) for n in names)
        + ")"
    )
    # Typed rows reach delta-rs as a stream of record batches: a streamed file's chunks
    # are typed while earlier ones are written, all in the one commit.
    columns = bronze_columns(feed)
    landed_counts: Counter[str] = Counter()
    typed = _typed_batches(
        run, feed, text_frames, streams, quarantine_frames, landed_counts, columns
    )
    first = next(typed, None)
    any_landed = any(row["status"] == LANDED for row in rows_by_file.values())
    if (
        first is not None
        or replace_bronze
        or (any_landed and not run.lake.exists("bronze", feed.name))
    ):
        schema = arrow_schema(columns, large_text=True)
        batches = itertools.chain([first], typed) if first is not None else iter(())
        run.lake.write_arrow(
            pa.RecordBatchReader.from_batches(schema, batches),
            "bronze",
            feed.name,
            mode="overwrite",
            predicate=predicate,
            partition_by=feed.partition_by,
        )
    quarantined = (
        pl.concat(quarantine_frames)
        if quarantine_frames
        else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    )
    _count_rows(rows_by_file, landed_counts, quarantined)
    if len(quarantined) or replace_quarantine:
        run.lake.write_arrow(
            to_arrow(quarantined, QUARANTINE_COLUMNS),
            "quarantine",
            feed.name,
            mode="overwrite",
            predicate=predicate,
        )
    for name in names:
        run.report.add(_outcome(rows_by_file[name], superseded[name]), feed.name)
    return names


def _with_lineage(
    frame: pl.DataFrame, name: str, sha: str, landing_file: LandingFile
) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(name).alias("source_file"),
        pl.lit(sha).alias("file_sha256"),
        pl.lit(landing_file.business_date, pl.Date).alias("business_date"),
    )


@dataclass
class _Stream:
    """A large JSON-lines file read chunk by chunk as bronze consumes it.

    Its ledger `row` gets rows_read and the merged notes once the last chunk is read.
    Each frame comes with how to recover its raw lines when the reader kept none
    (`_RawLines`), else None.
    """

    row: dict[str, Any]
    frames: Iterator[tuple[pl.DataFrame, _RawLines | None]]


@dataclass(frozen=True)
class _RawLines:
    """A chunk read without raw lines: row `offset + n` is line n of `body`."""

    body: bytes
    offset: int

    def of(self, rows: pl.Series) -> pl.Series:
        return raw_lines(self.body, rows - self.offset)


def _stream(
    run: _Run,
    feed: Feed,
    landing_file: LandingFile,
    prepared: _Prepared,
    quarantine_frames: list[pl.DataFrame],
) -> _Stream | None:
    """A stream for a JSON-lines file too large to hold typed at once; else None.

    Only plain cases stream: valid UTF-8 (the caller checked it, `_scan`), and every
    required key in the first chunk (so that a key absent from a later chunk is a null,
    not a missing column). Anything else is read whole, with the general handling. The
    chunks are read from disk again as they are needed; if the file's size is not the
    one scanned, the stream fails and so does the write (no commit).
    """
    sha = prepared.sha
    pieces = read_chunks(landing_file.path, STREAM_CHUNK_BYTES)
    first_piece = next(pieces, b"")
    first = read_jsonl(feed, first_piece, keep_lines=False, utf8_checked=True)
    read = [len(first_piece)]  # bytes of each chunk, to check against the scan
    del first_piece
    if any(note.startswith("missing_columns:") for note in first.notes):
        pieces.close()
        return None
    required = {c.source.split(".")[0] for c in feed.columns if c.required}
    name = landing_file.relative
    row = _ledger_row(run, landing_file, sha, encoding=first.encoding)

    def rest() -> Iterator[RawRows]:
        for piece in pieces:
            read.append(len(piece))
            yield read_jsonl(feed, piece, required, keep_lines=False, utf8_checked=True)

    def frames() -> Iterator[tuple[pl.DataFrame, _RawLines | None]]:
        offset, notes = 0, []
        for raw in itertools.chain([first], rest()):
            if raw.rejects:
                quarantine_frames.append(
                    from_rejects(
                        feed.name,
                        name,
                        sha,
                        landing_file.business_date,
                        [replace(r, source_row=r.source_row + offset) for r in raw.rejects],
                        run.batch_id,
                        run.ingested_at,
                    )
                )
            frame = raw.frame.with_columns(pl.col(ROW) + offset)
            lines = _RawLines(raw.lines_from, offset) if raw.lines_from is not None else None
            offset += raw.rows_read
            notes.append(raw.notes)
            del raw
            yield _with_lineage(frame, name, sha, landing_file), lines
        if sum(read) != prepared.size:
            raise RuntimeError(f"{name} changed while it was being ingested")
        row["rows_read"] = offset
        row["notes"] = "; ".join(merge_chunk_notes(notes)) or None

    return _Stream(row, frames())


def _typed_batches(
    run: _Run,
    feed: Feed,
    text_frames: list[pl.DataFrame],
    streams: list[_Stream],
    quarantine_frames: list[pl.DataFrame],
    landed_counts: Counter[str],
    columns: list[tuple[str, str]],
) -> Iterator[pa.RecordBatch]:
    """The batch's landed rows typed, as Arrow record batches with the contract schema.

    The small files' rows are typed at once (one polars pass for many files); each
    streamed file chunk by chunk. Failing rows join `quarantine_frames`; landed rows are
    counted per file into `landed_counts`.
    """
    groups: Iterator[tuple[list[pl.DataFrame], _RawLines | None]] = itertools.chain(
        [(text_frames, None)] if text_frames else [],
        (([frame], lines) for stream in streams for frame, lines in stream.frames),
    )

    def typed() -> Iterator[list[pa.RecordBatch]]:
        for frames, lines in groups:
            landed = _type_and_split(run, feed, frames, quarantine_frames, lines)
            if len(landed):
                landed_counts.update(dict(landed.group_by("source_file").len().iter_rows()))
                yield to_arrow(landed, columns, large_text=True).to_batches()

    for batches in _prefetched(typed()):
        yield from batches


_END = object()


def _prefetched(items: Iterator[Any]) -> Iterator[Any]:
    """`items`, each produced in a worker thread while the consumer uses the one before.

    delta-rs encodes and writes a streamed chunk while the next one is read and typed
    (polars and the writer both release the GIL). At most two items are ahead. An
    exception in the worker is raised here; closing this iterator stops the worker.
    """
    ready: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                ready.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed to the consumer
            put(_END, error)
        else:
            put(_END)

    worker = threading.Thread(target=work, name="bronze-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _type_and_split(
    run: _Run,
    feed: Feed,
    text_frames: list[pl.DataFrame],
    quarantine_frames: list[pl.DataFrame],
    lines: _RawLines | None = None,
) -> pl.DataFrame:
    """Type these rows at once; failing rows join `quarantine_frames`.

    `lines`: where the raw lines are when the frames carry none (one streamed chunk).
    """
    rows = pl.concat(text_frames, how="vertical").with_columns(
        pl.lit(run.batch_id).alias("batch_id"),
        pl.lit(run.ingested_at, pl.Datetime("us", "UTC")).alias("ingested_at"),
    )
    typed = type_rows(feed, rows)
    if typed.get_column(REASON).null_count() == len(typed):  # nothing failed: no copies
        return step(typed) if (step := ROW_STEPS.get(feed.name)) else typed
    failed = typed.filter(pl.col(REASON).is_not_null())
    if len(failed) and lines is not None:
        failed = failed.with_columns(lines.of(failed.get_column(ROW)).alias(RAW_LINE))
    if len(failed):
        quarantine_frames.append(from_typing_failures(feed.name, failed))
    landed = typed.filter(pl.col(REASON).is_null())
    if step := ROW_STEPS.get(feed.name):
        landed = step(landed)
    return landed


def _count_rows(
    rows_by_file: dict[str, dict[str, Any]], landed: Counter[str], quarantined: pl.DataFrame
) -> None:
    """Fill rows_landed / rows_quarantined and hold every file to the accounting identity."""
    for name, count in landed.items():
        rows_by_file[name]["rows_landed"] = count
    if len(quarantined):
        for name, count in quarantined.group_by("source_file").len().iter_rows():
            rows_by_file[name]["rows_quarantined"] = count
    for name, row in rows_by_file.items():
        if row["rows_read"] != row["rows_landed"] + row["rows_quarantined"]:
            raise RuntimeError(
                f"{name}: rows_read {row['rows_read']} != landed {row['rows_landed']} + "
                f"quarantined {row['rows_quarantined']} (an ingestion bug, not a source fault)"
            )


def _outcome(row: dict[str, Any], superseded: int) -> FileOutcome:
    return FileOutcome(
        source_file=row["source_file"],
        feed=row["feed"],
        business_date=row["business_date"],
        status=row["status"],
        reason=row["reason"],
        notes=tuple(row["notes"].split("; ")) if row["notes"] else (),
        rows_read=row["rows_read"],
        rows_landed=row["rows_landed"],
        rows_quarantined=row["rows_quarantined"],
        superseded=superseded,
    )


def _record_unrecognised(run: _Run, files: list[LandingFile]) -> None:
    """Ledger rows for files no feed can take: unknown names and impossible dates."""
    names = []
    for landing_file in files:
        data, sha = _read(landing_file)
        del data
        name = landing_file.relative
        label = feed_label(
            landing_file.feed.name if landing_file.feed else None, landing_file.source
        )
        if run.ledger.is_current(name, sha):
            run.report.skip(label)
            continue
        older = len(run.ledger.current(name))
        feed_name = landing_file.feed.name if landing_file.feed else None
        if duplicate_of := run.ledger.duplicate_of(name, sha, feed_name):
            row = _ledger_row(
                run, landing_file, sha, status=DUPLICATE, reason=f"duplicate_of:{duplicate_of}"
            )
        else:
            reason = "bad_file_date" if landing_file.bad_name_date else "unknown_file_name"
            row = _ledger_row(
                run,
                landing_file,
                sha,
                status=REJECTED,
                reason=reason,
                notes=f"expected {closest_pattern(name)}",
            )
        run.ledger.record(row, run.ingested_at)
        names.append(name)
        run.report.add(_outcome(row, older), label)
    run.ledger.commit(names)
