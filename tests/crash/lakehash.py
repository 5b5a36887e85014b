"""Content digests of every Delta table of a home, to compare two runs' lakes.

A table's digest is the SHA-256 of its rows as canonical JSON lines, sorted: row order
and file layout (how many commits, how files were compacted) do not count, values do.
Columns that differ between two runs by design (when and in which run a row was
written) are blanked, and listed here so a reader sees exactly what is not compared.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
from deltalake import DeltaTable

# Per-run columns: when, and in which run, a row was written. Their values are not
# compared, only whether they are set (a ledger row superseded or not still counts).
PER_RUN_COLUMNS: frozenset[str] = frozenset(
    {
        "ingested_at",  # bronze, quarantine and bronze.file_ledger lineage
        "batch_id",  # the same
        "superseded_at",  # bronze.file_ledger: when a later copy replaced the file
        "processed_at",  # silver.identity_files: when OneID read the file
        "estimated_at",  # silver.identity_model: when the weak-link model was estimated
    }
)
# Tables that are logs of the runs themselves, not data: a re-run adds its own lines.
RUN_LOG_TABLES = frozenset(
    {
        "silver.build_log",  # one line per silver build
        "silver.identity_nights",  # OneID's commit manifest: started/done/rolled_back per run
    }
)
PER_RUN_VALUE = "<per run>"


def table_rows(path: Path | str) -> list[str]:
    """The table's current rows as sorted canonical JSON lines, per-run values blanked."""
    frame = pl.scan_delta(str(path)).collect()
    frame = frame.with_columns(
        pl.when(pl.col(c).is_null()).then(None).otherwise(pl.lit(PER_RUN_VALUE)).alias(c)
        for c in frame.columns
        if c in PER_RUN_COLUMNS
    )
    rows = [
        json.dumps(row, sort_keys=True, default=str, ensure_ascii=False) for row in frame.to_dicts()
    ]
    return sorted(rows)


def lake_tables(home: Path) -> list[str]:
    """Every Delta table under `home/lake`, as `layer.table`."""
    lake = home / "lake"
    return sorted(
        f"{layer.name}.{table.name}"
        for layer in lake.iterdir()
        if layer.is_dir()
        for table in layer.iterdir()
        if DeltaTable.is_deltatable(str(table))
    )


def lake_digest(home: Path) -> dict[str, str]:
    """`layer.table` -> SHA-256 of its rows, for every table except the run logs."""
    digests = {}
    for name in lake_tables(home):
        if name in RUN_LOG_TABLES:
            continue
        rows = table_rows(home / "lake" / name.replace(".", "/", 1))
        digests[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def describe_differences(expected: Path, actual: Path, limit: int = 3) -> str:
    """A readable account of which tables differ and a few rows on each side."""
    want, got = lake_digest(expected), lake_digest(actual)
    lines = []
    for name in sorted(set(want) | set(got)):
        if want.get(name) == got.get(name):
            continue
        if name not in got or name not in want:
            lines.append(f"{name}: only in {'expected' if name in want else 'actual'}")
            continue
        path = name.replace(".", "/", 1)
        left = table_rows(expected / "lake" / path)
        right = table_rows(actual / "lake" / path)
        missing = sorted(set(left) - set(right))
        extra = sorted(set(right) - set(left))
        lines.append(
            f"{name}: {len(left)} rows expected, {len(right)} found; "
            f"{len(missing)} missing, {len(extra)} unexpected"
            + (" (same rows, different multiplicity)" if not missing and not extra else "")
        )
        lines += [f"  - {row[:300]}" for row in missing[:limit]]
        lines += [f"  + {row[:300]}" for row in extra[:limit]]
    return "\n".join(lines)
