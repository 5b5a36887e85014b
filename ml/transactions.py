"""Reading plain transaction files for the ML command-line tools.

Both `bakehouse clv` and `bakehouse recommend` take a CSV of transactions that we did
not write: external retail extracts with any id format. This module turns such a file
into a typed frame or raises `TransactionFileError` with a one-line message that names
the problem (missing column, empty file, unparseable date or number, empty id), so the
CLI can print it and exit 2. Nothing is dropped silently: a bad row fails the whole file.

Negative amounts or quantities are *returns*; they are kept here and netted by the
models (see `ml.clv` and `ml.recommend`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class TransactionFileError(ValueError):
    """A transaction file that cannot be used; the message is one line for the user."""


def read_transactions(
    path: str | Path,
    *,
    ids: tuple[str, ...],
    numbers: tuple[str, ...],
    timestamp: str = "ts",
) -> pd.DataFrame:
    """Read a transaction CSV and check it.

    Args:
        path: a CSV file with a header row; extra columns are ignored.
        ids: id columns, kept as stripped strings (never parsed as numbers, so
            ``"007"`` stays ``"007"``); an empty id is an error.
        numbers: numeric columns (float64); negative values are allowed (returns).
        timestamp: the timestamp column, parsed with pandas' mixed-format parser.
            Values with a UTC offset are converted to UTC; naive values are taken as
            they are. The result is naive ``datetime64[ns]``.

    Returns:
        A frame with exactly ``ids + (timestamp,) + numbers`` columns, one row per input row.

    Raises:
        TransactionFileError: the file is missing or empty, lacks a column, or has a
            row with an empty id, an unparseable timestamp or a non-numeric value.
    """
    path = Path(path)
    wanted = (*ids, timestamp, *numbers)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise TransactionFileError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise TransactionFileError(f"{path}: the file is empty (no header row)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise TransactionFileError(f"{path}: not a readable CSV ({first_line})") from None
    raw.columns = [str(column).strip() for column in raw.columns]
    missing = [column for column in wanted if column not in raw.columns]
    if missing:
        raise TransactionFileError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(wanted)}, found {', '.join(raw.columns)}"
        )
    if raw.empty:
        raise TransactionFileError(f"{path}: the file has a header but no rows")

    frame = pd.DataFrame(index=raw.index)
    for column in ids:
        values = raw[column].str.strip()
        _no_bad_rows(path, column, values == "", raw[column], "is empty")
        frame[column] = values
    text = raw[timestamp].str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    _no_bad_rows(path, timestamp, parsed.isna(), raw[timestamp], "is not a date/time")
    frame[timestamp] = parsed.dt.tz_convert(None).astype("datetime64[ns]")
    for column in numbers:
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        bad = values.isna() | ~values.abs().lt(float("inf"))
        _no_bad_rows(path, column, bad, raw[column], "is not a number")
        frame[column] = values.astype("float64")
    return frame.reset_index(drop=True)


def _no_bad_rows(path: Path, column: str, bad: pd.Series, original: pd.Series, what: str) -> None:
    if not bad.any():
        return
    first = int(bad.to_numpy().nonzero()[0][0])
    # Line numbers count the header as line 1, as an editor shows them.
    raise TransactionFileError(
        f"{path}: {int(bad.sum())} row(s) where {column} {what}; "
        f"first at line {first + 2}: {original.iloc[first]!r}"
    )
