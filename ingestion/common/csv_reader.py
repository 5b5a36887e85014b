"""CSV exports: decode once, check each record's shape, parse the good ones with polars.

polars is the fast path but it is forgiving in ways bronze must not be: it pads short
rows with nulls, turns blank lines into all-null rows and has no notion of "the last
line was cut". So records are first split and counted here (cheap, vectorised), rows
of the wrong shape are rejected with their original text, and only well-formed
records go to `polars.read_csv` (all columns as strings, nothing inferred).
"""

from __future__ import annotations

import csv
import io

import polars as pl

from ingestion.common.decoding import decode, has_undecodable, printable, strip_line_boms
from ingestion.common.rows import (
    RAW_LINE,
    ROW,
    UNTERMINATED,
    FileRejected,
    RawRows,
    Reject,
    empty_frame,
    header_score,
    map_header,
    missing_column_rejects,
    shared_checks,
)
from ingestion.schemas import EXTRA_COLUMN, Feed

# Marks a line holding undecodable bytes (NUL never occurs in these text exports).
_UNDECODABLE = "\x00undecodable\x00"


def _split_fields(record: str) -> list[str]:
    return next(csv.reader([record]), [])


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


def _join_quoted(lines: list[str]) -> list[str]:
    """Physical lines to records, keeping quoted newlines inside their record."""
    records: list[str] = []
    pending: list[str] = []
    open_quotes = False
    for line in lines:
        pending.append(line)
        if line.count('"') % 2:
            open_quotes = not open_quotes
        if not open_quotes:
            records.append("\n".join(pending))
            pending = []
    if pending:  # an unclosed quote at the end: keep the text, it will fail its shape check
        records.append("\n".join(pending))
    return records


def read_csv(feed: Feed, data: bytes) -> RawRows:
    """Read one CSV export into text rows and rejects (see module docstring).

    Byte-order marks at line starts are decoding artifacts: stripped, and counted in
    the note `line_boms_stripped:N`. Identifier values the join form will change are
    counted in `normalisable:N` (`rows.shared_checks`).
    """
    return shared_checks(feed, _read_csv(feed, data))


def _read_csv(feed: Feed, data: bytes) -> RawRows:
    if not data:
        raise FileRejected("empty_file", "0 bytes")
    decoded = decode(
        data,
        feed.encoding,
        lambda text: header_score(feed, _split_fields(_first_line(text))),
        perfect=len(feed.columns),
    )
    if decoded is None:
        first = data.split(b"\n", 1)[0][:200]
        raise FileRejected("unrecognised_header", f"first line bytes {first!r}")
    notes = [decoded.note] if decoded.note else []
    text, line_boms = strip_line_boms(decoded.text)
    if line_boms:
        notes.append(f"line_boms_stripped:{line_boms}")
    if not decoded.lossy and '"' not in text and text.count("\r") == text.count("\r\n"):
        simple = _read_simple(feed, text, decoded.encoding, notes)
        if simple is not None:
            return simple
    if decoded.lossy:
        # Lines with undecodable bytes cannot even enter polars (surrogates); mark them,
        # with the bad bytes shown as \xNN escapes, to be quarantined below.
        text = "\n".join(
            _UNDECODABLE + printable(line, decoded.encoding) if has_undecodable(line) else line
            for line in text.split("\n")
        )
    terminated = text.endswith("\n")
    lines = pl.Series(text.split("\n"), dtype=pl.String).str.strip_suffix("\r")
    if terminated:
        lines = lines.head(len(lines) - 1)
    if '"' in text and (lines.str.count_matches('"', literal=True) % 2 == 1).any():
        lines = pl.Series(_join_quoted(lines.to_list()), dtype=pl.String)

    header = _split_fields(lines[0]) if len(lines) else []
    header_map = map_header(feed, header)
    notes.extend(header_map.notes())
    records = lines.slice(1)
    blank = records == ""
    blank_count = int(blank.sum())
    if blank_count:
        notes.append(f"blank_lines_skipped:{blank_count}")
        records = records.filter(~blank)
    rows_read = len(records)
    if not terminated and rows_read:
        notes.append("no_final_newline")
    if rows_read == 0:
        return RawRows(empty_frame(feed), [], 0, decoded.encoding, notes)
    if header_map.missing_required:
        return RawRows(
            empty_frame(feed),
            missing_column_rejects(header_map, records.to_list()),
            rows_read,
            decoded.encoding,
            notes,
        )

    # Shape check: the number of fields of each record against the header's.
    width = len(header)
    quoted = records.str.contains('"', literal=True)
    counts = records.str.count_matches(",", literal=True) + 1
    if quoted.any():
        counts = counts.to_list()
        for i in quoted.arg_true().to_list():
            counts[i] = len(_split_fields(records[i]))
        counts = pl.Series(counts)
    good = counts == width
    if decoded.lossy:
        good = good & ~records.str.starts_with(_UNDECODABLE)
    rejects: list[Reject] = []
    if not good.all():
        last = rows_read - 1
        for i in (~good).arg_true().to_list():
            record = records[i]
            if record.startswith(_UNDECODABLE):
                rejects.append(
                    Reject(
                        i + 1,
                        "bad_encoding",
                        f"bytes not valid {decoded.encoding}",
                        record.removeprefix(_UNDECODABLE),
                    )
                )
            elif i == last and not terminated and counts[i] < width:
                rejects.append(
                    Reject(
                        i + 1,
                        "truncated_row",
                        f"last line cut: {counts[i]} of {width} fields",
                        record,
                    )
                )
            else:
                rejects.append(
                    Reject(
                        i + 1,
                        "wrong_field_count",
                        f"{counts[i]} fields, header has {width}",
                        record,
                    )
                )
    row_numbers = pl.int_range(1, rows_read + 1, eager=True, dtype=pl.Int64).filter(good)
    good_records = records.filter(good)
    if len(good_records) == 0:
        return RawRows(empty_frame(feed), rejects, rows_read, decoded.encoding, notes)

    parsed = _parse(good_records, width)
    columns = [
        (
            parsed.to_series(header_map.positions[c.name])
            if c.name in header_map.positions
            else pl.Series(values=[None] * len(parsed), dtype=pl.String)
        ).alias(c.name)
        for c in feed.columns
    ]
    if header_map.extras:
        extra = pl.DataFrame(
            [parsed.to_series(i).alias(name) for name, i in header_map.extras.items()]
        )
        has_any = pl.any_horizontal(
            [pl.col(n).is_not_null() & (pl.col(n) != "") for n in extra.columns]
        )
        extra_json = extra.select(
            pl.when(has_any).then(pl.struct(pl.all()).struct.json_encode()).alias("x")
        ).to_series()
    else:
        extra_json = pl.Series(values=[None] * len(parsed), dtype=pl.String)
    unterminated = pl.Series([False] * len(parsed))
    if not terminated and bool(good[-1]):
        unterminated[-1] = True
    frame = pl.DataFrame(columns).with_columns(
        extra_json.alias(EXTRA_COLUMN[0]),
        row_numbers.alias(ROW),
        good_records.alias(RAW_LINE),
        unterminated.alias(UNTERMINATED),
    )
    return RawRows(frame, rejects, rows_read, decoded.encoding, notes)


