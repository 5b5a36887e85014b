"""Reading Meituan's XLSX export: python-calamine (fast), openpyxl when calamine fails.

Cells arrive typed by Excel (numbers as floats, dates as datetimes); they are turned
back into the text a CSV export would have carried, so typing is shared with the other
feeds. A float money cell such as 21.599999999999998 is Excel's binary noise, not a
third decimal: it is rounded to 6 places before typing checks the scale.

Identifier columns (`Column.identifier`) are the exception: a number cell there is
read as the text the file stores (`<v>3801234567890123456</v>`), never as a float,
which holds 15-17 significant digits (calamine gives 3801234567890122752). Stored
scientific notation or a fraction then quarantines the row (`casting`). A text cell
holding half a surrogate pair (an `_xD800_` escape: no character) is `bad_text`.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, time
from typing import Any
from xml.etree import ElementTree

import polars as pl

from ingestion.common.rows import (
    RAW_LINE,
    ROW,
    UNTERMINATED,
    FileRejected,
    RawRows,
    Reject,
    empty_frame,
    extras_json,
    header_score,
    map_header,
    missing_column_rejects,
    shared_checks,
)
from ingestion.schemas import EXTRA_COLUMN, Feed

# The header is looked for this many rows around the declared one, in case the title
# line is dropped or doubled by a future export version.
_HEADER_SEARCH_ROWS = 5


def cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(round(value, 6))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _sheet_rows(data: bytes, sheet: str) -> tuple[list[list[Any]], str]:
    """All rows of `sheet`, and which library read them."""
    calamine_error: Exception | None = None
    try:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if sheet not in workbook.sheet_names:
            raise FileRejected("missing_sheet", f"sheets: {workbook.sheet_names}")
        return workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False), "calamine"
    except FileRejected:
        raise
    except Exception as error:  # a workbook calamine cannot read; openpyxl may
        calamine_error = error
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        raise FileRejected(
            "unreadable_xlsx", f"calamine: {calamine_error}; openpyxl: {error}"
        ) from error
    if sheet not in workbook.sheetnames:
        raise FileRejected("missing_sheet", f"sheets: {workbook.sheetnames}")
    rows = [list(row) for row in workbook[sheet].iter_rows(values_only=True)]
    workbook.close()
    return rows, "openpyxl"


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _sheet_path(archive: zipfile.ZipFile, sheet: str) -> str | None:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (s.get(_DOC_REL) for s in workbook.iter(f"{_MAIN}sheet") if s.get("name") == sheet),
        None,
    )
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next(
        (r.get("Target") for r in rels.iter(f"{_RELS}Relationship") if r.get("Id") == rel_id),
        None,
    )
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def stored_numbers(data: bytes, sheet: str) -> dict[tuple[int, int], str]:
    """The text of every number cell of `sheet` as the file stores it.

    {(0-based row, 0-based column): text of the cell's `<v>`}, read from the sheet's
    XML (ECMA-376 Part 1, 18.3.1.4 `c`: `t="n"` or no `t` is a number). Empty when the
    part cannot be found (the caller then keeps the library's value).
    """
    numbers: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        path = _sheet_path(archive, sheet)
        if path is None or path not in archive.namelist():
            return numbers
        row, column = -1, -1
        with archive.open(path) as part:
            for event, element in ElementTree.iterparse(part, events=("start", "end")):
                if event == "start":
                    if element.tag == f"{_MAIN}row":
                        ref = element.get("r")
                        row = int(ref) - 1 if ref else row + 1
                        column = -1
                    continue
                if element.tag != f"{_MAIN}c":
                    continue
                ref = _CELL_REF.fullmatch(element.get("r") or "")
                column = _column_index(ref.group(1)) if ref else column + 1
                if element.get("t", "n") == "n":
                    value = element.find(f"{_MAIN}v")
                    if value is not None and value.text:
                        numbers[(row, column)] = value.text
                element.clear()
    return numbers


# An OOXML `_xHHHH_` escape of half a surrogate pair (ECMA-376 Part 1, 22.9.2.19): no
# character. calamine leaves it as the literal text `_xD800_`; a library may decode it
# to a lone surrogate. Either way the cell is not the text the source meant.
_SURROGATE_ESCAPE = re.compile(r"_x[dD][89a-fA-F][0-9a-fA-F]{2}_|[\ud800-\udfff]")


def _bad_text(text: str | None) -> bool:
    return text is not None and _SURROGATE_ESCAPE.search(text) is not None


def read_xlsx(feed: Feed, data: bytes) -> RawRows:
    """Read one XLSX export (see module docstring); notes `normalisable:N` when any
    identifier value's join form differs from it (`rows.shared_checks`)."""
    return shared_checks(feed, _read_xlsx(feed, data))


def _read_xlsx(feed: Feed, data: bytes) -> RawRows:
    if not data:
        raise FileRejected("empty_file", "0 bytes")
    assert feed.sheet is not None, f"{feed.name} is an xlsx feed without a sheet"
    rows, engine = _sheet_rows(data, feed.sheet)
    notes = [] if engine == "calamine" else ["read_with_openpyxl"]
    declared = feed.header_row - 1
    window = range(max(0, declared - _HEADER_SEARCH_ROWS), min(len(rows), declared + 5))
    scored = [(header_score(feed, [cell_text(c) or "" for c in rows[i]]), i) for i in window]
    best_score, header_index = max(scored, key=lambda s: (s[0], s[1] == declared), default=(0, 0))
    if best_score == 0:
        raise FileRejected("unrecognised_header", f"no header found near row {feed.header_row}")
    if header_index != declared:
        notes.append(f"header_row:{header_index + 1}")
    header = [cell_text(c) or "" for c in rows[header_index]]
    while header and not header[-1]:  # calamine pads rows to the sheet's used width
        header.pop()
    header_map = map_header(feed, header)
    notes.extend(header_map.notes())

    texts = [[cell_text(c) for c in row] for row in rows[header_index + 1 :]]
    id_positions = [
        header_map.positions[name] for name in feed.identifier_names if name in header_map.positions
    ]
    number_ids = [
        (i, p)
        for i, row in enumerate(rows[header_index + 1 :])
        for p in id_positions
        if p < len(row) and isinstance(row[p], int | float) and not isinstance(row[p], bool)
    ]
    if number_ids:
        stored = stored_numbers(data, feed.sheet)
        for i, p in number_ids:
            if (text := stored.get((header_index + 1 + i, p))) is not None:
                texts[i][p] = text
            elif isinstance(rows[header_index + 1 + i][p], float):
                texts[i][p] = repr(rows[header_index + 1 + i][p])  # 7.1e+18: never shortened
        notes.append(f"id_number_cells:{len(number_ids)}")
    numbered = [
        (i + 1, cells)
        for i, cells in enumerate(row for row in texts if any(c is not None for c in row))
    ]
    raw_lines = [",".join(c or "" for c in cells) for _, cells in numbered]
    bad_text = {n for n, cells in numbered if any(_bad_text(c) for c in cells)}
    if not numbered:
        return RawRows(empty_frame(feed), [], 0, "xlsx", notes)
    if header_map.missing_required:
        return RawRows(
            empty_frame(feed),
            missing_column_rejects(header_map, raw_lines),
            len(numbered),
            "xlsx",
            notes,
        )

    rejects = [
        Reject(
            n,
            "bad_text",
            "a cell holds half a surrogate pair (an _xD800_ escape): no character",
            line.encode("utf-8", "backslashreplace").decode(),
        )
        for (n, _), line in zip(numbered, raw_lines, strict=True)
        if n in bad_text
    ]
    if bad_text:
        kept = [(i, item) for i, item in enumerate(numbered) if item[0] not in bad_text]
        raw_lines = [raw_lines[i] for i, _ in kept]
        numbered = [item for _, item in kept]

    def cell(cells: list[str | None], position: int) -> str | None:
        return cells[position] if position < len(cells) else None

    columns = {
        c.name: [cell(cells, header_map.positions[c.name]) for _, cells in numbered]
        if c.name in header_map.positions
        else [None] * len(numbered)
        for c in feed.columns
    }
    columns[EXTRA_COLUMN[0]] = [
        extras_json({name: cell(cells, i) for name, i in header_map.extras.items()})
        if header_map.extras
        else None
        for _, cells in numbered
    ]
    frame = pl.DataFrame(
        {
            **columns,
            ROW: [n for n, _ in numbered],
            RAW_LINE: raw_lines,
            UNTERMINATED: [False] * len(numbered),
        },
        schema={
            **dict.fromkeys(columns, pl.String),
            ROW: pl.Int64,
            RAW_LINE: pl.String,
            UNTERMINATED: pl.Boolean,
        },
    )
    return RawRows(frame, rejects, len(numbered) + len(rejects), "xlsx", notes)
