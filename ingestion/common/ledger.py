"""The file ledger: which landing file, in which content, became what in bronze.

One row per (file name, sha256). The row of the copy that currently counts has status
`landed`, `rejected` or `duplicate`; when a re-export of the same name arrives, the
older rows become `superseded`. The ledger is what makes ingestion idempotent (a name
and content already recorded is skipped) and what `ingestion.report` reads.

The ledger is small (a few hundred rows a day), so it is read whole at the start of a
run and rewritten per batch for the names that batch touched, in one commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pyarrow as pa

from bakehouse.lake import Lake
from ingestion.common.arrow import arrow_schema, sql_literal
from ingestion.schemas import FEEDS_BY_NAME, LEDGER_COLUMNS, LEDGER_TABLE

LANDED, REJECTED, SUPERSEDED, DUPLICATE = "landed", "rejected", "superseded", "duplicate"
LEDGER_SCHEMA = arrow_schema(LEDGER_COLUMNS)


class Ledger:
    """The ledger in memory, with the lookups ingestion needs and per-batch commits."""

    def __init__(self, lake: Lake, rows: Iterable[dict[str, Any]] = ()) -> None:
        self.lake = lake
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._by_name: dict[str, set[str]] = defaultdict(set)
        self._by_sha: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            self._index(row)

    @classmethod
    def load(cls, lake: Lake) -> Ledger:
        if not lake.exists("bronze", LEDGER_TABLE):
            return cls(lake)
        return cls(lake, lake.read_arrow("bronze", LEDGER_TABLE).to_pylist())

    def _index(self, row: dict[str, Any]) -> None:
        key = (row["source_file"], row["file_sha256"])
        self._rows[key] = row
        self._by_name[row["source_file"]].add(row["file_sha256"])
        self._by_sha[row["file_sha256"]].add(row["source_file"])

    # -- lookups ----------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows.values())

    def current(self, source_file: str) -> list[dict[str, Any]]:
        """The rows of a name that still count (normally one)."""
        return [
            row
            for sha in self._by_name.get(source_file, ())
            if (row := self._rows[(source_file, sha)])["status"] != SUPERSEDED
        ]

    def is_current(self, source_file: str, sha: str) -> bool:
        row = self._rows.get((source_file, sha))
        return row is not None and row["status"] != SUPERSEDED

    def duplicate_of(self, source_file: str, sha: str, feed: str | None) -> str | None:
        """The landed file, under another name, whose bytes these are; None if none.

        Files without data rows (header-only, empty JSON lines) are alike by nature and
        never duplicates. Nor is an unchanged master snapshot sent again for a new date.
        """
        for name in sorted(self._by_sha.get(sha, ())):
            row = self._rows[(name, sha)]
            if name == source_file or row["status"] != LANDED or not row["rows_read"]:
                continue
            if feed is not None and feed == row["feed"] and FEEDS_BY_NAME[feed].snapshot:
                continue
            return name
        return None

    def had_rows(self, source_file: str, column: str) -> bool:
        """Whether a copy of this name that still counts put rows in bronze/quarantine."""
        return any(row["status"] == LANDED and row[column] for row in self.current(source_file))

    # -- changes ----------------------------------------------------------------------
    def record(self, row: dict[str, Any], now: datetime) -> None:
        """Add the row of a new copy; older copies of the same name become superseded."""
        for old in self.current(row["source_file"]):
            if old["file_sha256"] != row["file_sha256"]:
                old["status"] = SUPERSEDED
                old["superseded_at"] = now
        self._index(row)

    def commit(self, names: Iterable[str]) -> None:
        """Write the rows of `names` (old and new) in one atomic replace."""
        names = sorted(set(names))
        if not names:
            return
        rows = [self._rows[(name, sha)] for name in names for sha in sorted(self._by_name[name])]
        table = pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA)
        predicate = "source_file IN (" + ", ".join(sql_literal(n) for n in names) + ")"
        self.lake.write_arrow(table, "bronze", LEDGER_TABLE, mode="overwrite", predicate=predicate)
