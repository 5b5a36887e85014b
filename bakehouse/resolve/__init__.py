"""`bakehouse resolve`: person ids for any CSV of person records (see docs/RESOLVE.md).

- `records`: reading the CSV, preparing comparable attributes (shared
  normalisation from `bakehouse.normalize`).
- `model`: the splink model, trained on the input itself.
- `clusters`: connected components that must hold together.
- `explain`: the waterfall data of linked pairs.
"""

from bakehouse.resolve.records import INPUT_COLUMNS, read_people
from bakehouse.resolve.resolver import (
    DEFAULT_THRESHOLD,
    ResolveConfig,
    ResolveSummary,
    resolve_file,
    resolve_frame,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "INPUT_COLUMNS",
    "ResolveConfig",
    "ResolveSummary",
    "read_people",
    "resolve_file",
    "resolve_frame",
]
