"""A quiet console: library output goes to the home's log file, errors to their root cause.

Sail (a Rust library inside this process) and Dagster's loggers write to the process's
standard error. Rather than chase each library's logging switch, the CLI points file
descriptor 2 itself at `<home>/logs/bakehouse.log` while a command runs, and gives its
own error console a copy of the original descriptor: the operator sees Bakehouse's
tables and messages, and the log file keeps everything else. `--verbose` skips this.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@contextmanager
def library_output_to(
    log_file: Path, consoles: Iterable[Console] = (), *, until_exit: bool = False
) -> Iterator[Path]:
    """Redirect file descriptor 2 and `sys.stderr` to `log_file` (appended) for the block.

    Descriptor 2 catches native libraries (Sail's Rust logger); `sys.stderr` catches
    Python handlers created inside the block (Dagster's console logger). `consoles`
    (Rich consoles of our own) write to the original stderr meanwhile. Yields the log
    file's path; restores everything on exit, also on error.

    With `until_exit` (the CLI), descriptor 2 stays on the log file after the block,
    because native libraries also write when the process ends (Sail's server shutdown);
    Python's `sys.stderr` and the consoles go back to the terminal.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", encoding="utf-8", errors="replace", buffering=1)
    kept = [(console, getattr(console, "_file", None)) for console in consoles]
    python_stderr = sys.stderr
    # Where our own consoles (and, after an `until_exit` block, Python) write: the
    # terminal, unless Python's stderr is an in-memory stream (a test runner's).
    ours = terminal if _writes_to_descriptor_two(python_stderr) else python_stderr
    sink = open(log_file, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (may outlive the block)
    try:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        sink.write(f"\n=== {started} bakehouse {' '.join(sys.argv[1:])}\n")
        sink.flush()
        os.dup2(sink.fileno(), 2)
        sys.stderr = sink
        for console, _ in kept:
            console.file = ours
        yield log_file
    finally:
        sink.flush()
        for console, previous in kept:
            console.file = previous  # None: "whatever sys.stderr is then"
        if until_exit:
            # Descriptor 2 (and the sink) stay on the log file. Python's stderr goes to
            # the terminal; a replaced stream is kept referenced, since a collected text
            # stream closes what it wraps.
            _KEPT_OPEN.extend((python_stderr, sink, terminal))
            sys.stderr = ours
            os.close(saved)
        else:
            sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
            terminal.close()
            sink.close()


_KEPT_OPEN: list[Any] = []


def _writes_to_descriptor_two(stream: Any) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # an in-memory stream (test runners)
        return False


def root_cause_line(error: Any) -> str:
    """`ClassName: message` of the innermost cause of a Dagster `SerializableErrorInfo`.

    Dagster wraps a step's exception (`DagsterExecutionStepExecutionError: Error
    occurred while executing op ...`) around the one that explains the failure; the
    innermost `cause` (else `context`) is what the operator needs. The module path is
    dropped from the class name; only the message's first line is kept.
    """
    while True:
        inner = getattr(error, "cause", None) or getattr(error, "context", None)
        if inner is None:
            break
        error = inner
    message = (getattr(error, "message", None) or str(error)).strip()
    first = message.splitlines()[0] if message else ""
    name = getattr(error, "cls_name", None)
    head, sep, rest = first.partition(": ")
    if sep and head.split(".")[-1] == (name or head.split(".")[-1]) and " " not in head:
        return f"{head.split('.')[-1]}: {rest}"
    return f"{name}: {first}" if name else first
