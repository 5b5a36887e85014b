"""Deterministic kill points: crash a run at a named moment, to test that it recovers.

Set `BAKEHOUSE_KILL_AT` before starting a command, e.g.

    BAKEHOUSE_KILL_AT=commit:silver/identity_map setsid bakehouse run --date 2026-11-03

and the process sends SIGKILL to its own process group the moment that point is hit:
no `finally`, no `atexit`, no Dagster event, exactly like `kill -9` or a power cut.

Point names:
- `commit:<layer>/<table>` is hit right after a Delta commit to that table lands.
  Every commit made through `bakehouse.lake.Lake` (Spark writes and MERGEs, delta-rs
  appends, replaceWhere overwrites and deletes, OPTIMIZE) is a point automatically, so
  a new table or transform needs no edit to be killable.
- `step:<name>` is hit where code calls `killpoint("step:<name>")`, for a moment that is
  not a commit (e.g. scratch files written, nothing committed yet). Later stages (gold,
  ML, the warehouse) add theirs the same way.

`BAKEHOUSE_KILL_AT` may hold several names separated by commas; a name may end in
`#N` to kill at its N-th hit in this process (default 1), e.g. `commit:bronze/pos_sales#3`
for the third POS file's append. Unset (the normal case), `killpoint` only counts.

Start the command in its own process group (`setsid`, or `start_new_session=True` from
Python): the whole group is killed, which is what makes the kill realistic (Sail's and
Dagster's helpers die with the run), and what would take a shell down with it otherwise.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter

KILL_AT_ENV = "BAKEHOUSE_KILL_AT"
# Appended to when set: one line per point hit, "<name>#<n>", before any kill. Tests use
# it to list the points a run passes and to check that a kill happened where asked.
TRACE_ENV = "BAKEHOUSE_KILL_TRACE"

_hits: Counter[str] = Counter()


class KillPointError(ValueError):
    """`BAKEHOUSE_KILL_AT` holds a name that is not `commit:...`/`step:...` or a bad `#N`."""


def parse_kill_at(value: str) -> dict[str, int]:
    """`"commit:silver/members#2, step:x"` -> `{"commit:silver/members": 2, "step:x": 1}`.

    Raises KillPointError for a name without a `commit:`/`step:` kind or a `#N` that is
    not a positive integer, so a typo fails loudly instead of never killing.
    """
    wanted: dict[str, int] = {}
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, count = item.partition("#")
        kind, _, rest = name.partition(":")
        if kind not in {"commit", "step"} or not rest:
            raise KillPointError(
                f"{KILL_AT_ENV}: {item!r} is not 'commit:<layer>/<table>' or 'step:<name>'"
            )
        if count and (not count.isdigit() or int(count) < 1):
            raise KillPointError(f"{KILL_AT_ENV}: {item!r}: #N must be a positive integer")
        wanted[name] = int(count) if count else 1
    return wanted


def killpoint(name: str) -> None:
    """Record a hit of point `name`; SIGKILL the process group if `BAKEHOUSE_KILL_AT` asks.

    The environment is read at every call (never at import), so a test can set it for a
    subprocess only. Cheap when unset: one dict update and one environment lookup.
    """
    _hits[name] += 1
    trace = os.environ.get(TRACE_ENV)
    if trace:
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(f"{name}#{_hits[name]}\n")
    spec = os.environ.get(KILL_AT_ENV)
    if not spec:
        return
    if parse_kill_at(spec).get(name) == _hits[name]:
        _die(name)


def commit_point(layer: str, table: str) -> None:
    """The point hit after a commit to `layer.table`: `commit:<layer>/<table>`."""
    killpoint(f"commit:{layer}/{table}")


def hits() -> dict[str, int]:
    """Points hit so far in this process, with their counts."""
    return dict(_hits)


def _die(name: str) -> None:
    sys.stderr.write(f"bakehouse: kill point {name} reached: SIGKILL to process group\n")
    sys.stderr.flush()
    os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)  # not reached: the group includes this process
