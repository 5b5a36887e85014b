"""What a reader hands to typing: every data row of one file as text, plus its rejects.

Readers differ (CSV, JSON lines, XLSX) but all end in the same shape, so typing,
quarantine and accounting are written once: a frame with one string column per
contract column (null where the file lacks it), `extra_json`, the 1-based row number,
the row's original text, and whether it is the file's unterminated last line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import polars as pl

from bakehouse.normalize import INVISIBLE, WHITESPACE
from ingestion.schemas import EXTRA_COLUMN, Feed

ROW = "source_row"
RAW_LINE = "__raw_line"
UNTERMINATED = "__unterminated"


@dataclass(frozen=True)
class Reject:
    """A row that never reached typing (unparseable line, wrong field count, ...)."""

    source_row: int
    reason_code: str
    reason_detail: str
    raw_line: str


@dataclass
class RawRows:
    """One file, read: its rows as text, the rows already rejected, and notes."""

    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    # Set when the frame's raw-line column was left null (the JSON-lines fast path):
    # row n's text is line n of these bytes, recovered only for rows that fail typing.
    lines_from: bytes | None = None


@dataclass(frozen=True)
class FileRejected(Exception):
    """The file as a whole cannot be read (empty, missing sheet, unrecognised header)."""

    reason: str
    detail: str = ""
    encoding: str | None = None


def empty_frame(feed: Feed) -> pl.DataFrame:
    schema = {name: pl.String for name in text_columns(feed)}
    schema[ROW] = pl.Int64
    schema[RAW_LINE] = pl.String
    schema[UNTERMINATED] = pl.Boolean
    return pl.DataFrame(schema=schema)


def text_columns(feed: Feed) -> list[str]:
    return [*feed.column_names, EXTRA_COLUMN[0]]


@dataclass(frozen=True)
class HeaderMap:
    """Where each contract column sits in a file's header, and what is left over."""

    positions: dict[str, int]  # bronze column name -> index in the file's header
    extras: dict[str, int]  # unknown header name -> index
    missing_required: list[str]  # source (Chinese) header names
    missing_optional: list[str]

    def notes(self) -> list[str]:
        notes = []
        if self.extras:
            notes.append("extra_columns:" + ",".join(self.extras))
        if self.missing_optional:
            notes.append("missing_optional_columns:" + ",".join(self.missing_optional))
        if self.missing_required:
            notes.append("missing_columns:" + ",".join(self.missing_required))
        return notes


def map_header(feed: Feed, header: list[str]) -> HeaderMap:
    """Match a file's header to the contract by name (column order may differ)."""
    index: dict[str, int] = {}
    extras: dict[str, int] = {}
    for position, raw_name in enumerate(header):
        name = raw_name.strip().lstrip("\ufeff")
        if name in index or name not in feed.source_headers:
            label = name or f"column_{position + 1}"
            while label in extras or label in index:
                label += "#"
            extras[label] = position
        else:
            index[name] = position
    positions, missing_required, missing_optional = {}, [], []
    for column in feed.columns:
        if column.source in index:
            positions[column.name] = index[column.source]
        elif column.required:
            missing_required.append(column.source)
        else:
            missing_optional.append(column.source)
    return HeaderMap(positions, extras, missing_required, missing_optional)


def header_score(feed: Feed, header: list[str]) -> int:
    """How many of the contract's header names a candidate header contains."""
    names = {name.strip().lstrip("\ufeff") for name in header}
    return sum(1 for source in feed.source_headers if source in names)


def extras_json(values: dict[str, str | None]) -> str | None:
    """Extra columns' values as one JSON object; None when they are all empty."""
    kept = {k: v for k, v in values.items() if v not in (None, "")}
    return orjson.dumps(kept).decode() if kept else None


def missing_column_rejects(
    header_map: HeaderMap, raw_lines: list[str], first_row: int = 1
) -> list[Reject]:
    """Every row of a file lacking a required column: quarantined, not guessed at."""
    names = ",".join(header_map.missing_required)
    return [
        Reject(
            first_row + i, f"missing_column:{names}", f"file lacks required column(s) {names}", line
        )
        for i, line in enumerate(raw_lines)
    ]


def key_text_expr(column: str) -> pl.Expr:
    """`bakehouse.normalize.key_text` as a polars expression (same results)."""
    text = pl.col(column).str.replace_all(f"[{INVISIBLE}]", "").str.normalize("NFKC")
    text = text.str.strip_chars(WHITESPACE)
    return pl.when(text != "").then(text)


def normalisable_count(feed: Feed, frame: pl.DataFrame) -> int:
    """How many identifier values the join form (`key_text`) will change.

    Bronze keeps the raw value; silver, identity and the maps join on `key_text`. The
    ledger notes this count (`normalisable:N`) so the change is visible, not silent.
    An ASCII value changes only by surrounding whitespace, so only non-ASCII values
    (more bytes than characters) are normalised to tell.
    """
    names = [name for name in feed.identifier_names if name in frame.columns]
    count = 0
    for name in names:
        values = frame.get_column(name).drop_nulls()
        wide = values.str.len_bytes() != values.str.len_chars()
        narrow = values.filter(~wide)
        count += int((narrow.str.strip_chars(WHITESPACE) != narrow).sum())
        if wide.any():
            odd = values.filter(wide).to_frame(name)
            count += int(odd.select(key_text_expr(name).ne_missing(pl.col(name)).sum()).item())
    return count


def shared_checks(feed: Feed, raw: RawRows) -> RawRows:
    """The checks every reader ends with: repeated contract columns quarantined
    (`duplicate_key`), then the `normalisable:N` note when any identifier value's join
    form differs from it."""
    raw = quarantine_repeated_columns(feed, raw)
    if count := normalisable_count(feed, raw.frame):
        raw.notes.append(f"normalisable:{count}")
    return raw


def repeated_columns(feed: Feed, notes: list[str]) -> dict[str, list[str]]:
    """Contract columns whose header the file repeats: {bronze name: extra labels}.

    `map_header` takes a repeated header's first column and keeps the others in
    `extra_json` under the name with `#` appended (`状态#`).
    """
    extras = next((n.partition(":")[2] for n in notes if n.startswith("extra_columns:")), "")
    by_source = {c.source: c.name for c in feed.columns}
    repeated: dict[str, list[str]] = {}
    for label in extras.split(",") if extras else []:
        base = label.rstrip("#")
        if label != base and base in by_source:
            repeated.setdefault(by_source[base], []).append(label)
    return repeated


def quarantine_repeated_columns(feed: Feed, raw: RawRows) -> RawRows:
    """A CSV/XLSX header naming one contract column twice is the tabular form of a
    repeated JSON key: a row whose two values differ is `duplicate_key` (which one the
    source meant is unknowable); a row where they agree lands."""
    repeated = repeated_columns(feed, raw.notes) if feed.format != "jsonl" else {}
    if not repeated or not len(raw.frame):
        return raw
    keep = []
    for row in raw.frame.iter_rows(named=True):
        extras = orjson.loads(row[EXTRA_COLUMN[0]]) if row[EXTRA_COLUMN[0]] else {}
        clash = [
            f"{name}: {row[name]!r} vs {extras.get(label)!r}"
            for name, labels in repeated.items()
            for label in labels
            if (row[name] or None) != (extras.get(label) or None)
        ]
        keep.append(not clash)
        if clash:
            detail = "a column appears twice with different values: " + "; ".join(clash)
            raw.rejects.append(Reject(row[ROW], "duplicate_key", detail, row[RAW_LINE] or ""))
    raw.frame = raw.frame.filter(pl.Series(keep, dtype=pl.Boolean))
    return raw
