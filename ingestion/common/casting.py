"""Typing text rows column by column, and telling apart the rows that cannot be typed.

Every value arrives as text (or null). A value that is present but does not parse as
its contract type makes its row a quarantine row with a reason code; it is never
coerced to null. Parsing is deliberately strict: a money value with a third decimal
is `bad_number`, not rounded; `2026-02-30` is `bad_date`. An identifier column's
text is kept exactly, but a number-shaped value there (`7.1E+18`, `123.0`) is
`id_scientific_notation` / `id_not_integer`: the id's own digits are gone.
"""

from __future__ import annotations

import polars as pl

from bakehouse.config import LOCAL_TZ
from ingestion.common.arrow import decimal_spec, polars_type
from ingestion.common.rows import UNTERMINATED
from ingestion.schemas import Feed

REASON = "__reason_code"
DETAIL = "__reason_detail"

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
_TRUE = ("true", "1", "是", "y", "yes")
_FALSE = ("false", "0", "否", "n", "no")
# Number-shaped damage in an identifier column (`Column.identifier`): a spreadsheet
# turned the id into a number and printed it back. Whatever digits the source had are
# gone, so the row is quarantined rather than landed under a different id.
ID_SCIENTIFIC = r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$"  # 7.1E+18, 4.94078E+11
ID_NOT_INTEGER = r"^[+-]?(\d+\.\d*|\.\d+)$"  # 3801234567890123456.0, 123.5
_REASONS = {
    "int": "bad_number",
    "date": "bad_date",
    "timestamp": "bad_timestamp",
    "bool": "bad_bool",
    "json": "bad_json",
}


def _timestamp(text: pl.Expr) -> pl.Expr:
    """Local wall-clock time (POS slashes, ISO `T`) or ISO with an offset, to UTC.

    The text is normalised first (`/` to `-`, `T` to space, `Z` to `+00:00`) so that
    three strptime passes cover every format the exports use.
    """
    normal = (
        text.str.replace_all("/", "-", literal=True)
        .str.replace("T", " ", literal=True)
        .str.replace("Z", "+00:00", literal=True)
    )
    local = [
        normal.str.strptime(pl.Datetime("us"), fmt, strict=False)
        .dt.replace_time_zone(LOCAL_TZ, non_existent="null")
        .dt.convert_time_zone("UTC")
        for fmt in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
    ]
    with_offset = normal.str.strptime(
        pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S%.f%z", strict=False
    )
    return pl.coalesce(with_offset, *local)


def _typed(text: pl.Expr, type_name: str) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, whether a present value failed to type) for one column."""
    stripped = text.str.strip_chars()
    present = stripped.is_not_null() & (stripped != "")
    if type_name in ("string", "json"):
        # Text is kept exactly (no stripping); only the empty string becomes null.
        return pl.when(text != "").then(text), pl.lit(False)
    if spec := decimal_spec(type_name):
        precision, scale = spec
        pattern = rf"^[+-]?\d{{1,{precision - scale}}}(\.\d{{0,{scale}}}0*)?$"
        ok = stripped.str.contains(pattern)
        value = pl.when(present & ok).then(
            stripped.str.replace(r"\.$", "").cast(pl.Decimal(precision, scale), strict=False)
        )
        return value, present & (~ok | value.is_null())
    if type_name == "int":
        ok = stripped.str.contains(r"^[+-]?\d{1,18}$")
        value = pl.when(present & ok).then(stripped.cast(pl.Int64, strict=False))
        return value, present & value.is_null()
    if type_name == "date":
        value = pl.when(present).then(
            pl.coalesce([stripped.str.strptime(pl.Date, f, strict=False) for f in _DATE_FORMATS])
        )
        return value, present & value.is_null()
    if type_name == "timestamp":
        value = pl.when(present).then(_timestamp(stripped))
        return value, present & value.is_null()
    if type_name == "bool":
        lowered = stripped.str.to_lowercase()
        value = (
            pl.when(lowered.is_in(_TRUE))
            .then(pl.lit(True))
            .when(lowered.is_in(_FALSE))
            .then(pl.lit(False))
        )
        return value, present & value.is_null()
    raise ValueError(f"unknown contract type {type_name!r}")


# Formats the exports really use, tried on a whole column before the general parser:
# (format, whether it carries an offset). A value they parse, the general parser reads
# identically; only the values they miss go through it.
_FAST_TIMESTAMPS = (
    ("%Y-%m-%dT%H:%M:%S%z", True),
    ("%Y/%m/%d %H:%M:%S", False),
    ("%Y-%m-%d %H:%M:%S", False),
)


def _fast_timestamp(text: pl.Series, fmt: str, with_offset: bool) -> pl.Series:
    if with_offset:
        return text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False)
    local = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
    return local.dt.replace_time_zone(LOCAL_TZ, non_existent="null").dt.convert_time_zone("UTC")


def _parse_column(
    text_rows: pl.DataFrame, name: str, type_name: str
) -> tuple[pl.Series, pl.Series] | None:
    """A date, timestamp, bool or int column parsed through its common form first, as
    (values, whether a present value failed); else None.

    The general expression (`_typed`) tries every format on every value, and a format
    that fails is slow in polars; nearly always one format fits a whole column. The
    values it does not parse (bad ones included) go through `_typed`, so results and
    failures are exactly the general parser's.
    """
    if type_name == "bool":
        # JSON booleans arrive as `true` / `false`: two comparisons, no strip or lowercase.
        raw = pl.col(name)
        value, missed = text_rows.select(
            (pl.when(raw == "true").then(True).when(raw == "false").then(False)).alias("v"),
            (raw.is_not_null() & (raw != "true") & (raw != "false")).alias("m"),
        ).get_columns()
        if not value.is_not_null().any():
            return None
        return _complete(text_rows, name, type_name, value, missed)
    if type_name == "int":
        # A value that reads back as itself is a plain integer the general parser takes
        # alike (at most 18 digits); any other goes through it.
        raw = pl.col(name)
        number = raw.cast(pl.Int64, strict=False)
        plain = (number.cast(pl.String) == raw) & number.is_between(-(10**18), 10**18, "none")
        value, missed = text_rows.select(
            pl.when(plain).then(number).alias("v"),
            (raw.is_not_null() & ~plain.fill_null(False)).alias("m"),
        ).get_columns()
        if not value.is_not_null().any():
            return None
        return _complete(text_rows, name, type_name, value, missed)
    if type_name not in ("date", "timestamp"):
        return None
    text = text_rows.get_column(name).str.strip_chars()
    present = text.is_not_null() & (text != "")
    if not present.any():
        return None
    if type_name == "date":
        value = text.str.strptime(pl.Date, _DATE_FORMATS[0], strict=False)
    else:
        sample = text.filter(present).head(100)
        fmt, with_offset = max(
            _FAST_TIMESTAMPS,
            key=lambda f: _fast_timestamp(sample, *f).is_not_null().sum(),
        )
        value = _fast_timestamp(text, fmt, with_offset)
    return _complete(text_rows, name, type_name, value, present & value.is_null())


def _complete(
    text_rows: pl.DataFrame, name: str, type_name: str, value: pl.Series, missed: pl.Series
) -> tuple[pl.Series, pl.Series]:
    """`value` with the `missed` rows parsed by the general expression (`_typed`), and
    the failure flags: only a missed row can fail, as the general parser says."""
    failed = pl.repeat(False, len(value), dtype=pl.Boolean, eager=True)
    if missed.any():
        general, general_failed = _typed(pl.col(name), type_name)
        rest, rest_failed = (
            text_rows.filter(missed)
            .select(general.cast(polars_type(type_name)).alias("v"), general_failed.alias("f"))
            .get_columns()
        )
        positions = missed.arg_true()
        value = value.scatter(positions, rest)
        failed = failed.scatter(positions, rest_failed)
    return value, failed


def _id_damage(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(whether an identifier value is number-shaped damage, its reason code)."""
    stripped = text.str.strip_chars()
    scientific = stripped.str.contains(ID_SCIENTIFIC)
    not_integer = stripped.str.contains(ID_NOT_INTEGER)
    reason = (
        pl.when(scientific)
        .then(pl.lit("id_scientific_notation"))
        .when(not_integer)
        .then(pl.lit("id_not_integer"))
    )
    return (scientific | not_integer).fill_null(False), reason