def _read_simple(feed: Feed, text: str, encoding: str, notes: list[str]) -> RawRows | None:
    """The common case with few polars calls: no quote, no carriage return but in a
    CRLF line end, no blank line, every record as wide as the header, every required
    column present.

    None when any of that fails; `read_csv` then reads the file with the general
    handling, which gives the same result when all of it holds. The shape is proven
    without a pass per line: polars refuses a record wider than the header
    (`truncate_ragged_lines=False`), so when the commas number exactly (width - 1) per
    line, every line has exactly that many (a blank or short line would need a wider
    one to make up the count). Per file, each polars call costs more than parsing a
    small file, hence this path.
    """
    text = text.replace("\r\n", "\n")  # the caller saw no other carriage return
    header_end = text.find("\n")
    if header_end < 0 or header_end == len(text) - 1:
        return None
    header = _split_fields(text[:header_end])
    header_map = map_header(feed, header)
    width = len(header)
    if header_map.missing_required or width < 2:
        return None
    body = text[header_end + 1 :]
    terminated = body.endswith("\n")
    lines = body.removesuffix("\n")
    rows_read = lines.count("\n") + 1
    if lines.count(",") != rows_read * (width - 1):
        return None
    try:
        parsed = pl.read_csv(
            io.BytesIO(body.encode()),
            has_header=False,
            infer_schema=False,
            new_columns=[f"c{i}" for i in range(width)],
            quote_char='"',
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, pl.exceptions.ShapeError):
        return None
    if parsed.shape != (rows_read, width):
        return None

    def field(i: int) -> pl.Expr:
        return pl.col(f"c{i}")

    if header_map.extras:
        has_any = pl.any_horizontal(
            [field(i).is_not_null() & (field(i) != "") for i in header_map.extras.values()]
        )
        extra = pl.when(has_any).then(
            pl.struct(
                [field(i).alias(name) for name, i in header_map.extras.items()]
            ).struct.json_encode()
        )
    else:
        extra = pl.lit(None, pl.String)
    row = pl.int_range(1, rows_read + 1, dtype=pl.Int64)
    records = pl.Series(RAW_LINE, [lines], dtype=pl.String).str.split("\n").explode()
    frame = parsed.select(
        *[
            (
                field(header_map.positions[c.name])
                if c.name in header_map.positions
                else pl.lit(None, pl.String)
            ).alias(c.name)
            for c in feed.columns
        ],
        extra.alias(EXTRA_COLUMN[0]),
        row.alias(ROW),
        records,
        (pl.lit(False) if terminated else row == rows_read).alias(UNTERMINATED),
    )
    notes = [*notes, *header_map.notes()]
    if not terminated:
        notes.append("no_final_newline")
    return RawRows(frame, [], rows_read, encoding, notes)


def _parse(records: pl.Series, width: int) -> pl.DataFrame:
    """Parse well-formed records with polars, all values as text."""
    body = records.str.join("\n").item().encode()
    parsed = pl.read_csv(
        io.BytesIO(body),
        has_header=False,
        infer_schema=False,
        new_columns=[f"c{i}" for i in range(width)],
        quote_char='"',
    )
    if len(parsed) != len(records):  # never seen; the shapes were checked. Be safe anyway.
        rows = [_split_fields(r) for r in records.to_list()]
        parsed = pl.DataFrame(
            {f"c{i}": [row[i] if i < len(row) else None for row in rows] for i in range(width)},
            schema={f"c{i}": pl.String for i in range(width)},
        )
    return parsed
