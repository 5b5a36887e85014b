"""The contract's type names as Arrow and polars types, in one place."""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl
import pyarrow as pa

_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def decimal_spec(type_name: str) -> tuple[int, int] | None:
    """(precision, scale) of a `decimal(p,s)` type name, else None."""
    match = _DECIMAL.fullmatch(type_name)
    return (int(match.group(1)), int(match.group(2))) if match else None


def arrow_type(type_name: str) -> pa.DataType:
    if spec := decimal_spec(type_name):
        return pa.decimal128(*spec)
    simple = {
        "string": pa.string(),
        "json": pa.string(),
        "int": pa.int64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "bool": pa.bool_(),
    }
    if type_name not in simple:
        raise ValueError(f"unknown contract type {type_name!r}")
    return simple[type_name]


def polars_type(type_name: str) -> pl.DataType:
    if spec := decimal_spec(type_name):
        return pl.Decimal(*spec)
    simple: dict[str, pl.DataType] = {
        "string": pl.String(),
        "json": pl.String(),
        "int": pl.Int64(),
        "date": pl.Date(),
        "timestamp": pl.Datetime("us", "UTC"),
        "bool": pl.Boolean(),
    }
    if type_name not in simple:
        raise ValueError(f"unknown contract type {type_name!r}")
    return simple[type_name]


def arrow_schema(columns: Iterable[tuple[str, str]], *, large_text: bool = False) -> pa.Schema:
    """The contract's Arrow schema; `large_text`: text as `large_string` (64-bit
    offsets), which is what polars hands out, so no copy is needed (Delta stores both
    as the same `string` type)."""
    text = pa.large_string() if large_text else pa.string()
    return pa.schema(
        [
            pa.field(name, text if type_name in ("string", "json") else arrow_type(type_name))
            for name, type_name in columns
        ]
    )


def to_arrow(
    frame: pl.DataFrame, columns: Iterable[tuple[str, str]], *, large_text: bool = False
) -> pa.Table:
    """A polars frame as an Arrow table with exactly the contract's schema.

    polars hands out large/view strings; Delta wants one stable schema per table, so
    every write goes through this cast.
    """
    columns = list(columns)
    schema = arrow_schema(columns, large_text=large_text)
    ordered = frame.select([name for name, _ in columns]).to_arrow()
    return ordered if ordered.schema == schema else ordered.cast(schema)


def sql_literal(value: str) -> str:
    """A delta-rs predicate string literal, single quotes escaped."""
    return "'" + value.replace("'", "''") + "'"