def type_rows(feed: Feed, text_rows: pl.DataFrame) -> pl.DataFrame:
    """Type the contract columns in place; add the first failure's reason and all details.

    Rows with a non-null `REASON` go to quarantine. A failing row that is the file's
    unterminated last line is reported as `truncated_row`: the cut, not the symptom.
    Each column is parsed once (values and failure flags in one pass); the detail text
    is only built for the few failing rows.
    """
    checked = [c for c in feed.columns if c.type not in ("string", "json") or c.identifier]
    passes, flags, reasons = [], [], {}
    for column in feed.columns:
        value, failed = _typed(pl.col(column.name), column.type)
        parsed = _parse_column(text_rows, column.name, column.type)
        if parsed is not None:
            value, failed = (pl.lit(series) for series in parsed)
        if column.identifier:
            failed, reasons[column.name] = _id_damage(pl.col(column.name))
        passes.append(value.cast(polars_type(column.type)).alias(f"__typed_{column.name}"))
        if column in checked:
            flags.append(failed.alias(f"__failed_{column.name}"))
    typed = text_rows.with_columns(*passes, *flags)
    failures = [
        pl.when(pl.col(f"__failed_{c.name}")).then(
            reasons[c.name]
            if c.name in reasons
            else pl.lit("bad_number" if decimal_spec(c.type) else _REASONS[c.type])
        )
        for c in checked
    ]
    reason = pl.coalesce(failures) if failures else pl.lit(None, pl.String)
    typed = typed.with_columns(
        pl.when(reason.is_not_null() & pl.col(UNTERMINATED))
        .then(pl.lit("truncated_row"))
        .otherwise(reason)
        .alias(REASON)
    )
    if typed.get_column(REASON).null_count() == len(typed):  # nothing failed: no copies
        renamed = {f"__typed_{c.name}": c.name for c in feed.columns}
        internal = [f"__failed_{c.name}" for c in checked]
        return (
            typed.with_columns(pl.lit(None, pl.String).alias(DETAIL))
            .drop([c.name for c in feed.columns] + internal)
            .rename(renamed)
        )
    failing = typed.filter(pl.col(REASON).is_not_null())
    if len(failing):
        details = [
            pl.when(pl.col(f"__failed_{c.name}")).then(
                pl.format("{}={}", pl.lit(c.name), pl.col(c.name))
            )
            for c in checked
        ]
        failing = failing.with_columns(
            pl.concat_str(details, separator="; ", ignore_nulls=True).alias(DETAIL)
        )
    else:
        failing = failing.with_columns(pl.lit(None, pl.String).alias(DETAIL))
    landed = typed.filter(pl.col(REASON).is_null()).with_columns(
        pl.lit(None, pl.String).alias(DETAIL)
    )
    renamed = {f"__typed_{c.name}": c.name for c in feed.columns}
    internal = [f"__failed_{c.name}" for c in checked]
    return (
        pl.concat([landed, failing.select(landed.columns)])
        .drop([c.name for c in feed.columns] + internal)
        .rename(renamed)
    )
