"""Reading Meituan's XLSX export: python-calamine (fast), openpyxl when calamine fails.

Cells arrive typed by Excel (numbers as floats, dates as datetimes); they are turned
back into the text a CSV export would have carried, so typing is shared with the other
feeds. A float money cell such as 21.599999999999998 is Excel's binary noise, not a
third decimal: it is rounded to 6 places before typing checks the scale.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any

import polars as pl

from ingestion.common.rows import (
    RAW_LINE,
    ROW,
    UNTERMINATED,
    FileRejected,
    RawRows,
    empty_frame,
    extras_json,
    header_score,
    map_header,
    missing_column_rejects,
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


def read_xlsx(feed: Feed, data: bytes) -> RawRows:
    """Read one XLSX export (see module docstring)."""
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
    numbered = [
        (i + 1, cells)
        for i, cells in enumerate(row for row in texts if any(c is not None for c in row))
    ]
    raw_lines = [",".join(c or "" for c in cells) for _, cells in numbered]
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
    return RawRows(frame, [], len(numbered), "xlsx", notes)
