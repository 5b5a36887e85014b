"""JSON-lines exports: one object per line, parsed by polars, nested values by path.

The contract names nested fields by path (`member.member_id`); list and object fields
typed `json` (`items`, `coupon_ids`, `tags`) are kept as JSON text for silver. Every
known key is read as text (polars renders numbers, booleans and nested values as their
JSON text), so typing is shared with the CSV and XLSX feeds.

The fast path hands the file's bytes to `polars.read_ndjson` untouched: a night's
member dump can be a gigabyte, and neither a Python loop nor a Python `str` of it is
affordable. Only when polars refuses the file (a malformed line) are the lines checked
one by one with orjson, and the good ones parsed by polars again. Two cheaper paths,
each taken only when it provably gives the same result: a flat feed is parsed with the
contract's keys alone when a byte count shows no other key exists (`_census_parse`),
and a streamed chunk of plain lines keeps no raw lines (`keep_lines=False`).

A key is "missing" at file level: absent from every record of the file. A record that
omits a key another record has is read as null for it, exactly like a JSON null.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import pyarrow as pa

from ingestion.common.decoding import decode, has_undecodable, printable
from ingestion.common.rows import (
    RAW_LINE,
    ROW,
    UNTERMINATED,
    FileRejected,
    RawRows,
    Reject,
    empty_frame,
    shared_checks,
)
from ingestion.schemas import EXTRA_COLUMN, Feed

_BOM = b"\xef\xbb\xbf"
_LINE_BOM = b"\n" + _BOM
# Every JSON string token, whole (escape-aware), with the `:` that makes it a key. Read
# left to right from a line's start, each match begins at a real string's opening quote.
_STRING_TOKEN = r'"(?:[^"\\]|\\.)*"(?:\s*:)?'
# A \uD800-\uDFFF escape: half of a surrogate pair, no character on its own.
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
# Above this size the key census counts bytes while polars parses (in a thread).
_OVERLAP_BYTES = 1 << 20


def _first_line_is_json(text: str) -> int:
    for line in text.split("\n", 5)[:5]:
        if line.strip():
            try:
                return int(isinstance(orjson.loads(line), dict))
            except orjson.JSONDecodeError:
                return 0
    return 1  # nothing but blank lines: any encoding reads that


def _valid_utf8(data: bytes) -> bool:
    """Strict UTF-8 validation by Arrow over the bytes in place (~3 GB/s, no copy).

    Arrow rejects what Python's strict decoder rejects (overlong forms, surrogates,
    code points above U+10FFFF); no Python `str` of a large file is ever built.
    """
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _overrides(feed: Feed) -> dict[str, pl.DataType]:
    """Every contract key as text; nested paths as structs of text."""
    overrides: dict[str, pl.DataType] = {}
    nested: dict[str, list[str]] = {}
    for column in feed.columns:
        top, *rest = column.source.split(".")
        if rest:
            nested.setdefault(top, []).append(rest[0])
        else:
            overrides[top] = pl.String()
    for top, fields in nested.items():
        overrides[top] = pl.Struct({name: pl.String() for name in fields})
    return overrides


def read_chunks(path: Path, size: int) -> Iterator[bytes]:
    """A file in chunks of whole lines, each cut after the first newline `size` bytes
    or more into it (the last chunk: whatever is left), read from disk one at a time.

    Only the chunk in hand is held, never the file. Each chunk is one `read` of exactly
    its bytes: the cut is found by a `readline` after seeking `size` bytes ahead.
    """
    with path.open("rb") as file:
        start = 0
        while True:
            file.seek(start + size)
            end = file.tell() + len(file.readline())
            file.seek(start)
            chunk = file.read(end - start)
            if not chunk:
                return
            yield chunk
            start += len(chunk)


def valid_utf8(data: bytes) -> bool:
    """Whether `data` is strict UTF-8 (a chunk cut at a newline is checked alone)."""
    return _valid_utf8(data)


def merge_chunk_notes(per_chunk: list[list[str]]) -> list[str]:
    """The notes of a file read in chunks, as if it had been read whole (same order).

    Extra keys: any chunk's. Missing optional keys: those no chunk had. Blank lines:
    summed. A note about the file's start (BOM, encoding) or end (final newline): once.
    """
    extras: dict[str, None] = {}
    missing: list[set[str]] = []
    blank = 0
    summed: dict[str, int] = {}
    others: dict[str, None] = {}
    for notes in per_chunk:
        chunk_missing: set[str] = set()
        for note in notes:
            kind, _, value = note.partition(":")
            if kind == "extra_columns":
                extras.update(dict.fromkeys(value.split(",")))
            elif kind == "missing_optional_columns":
                chunk_missing = set(value.split(","))
            elif kind == "blank_lines_skipped":
                blank += int(value)
            elif kind in _SUMMED_NOTES:
                summed[kind] = summed.get(kind, 0) + int(value)
            else:
                others[note] = None
        missing.append(chunk_missing)
    still_missing = set.intersection(*missing) if missing else set()
    first_missing = next(
        (n for n in per_chunk[0] if n.startswith("missing_optional_columns:")), ""
    ).partition(":")[2]
    merged = list(others)
    if blank:
        merged.append(f"blank_lines_skipped:{blank}")
    if extras:
        merged.append("extra_columns:" + ",".join(extras))
    if still_missing:
        ordered = [name for name in first_missing.split(",") if name in still_missing]
        merged.append("missing_optional_columns:" + ",".join(ordered))
    merged.extend(f"{kind}:{count}" for kind, count in summed.items())
    return merged


_SUMMED_NOTES = ("line_boms_stripped", "normalisable")


def read_jsonl(
    feed: Feed,
    data: bytes,
    assume_present: Collection[str] = (),
    *,
    keep_lines: bool = True,
    utf8_checked: bool = False,
) -> RawRows:
    """Read one JSON-lines export. A 0-byte file is a day with no records, not a fault.

    Whichever path parsed the lines (polars as they came, or line by line), the same
    checks then quarantine a record with a key repeated in one object (`duplicate_key`:
    readers disagree on which value counts) or a string escape that is no character
    (`bad_text`: a lone surrogate such as `\\ud800`, which polars would land altered).
    Byte-order marks at line starts are stripped (`line_boms_stripped:N`).
    """
    raw = _read_jsonl(feed, data, assume_present, keep_lines=keep_lines, utf8_checked=utf8_checked)
    return shared_checks(feed, _quarantine_line_faults(feed, raw))


def _read_jsonl(
    feed: Feed,
    data: bytes,
    assume_present: Collection[str] = (),
    *,
    keep_lines: bool = True,
    utf8_checked: bool = False,
) -> RawRows:
    """The reading behind `read_jsonl`.

    `assume_present`: top-level keys known to be in the file though maybe not in
    `data` (a later chunk of a file whose first chunk had them); absent here, they read
    as null instead of making the rows `missing_column`.

    `keep_lines=False`: when every line is a plain record (the common case) the raw
    lines are not split out; the frame's raw-line column is null and `lines_from`
    holds the bytes to recover them from (`raw_lines`), for the few rows that fail
    typing. `utf8_checked`: the caller has validated `data` as UTF-8 already.
    """
    if not data:
        return RawRows(empty_frame(feed), [], 0, feed.encoding, ["empty_file"])
    notes: list[str] = []
    encoding = feed.encoding
    rejects: list[Reject] = []
    if feed.encoding.startswith("utf-8") and (utf8_checked or _valid_utf8(data)):
        body = data.removeprefix(_BOM)
        if len(body) != len(data) and feed.encoding == "utf-8":
            notes.append("bom_stripped")
    else:
        decoded = decode(data, feed.encoding, _first_line_is_json, perfect=1)
        if decoded is None:
            raise FileRejected("unrecognised_content", "first line is not a JSON object")
        encoding = decoded.encoding
        if decoded.note:
            notes.append(decoded.note)
        body = decoded.text.encode("utf-8", "surrogateescape") if not decoded.lossy else b""
        if decoded.lossy:
            # Re-encode line by line: undecodable lines are quarantined, others kept.
            kept = []
            for i, line in enumerate(decoded.text.split("\n")):
                if has_undecodable(line):
                    kept.append("")  # placeholder keeps numbering; rejected below
                    rejects.append(
                        Reject(
                            -(i + 1),
                            "bad_encoding",
                            f"bytes not valid {encoding}",
                            printable(line, encoding),
                        )
                    )
                else:
                    kept.append(line)
            body = "\n".join(kept).encode()

    if _LINE_BOM in body:
        lines_with_bom = 0
        while _LINE_BOM in body:
            lines_with_bom += body.count(_LINE_BOM)
            body = body.replace(_LINE_BOM, b"\n")
        notes.append(f"line_boms_stripped:{lines_with_bom}")
    if not keep_lines and not rejects and _plain_lines(body):
        fast = _read_plain(feed, body, encoding, notes, assume_present)
        if fast is not None:
            return fast
    terminated = body.endswith(b"\n")
    lines = split_lines(body)
    physical = pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int64)
    # Rows are numbered over non-blank lines; a line holding undecodable bytes counts.
    bad_encoding_lines = {-r.source_row for r in rejects}
    blank = lines.str.strip_chars() == ""
    if bad_encoding_lines:
        blank = blank & ~physical.is_in(list(bad_encoding_lines))
    blank_count = int(blank.sum())
    if blank_count:
        notes.append(f"blank_lines_skipped:{blank_count}")
    lines, physical = lines.filter(~blank), physical.filter(~blank)
    rows_read = len(lines)
    row_of_physical = (
        dict(zip(physical.to_list(), range(1, rows_read + 1), strict=True))
        if (bad_encoding_lines)
        else None
    )
    if row_of_physical:
        rejects = [
            Reject(row_of_physical[-r.source_row], r.reason_code, r.reason_detail, r.raw_line)
            for r in rejects
        ]
    rows = pl.int_range(1, rows_read + 1, eager=True, dtype=pl.Int64)
    good = ~physical.is_in(list(bad_encoding_lines)) if bad_encoding_lines else None
    if rows_read == 0:
        return RawRows(empty_frame(feed), rejects, 0, encoding, notes)

    parsed = None
    if good is None and not blank_count and b"\r" not in body:
        parsed = _parse(feed, body)  # the common case: the bytes as they came
    if parsed is None or len(parsed) != rows_read:
        good = _check_lines(lines, good, terminated, rejects)
        good_body = lines.filter(good).str.join("\n").item().encode() if good.any() else b""
        parsed = _parse(feed, good_body) if good_body else None
        lines, rows = lines.filter(good), rows.filter(good)
        if parsed is None or len(parsed) != len(lines):
            raise RuntimeError(f"{feed.name}: polars and orjson disagree on a JSON-lines file")
    elif good is not None:
        lines, rows = lines.filter(good), rows.filter(good)
    raw = _frame(feed, parsed, lines, rows, rejects, rows_read, encoding, notes, assume_present)
    assert raw is not None
    return raw


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen.add(key)
    return dict(pairs)


def _lone_surrogate(value: object) -> str | None:
    """The first string (key or value, at any depth) holding a lone surrogate, if any."""
    if isinstance(value, str):
        return value if any("\ud800" <= ch <= "\udfff" for ch in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if (found := _lone_surrogate(key)) or (found := _lone_surrogate(item)):
                return found
    elif isinstance(value, list):
        for item in value:
            if found := _lone_surrogate(item):
                return found
    return None


def line_fault(line: str) -> tuple[str, str] | None:
    """(`duplicate_key` | `bad_text`, detail) for one JSON line, else None.

    The exact check, by Python's json with every object's keys seen (the standard
    library, unlike orjson and polars, keeps lone surrogates, so they can be told).
    A line that is not JSON at all is None here: that is `bad_json`, decided elsewhere.
    """
    try:
        record = json.loads(line, object_pairs_hook=_unique_pairs)
    except _DuplicateKeyError as error:
        return "duplicate_key", f"key {error.key!r} appears twice in one object"
    except ValueError:
        return None
    if (found := _lone_surrogate(record)) is not None:
        where = next(i for i, ch in enumerate(found) if "\ud800" <= ch <= "\udfff")
        return "bad_text", (
            f"a string escape decodes to no character (lone surrogate "
            f"U+{ord(found[where]):04X} at position {where + 1})"
        )
    return None


def _repeated_key_tokens(lines: pl.Series) -> pl.Series:
    """Lines where a key token (`"…":`, escape-aware) occurs twice, or a key holds an
    escape (`"\\u0061"` is `a`). At any depth: two items of a list share keys, so this
    only makes a line a candidate for the exact check."""
    keys = lines.str.extract_all(_STRING_TOKEN).list.eval(
        pl.element().filter(pl.element().str.ends_with(":")).str.replace(r"\s*:$", "")
    )
    escaped = keys.list.eval(pl.element().str.contains("\\", literal=True).any()).list.first()
    return (keys.list.len() != keys.list.n_unique()) | escaped


def line_faults(
    lines: pl.Series, frame: pl.DataFrame | None = None, feed: Feed | None = None
) -> dict[int, tuple[str, str]]:
    """`line_fault` of every line that can have one: {0-based index: (reason, detail)}.

    Only candidate lines are parsed again, found by vectorised passes: a line with a
    surrogate escape, or one whose keys may repeat (`_repeated_key_tokens`). For a flat
    feed (`frame` and `feed` given, row i of `frame` read from line i) most lines are
    cleared by a count first: without `null`s, a line's key tokens (`"…":`) number its
    non-null values exactly unless a key repeats, is escaped or unknown (a `":` inside
    a string value only makes a line a candidate). Lines with a `null` (a repeated key
    may be one) are listed token by token.
    """
    if not len(lines):
        return {}
    candidates = lines.str.contains(_SURROGATE_ESCAPE)
    if frame is not None and feed is not None and _flat(feed):
        tokens = lines.str.count_matches(r'"\s*:')
        values = frame.select(
            pl.sum_horizontal([pl.col(c.name).is_not_null() for c in feed.columns]).cast(pl.UInt32)
        ).to_series()
        nulls = lines.str.contains(r":\s*null")
        candidates = (
            candidates | (tokens != values) | frame.get_column(EXTRA_COLUMN[0]).is_not_null()
        ).fill_null(True)
        listed = (nulls & ~candidates).fill_null(False)
        if listed.any():
            positions = listed.arg_true()
            repeated = _repeated_key_tokens(lines.gather(positions)).fill_null(True)
            candidates = candidates.scatter(positions.filter(repeated), True)
    else:
        candidates = (candidates | _repeated_key_tokens(lines)).fill_null(True)
    faults = {}
    for index in candidates.arg_true().to_list():
        if fault := line_fault(lines[index]):
            faults[index] = fault
    return faults


_NUMBER_DAMAGE = r"-?[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+|-?[0-9]+\.[0-9]*"


def _id_number_pattern(feed: Feed) -> str | None:
    keys = sorted({c.source.split(".")[-1] for c in feed.columns if c.identifier})
    if not keys:
        return None
    names = "|".join(re.escape(k) for k in keys)
    return '"(' + names + r')"\s*:\s*(' + _NUMBER_DAMAGE + r")\s*[,}\]]"


def id_number_faults(feed: Feed, lines: pl.Series) -> dict[int, tuple[str, str]]:
    """Identifier keys whose value is a JSON number with an exponent or a fraction.

    polars renders such a number in its own words (`7.1E+18` becomes
    `7100000000000000000`), so the token the file holds is read here, as text:
    `id_scientific_notation` or `id_not_integer`, like the same value in a CSV
    (`casting.ID_SCIENTIFIC`). An integer token is read exactly and lands.
    """
    pattern = _id_number_pattern(feed)
    if pattern is None or not len(lines):
        return {}
    faults = {}
    for index in lines.str.contains(pattern).fill_null(False).arg_true().to_list():
        found = [(m.group(1), m.group(2)) for m in re.finditer(pattern, lines[index])]
        scientific = [f for f in found if "e" in f[1].lower()]
        key, token = (scientific or found)[0]
        reason = "id_scientific_notation" if scientific else "id_not_integer"
        faults[index] = (reason, f"{key}={token} (a JSON number, not the id's text)")
    return faults


def _quarantine_line_faults(feed: Feed, raw: RawRows) -> RawRows:
    """Move the records with a `line_faults` or `id_number_faults` fault from the
    frame to the rejects (the first found: a line's own fault before its values')."""
    if not len(raw.frame):
        return raw
    rows = raw.frame.get_column(ROW)
    lines = (
        raw_lines(raw.lines_from, rows)
        if raw.lines_from is not None
        else raw.frame.get_column(RAW_LINE)
    )
    faults = id_number_faults(feed, lines) | line_faults(lines, raw.frame, feed)
    if not faults:
        return raw
    for index, (reason, detail) in sorted(faults.items()):
        raw.rejects.append(Reject(int(rows[index]), reason, detail, lines[index]))
    keep = pl.Series([i not in faults for i in range(len(raw.frame))], dtype=pl.Boolean)
    raw.frame = raw.frame.filter(keep)
    return raw


def split_lines(body: bytes) -> pl.Series:
    """The lines of `body` as text, without line ends (a final newline ends no line)."""
    lines = pl.Series([body], dtype=pl.Binary).cast(pl.String).str.split("\n").explode()
    if body.endswith(b"\n"):
        lines = lines.head(len(lines) - 1)
    return lines.str.strip_suffix("\r")


def raw_lines(body: bytes, rows: pl.Series) -> pl.Series:
    """Lines `rows` (1-based) of a body read with `keep_lines=False`."""
    return split_lines(body).gather(rows - 1)


def _plain_lines(body: bytes) -> bool:
    """No carriage return, first and last line not blank: line n is row n, if polars
    returns as many rows as there are lines (`_read_plain` checks that; polars skips a
    blank line and refuses a line that holds anything but one object, so a blank line
    anywhere shows as a count that does not match).
    """
    if not body or b"\r" in body:
        return False
    first = body.find(b"\n")
    if not body[: first if first >= 0 else len(body)].strip():
        return False
    last = body.rfind(b"\n", 0, len(body) - 1) + 1
    return bool(body[last:].strip())


def _read_plain(
    feed: Feed,
    body: bytes,
    encoding: str,
    notes: list[str],
    assume_present: Collection[str],
) -> RawRows | None:
    """The fast path: parse the bytes as they are and keep no raw lines.

    None when it does not apply (polars refuses a line, a required key is absent):
    the caller then reads the lines one by one.
    """
    rows_read = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    parsed = _parse(feed, body)
    if parsed is None or len(parsed) != rows_read:
        return None
    rows = pl.int_range(1, rows_read + 1, eager=True, dtype=pl.Int64)
    raw = _frame(feed, parsed, None, rows, [], rows_read, encoding, list(notes), assume_present)
    if raw is not None:
        raw.lines_from = body
    return raw


def _census_parse(feed: Feed, body: bytes) -> pl.DataFrame | None:
    """Parse a flat feed with the contract's keys only, if that provably loses nothing.

    Reading with an explicit schema skips polars' schema inference over every record
    (most of the cost of `_parse`), but ignores keys outside the schema. So the result
    is used only when a count proves every key in the bytes is a contract key, and
    every contract key is in the bytes; else None (and `_parse` infers as before):

    - guards: no backslash (so every `"` delimits a string and no key is escaped) and
      no space or tab before a `:` (so every key ends in `":`). Then the key tokens, at
      any depth, number exactly `body.count(b'":')` (a string value never ends in
      `":`; one starting with `:` only adds to the count, which is the safe side);
    - a lower bound on the tokens that are contract keys: the non-null values read
      (each is a distinct top-level token) plus the `"key": null` tokens of the
      contract's keys. If the bound equals the count, there is no other key.
    - every contract key must have a non-null value somewhere (a key that is only
      ever null, or absent, is told apart by inference).
    """
    if len(body) < _OVERLAP_BYTES:
        keys = _key_tokens(body)
        return None if keys is None else _census_checked(body, _census_read(feed, body), keys)
    with ThreadPoolExecutor(1) as pool:
        parsing = pool.submit(_census_read, feed, body)
        keys = _key_tokens(body)
        if keys is None:
            return None
        return _census_checked(body, parsing.result(), keys)


def _key_tokens(body: bytes) -> int | None:
    """`body.count(b'":')`, or None when a guard fails (a backslash, or a space or tab
    right before a `:`). One numpy pass over the bytes (it releases the GIL): the byte
    before each `:` tells both.
    """
    if b"\\" in body:
        return None
    data = np.frombuffer(body, np.uint8)
    before_colon = data[np.flatnonzero(data[1:] == ord(":"))]
    if ((before_colon == ord(" ")) | (before_colon == ord("\t"))).any():
        return None
    return int(np.count_nonzero(before_colon == ord('"')))


def _census_read(feed: Feed, body: bytes) -> pl.DataFrame | None:
    try:
        return pl.read_ndjson(io.BytesIO(body), schema=_overrides(feed))
    except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, ValueError):
        return None


def _census_checked(body: bytes, parsed: pl.DataFrame | None, keys: int) -> pl.DataFrame | None:
    """`parsed` if the counts prove it complete (see `_census_parse`); else None."""
    if parsed is None:
        return None
    colon = body.find(b'":')
    null = b'": null' if body[colon + 2 : colon + 3] == b" " else b'":null'
    lower_bound = 0
    for name in parsed.columns:
        values = len(parsed) - parsed.get_column(name).null_count()
        if not values:
            return None
        lower_bound += values
        if values < len(parsed):
            lower_bound += body.count(b'"' + name.encode() + null)
    return parsed if lower_bound == keys else None


def _flat(feed: Feed) -> bool:
    """Every contract key a top-level scalar: no nested path, no JSON-typed value."""
    return all("." not in c.source and c.type != "json" for c in feed.columns)


def _parse(feed: Feed, body: bytes) -> pl.DataFrame | None:
    """Parse with polars; None when polars refuses the bytes (a malformed line)."""
    if _flat(feed) and (parsed := _census_parse(feed, body)) is not None:
        return parsed
    overrides = _overrides(feed)
    while True:
        try:
            return pl.read_ndjson(
                io.BytesIO(body), infer_schema_length=None, schema_overrides=overrides
            )
        except pl.exceptions.SchemaFieldNotFoundError as error:
            # A key absent from the whole file cannot be overridden; drop it and retry.
            missing = str(error).split("\n")[0].strip()
            if missing not in overrides:
                raise
            overrides.pop(missing)
        except (pl.exceptions.ComputeError, pl.exceptions.SchemaError, ValueError):
            return None


def _check_lines(
    lines: pl.Series, good: pl.Series | None, terminated: bool, rejects: list[Reject]
) -> pl.Series:
    """The slow path: which lines are JSON objects (quarantining the others)."""
    ok = []
    last = len(lines) - 1
    already_bad = good.to_list() if good is not None else None
    for i, line in enumerate(lines.to_list()):
        if already_bad is not None and not already_bad[i]:
            ok.append(False)
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            # orjson refuses a lone surrogate that the fast path would read: both paths
            # must call it what it is (`line_fault`).
            if fault := line_fault(line):
                rejects.append(Reject(i + 1, *fault, line))
                ok.append(False)
                continue
            cut = i == last and not terminated
            rejects.append(Reject(i + 1, "truncated_row" if cut else "bad_json", str(error), line))
            ok.append(False)
            continue
        if not isinstance(record, dict):
            rejects.append(
                Reject(i + 1, "bad_json", f"not an object: {type(record).__name__}", line)
            )
            ok.append(False)
            continue
        ok.append(True)
    return pl.Series(ok, dtype=pl.Boolean)


def _frame(
    feed: Feed,
    parsed: pl.DataFrame,
    lines: pl.Series | None,
    rows: pl.Series,
    rejects: list[Reject],
    rows_read: int,
    encoding: str,
    notes: list[str],
    assume_present: Collection[str],
) -> RawRows | None:
    """The rows as text; None when `lines` is None but needed (a required key absent)."""
    parsed_keys = set(parsed.columns)
    present = parsed_keys | set(assume_present)
    known_top = {c.source.split(".")[0] for c in feed.columns}
    missing_required = [
        c.source for c in feed.columns if c.required and c.source.split(".")[0] not in present
    ]
    missing_optional = [
        c.source for c in feed.columns if not c.required and c.source.split(".")[0] not in present
    ]
    extras = [name for name in parsed.columns if name not in known_top]
    if extras:
        notes.append("extra_columns:" + ",".join(extras))
    if missing_optional:
        notes.append("missing_optional_columns:" + ",".join(missing_optional))
    if missing_required and lines is None:
        return None
    if missing_required:
        assert lines is not None
        names = ",".join(missing_required)
        notes.append("missing_columns:" + names)
        rejects.extend(
            Reject(row, f"missing_column:{names}", f"file lacks {names}", line)
            for row, line in zip(rows.to_list(), lines.to_list(), strict=True)
        )
        return RawRows(empty_frame(feed), rejects, rows_read, encoding, notes)

    def value(source: str) -> pl.Expr:
        top, *rest = source.split(".")
        if top not in parsed_keys:
            return pl.lit(None, pl.String)
        return pl.col(top).struct.field(rest[0]) if rest else pl.col(top)

    if extras:
        has_any = pl.any_horizontal([pl.col(name).is_not_null() for name in extras])
        extra = pl.when(has_any).then(pl.struct(extras).struct.json_encode())
    else:
        extra = pl.lit(None, pl.String)
    frame = parsed.select(
        *[value(c.source).cast(pl.String).alias(c.name) for c in feed.columns],
        extra.alias(EXTRA_COLUMN[0]),
    ).with_columns(
        rows.alias(ROW),
        (pl.lit(None, pl.String) if lines is None else lines).alias(RAW_LINE),
        pl.lit(False).alias(UNTERMINATED),
    )
    return RawRows(frame, rejects, rows_read, encoding, notes)
