"""Frames that keep their column types when a day has no rows.

``pl.DataFrame({"store": np.array([], int), "channel": "eleme"})`` is all ``Null``
columns (polars cannot broadcast a scalar to zero rows and gives up on the types), and
a numpy ``object`` array becomes an ``Object`` column the CSV writer refuses. A quiet
day at a small scale produces exactly these, so every frame the simulator builds from
arrays goes through `table`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import polars as pl


def _series(name: str, values: Any) -> pl.Series:
    if isinstance(values, pl.Series):
        return values.alias(name)
    if isinstance(values, list):  # the simulator's lists are text; an empty one too
        return pl.Series(name, values, dtype=None if values else pl.String)
    array = np.asarray(values)
    if array.dtype == object:
        return pl.Series(name, array.tolist(), dtype=pl.String, strict=False)
    return pl.Series(name, array)


def table(
    columns: Mapping[str, Any], schema_overrides: Mapping[str, pl.DataType] | None = None
) -> pl.DataFrame:
    """A frame from arrays/Series (equal lengths) and scalars broadcast to every row.

    Shapes: every non-scalar value has the frame's length; scalars (str, int, float,
    bool, None) become a literal column of the scalar's type. Column order is the
    mapping's. A numpy ``object`` array becomes a String column (``None`` → null).
    ``schema_overrides`` casts the named columns. Raises ``polars.ShapeError`` when array
    lengths differ.
    """
    arrays = {
        name: _series(name, values) for name, values in columns.items() if not _is_scalar(values)
    }
    frame = pl.DataFrame(list(arrays.values())) if arrays else pl.DataFrame()
    scalars = {name: values for name, values in columns.items() if _is_scalar(values)}
    if scalars:
        frame = frame.with_columns(pl.lit(value).alias(name) for name, value in scalars.items())
    frame = frame.select(list(columns))
    if schema_overrides:
        frame = frame.cast(dict(schema_overrides))
    return frame


def _is_scalar(values: Any) -> bool:
    return values is None or isinstance(
        values, str | bytes | int | float | bool | np.generic | date
    )


def text(values: Any) -> pl.Series:
    """A String Series from a numpy array of text (``object`` or unicode), even when empty."""
    return _series("", values).cast(pl.String)


def zfill(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded text of at least ``width`` digits.

    ``np.char.zfill`` fails on an empty array (it takes the max width); this does not.
    """
    if numbers.size == 0:
        return np.array([], dtype=f"<U{width}")
    return np.char.zfill(numbers.astype(str), width)
