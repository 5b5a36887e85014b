"""The `bakehouse` command line: init, simulate, run, demo, doctor, maintain, rekey,
resolve, clv, recommend, sql, ui.

Heavy imports (Spark, Dagster, the simulator) happen inside the commands, so
`bakehouse --help` answers at once.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bakehouse.config import (
    LOCAL_TZ,
    Settings,
    apply_telemetry_off,
    load_settings,
    restrict_umask,
)

app = typer.Typer(
    name="bakehouse",
    help="Bakehouse: the bakery chain's lakehouse and customer data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Pipes and CI logs get a wide, stable layout instead of Rich's 80-column default.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)


def _version_callback(value: bool) -> None:
    if value:
        from importlib import metadata

        console.print(f"bakehouse {metadata.version('bakehouse')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Bakehouse: the bakery chain's lakehouse and customer data platform."""
    restrict_umask()


VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Show library logs (Sail, Dagster) instead of the home's log file."
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} expects a date as YYYY-MM-DD, got {value!r}") from None


def _settings() -> Settings:
    """The settings of an existing home; a missing or unwritable home is a clear error.

    Never creates a home: a mistyped BAKEHOUSE_HOME must not become a new empty lake
    (`bakehouse init` creates one).
    """
    from bakehouse.preflight import home_check

    apply_telemetry_off()
    settings = load_settings()
    finding = home_check(settings)
    if not finding.ok:
        raise _fail(finding.detail)
    return settings


def _preflight(settings: Settings, dates: list[date] | tuple = ()) -> None:
    """bakehouse.preflight before a lake write: one line and exit 2 when it fails."""
    from bakehouse.preflight import PreflightError, preflight

    try:
        preflight(settings, dates)
    except PreflightError as error:
        raise _fail(str(error)) from None


def _quiet(settings: Settings, verbose: bool) -> AbstractContextManager:
    """Library output to the home's log file unless --verbose (bakehouse.quiet)."""
    if verbose:
        return nullcontext()
    from bakehouse.quiet import library_output_to

    return library_output_to(settings.log_file, consoles=[err_console], until_exit=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _table(title: str, rows: list[dict], *, right: set[str] | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    if not rows:
        table.add_column("(nothing)")
        return table
    for column in rows[0]:
        table.add_column(str(column), justify="right" if column in (right or set()) else "left")
    for row in rows:
        table.add_row(*(_cell(value) for value in row.values()))
    return table


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


# -- init ----------------------------------------------------------------------
@app.command()
def init(
    home: Annotated[
        Path | None,
        typer.Option(
            help="Where to create the home [default: $BAKEHOUSE_HOME, else ./.bakehouse]."
        ),
    ] = None,
) -> None:
    """Create a home (or complete one) and show where each extract goes in landing/."""
    apply_telemetry_off()
    settings = load_settings()
    if home is not None:
        settings = Settings(home=home.expanduser().resolve(), spark_remote=settings.spark_remote)
    _init(settings)
    _print_landing_contract(settings)
    if home is not None:
        console.print(
            f"Point the commands at it: export BAKEHOUSE_HOME={settings.home}", soft_wrap=True
        )


def _init(settings: Settings) -> None:
    from bakehouse.home import KeyNotWrittenError, init_home
    from bakehouse.pii import KEY_ENV

    try:
        result = init_home(settings)
    except KeyNotWrittenError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _fail(f"cannot create the home {settings.home}: {error.strerror or error}") from None
    state = "created" if settings.home in result.created else "ready"
    console.print(f"home {state}: {settings.home} (mode 0700)")
    if result.key_file_written:
        console.print(
            f"[yellow]{KEY_ENV} is not set: generated a key (random) into "
            f"{settings.pii_key_file} (0600). Back it up: without it the lake's pseudonyms "
            f"cannot be extended. In production set {KEY_ENV} instead.[/]",
            soft_wrap=True,
        )


def _print_landing_contract(settings: Settings) -> None:
    from bakehouse.home import landing_contract

    table = Table(
        title=f"Put each night's extracts under {settings.landing}/", title_justify="left"
    )
    for column in ("folder", "file name", "lands in bronze", "what"):
        table.add_column(column)
    for entry in landing_contract():
        table.add_row(f"{entry.folder}/", entry.pattern, entry.feed, entry.description)
    console.print(table)
    console.print(
        "Dates in names are business dates (yyyymmdd; yyyymm for monthly files). "
        "Then run a night: bakehouse run --date YYYY-MM-DD",
        soft_wrap=True,
    )


# -- simulate ------------------------------------------------------------------
@app.command()
def simulate(
    scale: Annotated[
        float, typer.Option(help="1.0 = today's chain: 200 stores, 2M members.")
    ] = 0.01,
    start: Annotated[str, typer.Option(help="First business date, YYYY-MM-DD.")] = ...,
    days: Annotated[int, typer.Option(min=1, help="Number of business days.")] = 7,
    landing: Annotated[
        Path | None, typer.Option(help="Landing dir [default: $BAKEHOUSE_HOME/landing].")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Ground-truth dir [default: beside landing].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 42,
    faults: Annotated[
        bool, typer.Option("--faults/--no-faults", help="Inject faulty files.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Replace landing files that already exist for these dates.")
    ] = False,
) -> None:
    """Write a simulated chain's nightly extracts (and the ground truth behind them)."""
    start_date = _parse_date(start, "--start")
    if scale <= 0:
        raise _fail("--scale must be positive")
    settings = _settings() if landing is None else load_settings()
    landing_dir = (landing or settings.landing).resolve()
    truth_dir = (truth or landing_dir.parent / "truth").resolve()
    summary = _simulate(
        landing_dir, truth_dir, scale, start_date, days, seed, faults, overwrite=overwrite
    )
    console.print(f"landing: {landing_dir}\ntruth:   {truth_dir}")
    _print_simulation(summary)
    last = start_date + timedelta(days=days - 1)
    console.print(
        f"The member base is dated {summary.first_run_date}: run from there, e.g. "
        f"bakehouse run --from {summary.first_run_date} --to {last}"
    )


def _print_simulation(summary) -> None:
    rows = [dict(zip(summary.columns, row, strict=True)) for row in summary.to_rows()]
    title = (
        f"Simulated extracts: {summary.days} days, {summary.faults_injected} faults injected, "
        f"{summary.seconds:.1f} s"
    )
    console.print(_table(title, rows, right={"files", "rows", "bytes"}))


def _simulate(
    landing: Path,
    truth: Path,
    scale: float,
    start: date,
    days: int,
    seed: int,
    faults: bool,
    overwrite: bool = False,
):
    from bakehouse.sim import simulate as run_simulation
    from bakehouse.sim.engine import SimulationRefused, preflight

    try:  # before the progress bar: a refusal is one line
        preflight(landing, scale=scale, start=start, days=days, overwrite=overwrite)
    except SimulationRefused as refused:
        raise _fail(str(refused)) from None
    with _progress() as progress:
        task = progress.add_task("simulating", total=days)

        def on_progress(stage: str, done: int, total: int) -> None:
            progress.update(task, description=f"simulating: {stage}", completed=done, total=total)

        try:
            return run_simulation(
                landing,
                truth,
                scale=scale,
                start=start,
                days=days,
                seed=seed,
                faults=faults,
                progress=on_progress,
                overwrite=overwrite,
            )
        except SimulationRefused as refused:
            raise _fail(str(refused)) from None


# -- run -----------------------------------------------------------------------
@app.command()
def run(
    on: Annotated[str | None, typer.Option("--date", help="One business date, YYYY-MM-DD.")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First business date of a range.")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last business date of a range.")] = None,
    force: Annotated[
        bool, typer.Option(help="Run even if Dagster shows a lake-writing run in progress.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Run the nightly pipeline for one business date or a range of them.

    Exits non-zero only when the platform failed; bad source data is quarantined and
    reported, not an error. The runs are not queued by the Dagster daemon, so this
    refuses to start while a queued lake-writing run is in progress.
    """
    from orchestration.runner import date_range

    single, first, last = (
        _parse_date(v, o) for v, o in ((on, "--date"), (from_, "--from"), (to, "--to"))
    )
    if single and (first or last):
        raise _fail("use either --date or --from/--to, not both")
    if single:
        dates = [single]
    elif first and last:
        try:
            dates = date_range(first, last)
        except ValueError as error:
            raise _fail(str(error)) from None
    else:
        raise _fail("give --date YYYY-MM-DD, or --from YYYY-MM-DD --to YYYY-MM-DD")
    settings = _settings()
    _preflight(settings, dates)
    if not force and (writers := _lake_writers_in_progress(settings)):
        raise _fail(
            f"Dagster shows runs writing the lake in progress ({', '.join(writers)}); "
            "wait for them, or pass --force if they are dead.",
            code=1,
        )
    with _quiet(settings, verbose):
        ok = _run_and_report(settings, dates)
    if not ok:
        raise typer.Exit(1)


def _run_and_report(settings: Settings, dates: list[date]) -> bool:
    from orchestration.runner import run_nights

    with _progress() as progress:
        # One bar per night: its steps (bronze feeds, silver, identity, gold, ML).
        tasks: dict[date, int] = {}

        def on_step(night: date, label: str, started: int, total: int) -> None:
            if night not in tasks:
                tasks[night] = progress.add_task(str(night), total=total)
            progress.update(tasks[night], description=f"{night}: {label}", completed=started - 1)

        def on_night(night) -> None:
            task = tasks.get(night.business_date)
            if task is None:
                task = tasks[night.business_date] = progress.add_task("", total=1)
            status = "ok" if night.success else "FAILED"
            progress.update(task, description=f"{night.business_date}: {status}")
            if night.success:
                progress.update(task, completed=progress._tasks[task].total)

        nights = run_nights(settings, dates, on_night=on_night, on_step=on_step)
    console.print(
        _table(
            "Nightly runs",
            [
                {
                    "business date": n.business_date.isoformat(),
                    "status": "[green]ok[/]" if n.success else "[bold red]FAILED[/]",
                    "seconds": round(n.seconds, 1),
                    "run id": n.run_id[:8],
                    "failed steps": ", ".join(n.failed_steps),
                }
                for n in nights
            ],
            right={"seconds"},
        )
    )
    _print_bronze_summary(settings, dates)
    _print_gold_summary(settings)
    for night in nights:
        if night.error:
            err_console.print(f"[red]{night.business_date}: {night.error}[/]")
    return all(n.success for n in nights)


def _print_gold_summary(settings: Settings) -> None:
    from bakehouse.warehouse import gold_row_counts

    if counts := gold_row_counts(settings):
        rows = [{"mart": f"gold.{table}", "rows": rows} for table, rows in counts.items()]
        console.print(_table("Gold marts built", rows, right={"rows"}))


# FeedSummary field -> column header
_SUMMARY_HEADERS = {
    "feed": "feed",
    "files": "files",
    "rows_read": "rows read",
    "rows_landed": "landed",
    "rows_quarantined": "quarantined",
    "rejected": "rejected files",
    "duplicates": "duplicates",
    "superseded": "superseded",
    "unchanged": "unchanged",
}


def _print_bronze_summary(settings: Settings, dates: list[date]) -> None:
    try:
        from ingestion.report import problems, summary
    except ImportError:
        return
    rows = summary(settings, dates)
    display = [
        {header: getattr(row, field) for field, header in _SUMMARY_HEADERS.items()} for row in rows
    ]
    for row in display:
        row["feed"] = _feed_display(row["feed"])
    numeric = set(_SUMMARY_HEADERS.values()) - {"feed"}
    console.print(
        _table("Bronze accounting: rows read = landed + quarantined", display, right=numeric)
    )
    found = problems(settings, dates)
    if found:
        lines = [
            f"{_feed_display(p.feed)}: {_counted(p.count, p.kind)} — {p.reason} (e.g. {p.example})"
            for p in found[:20]
        ]
        if len(found) > 20:
            lines.append(f"... and {len(found) - 20} more")
        lines.append(
            f"Nothing was dropped: see {settings.layer('quarantine')} and bronze/file_ledger."
        )
        err_console.print(
            Panel(
                "\n".join(lines),
                title="[bold yellow]Source data problems (quarantined or rejected, not lost)",
                border_style="yellow",
            )
        )
    _print_landing_notices(settings, dates)


def _print_landing_notices(settings: Settings, dates: list[date]) -> None:
    """Missing, late, waiting and misplaced landing files (ingestion.report.landing_notices)."""
    from ingestion.report import landing_notices

    notices = landing_notices(settings, dates)
    if not notices:
        return
    errors = sum(n.severity == "error" for n in notices)
    lines = [
        f"{'[red]error[/]' if n.severity == 'error' else 'warning'}: {n.message}"
        for n in notices[:30]
    ]
    if len(notices) > 30:
        lines.append(f"... and {len(notices) - 30} more: see bronze/feed_completeness")
    err_console.print(
        Panel(
            "\n".join(lines),
            title=f"[bold]Landing files: {errors} error(s), {len(notices) - errors} warning(s)",
            border_style="red" if errors else "yellow",
        )
    )


def _counted(count: int, noun: str) -> str:
    """`1 quarantined row`, `2 quarantined rows`, `1 rejected file`: number and noun agree."""
    singular = noun[:-1] if noun.endswith("s") else noun
    return f"{count:,} {singular if count == 1 else singular + 's'}"


def _feed_display(label: str) -> str:
    """The report's `pos/(unknown)` (files of no known feed) in words."""
    source, sep, rest = label.partition("/")
    if sep and rest == "(unknown)":
        return f"{source}: unrecognised files"
    return label


# -- demo ----------------------------------------------------------------------
@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1, help="Business days to simulate.")] = 7,
    scale: Annotated[float, typer.Option(help="Chain size; 0.01 = 3 stores, 20k members.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    faults: Annotated[
        bool, typer.Option("--faults/--no-faults", help="Inject faulty files.")
    ] = True,
    verbose: VerboseOption = False,
) -> None:
    """Simulate a small chain for a week, run every night of it, and show what happened.

    Creates the home first, as `bakehouse init` does.
    """
    apply_telemetry_off()
    settings = load_settings()
    _init(settings)
    today = datetime.now(ZoneInfo(LOCAL_TZ)).date()
    start = today - timedelta(days=days)
    # The CRM's onboarding dump of the member base is dated the day before the first day.
    nights = [start + timedelta(days=offset) for offset in range(-1, days)]
    _preflight(settings, nights)
    with _quiet(settings, verbose):
        console.rule(f"1. simulate {days} days from {start} at scale {scale}")
        summary = _simulate(settings.landing, settings.truth, scale, start, days, seed, faults)
        _print_simulation(summary)
        console.rule("2. run the nightly pipeline")
        ok = _run_and_report(settings, nights)
        console.rule("3. the lakehouse")
        _print_lake(settings)
    _next_steps(settings)
    if not ok:
        raise typer.Exit(1)


def _print_lake(settings: Settings) -> None:
    from bakehouse import warehouse
    from bakehouse.lake import Lake

    lake = Lake(settings)
    rows = []
    for layer, tables in lake.all_tables().items():
        for table in tables:
            rows.append(
                {
                    "layer": layer,
                    "table": table,
                    "rows": lake.row_count(layer, table),
                    "version": lake.version(layer, table),
                }
            )
    console.print(_table("Delta tables", rows, right={"rows", "version"}))
    views = warehouse.refresh_views(settings)
    console.print(
        f"analyst database: {settings.warehouse} ({len(views)} views over silver and gold)"
    )


def _next_steps(settings: Settings) -> None:
    """What to try next, one command per line, never wrapped inside a border.

    A command broken across a panel's border cannot be copied; commands are printed
    with soft wrapping, so a narrow terminal folds them without inserting line breaks.
    """
    home = settings.home
    steps = [
        ("Dagster UI", f"BAKEHOUSE_HOME={home} bakehouse ui dagster"),
        ("MLflow UI", f"BAKEHOUSE_HOME={home} bakehouse ui mlflow"),
        (
            "Analyst SQL",
            f'BAKEHOUSE_HOME={home} bakehouse sql "select * from silver.orders limit 10"',
        ),
        (
            "Plain DuckDB (read-only, no extension)",
            f".venv/bin/duckdb -readonly {settings.warehouse}",
        ),
        ("Your own extracts (init lists the landing patterns)", "bakehouse init --home DIR"),
        ("Then each night", f"BAKEHOUSE_HOME={home} bakehouse run --date YYYY-MM-DD"),
        ("Health", f"BAKEHOUSE_HOME={home} bakehouse doctor"),
    ]
    console.rule("[green]Next steps", style="green")
    for label, command in steps:
        console.print(f"[bold]{label}:[/]")
        console.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)


# -- doctor --------------------------------------------------------------------
@app.command()
def doctor() -> None:
    """Check the environment: home, PII key, permissions, versions, Spark, DuckDB, telemetry.

    Reports every check as a row (also for a missing home); exits 1 if any failed.
    """
    from bakehouse.doctor import run_checks

    apply_telemetry_off()
    checks = run_checks(load_settings())
    table = Table(title="bakehouse doctor", title_justify="left")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[bold red]FAIL[/]", check.detail)
    console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


# -- maintain ------------------------------------------------------------------
@app.command()
def maintain(
    retention_hours: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Keep files old versions need for this long "
            "[default: $BAKEHOUSE_VACUUM_RETENTION_HOURS, else 168].",
        ),
    ] = None,
    allow_short_retention: Annotated[
        bool,
        typer.Option(
            help="Allow a retention below the tables' safe minimum (7 days): breaks time "
            "travel and running readers.",
        ),
    ] = False,
    layer: Annotated[
        list[str] | None, typer.Option(help="Only this layer (repeatable) [default: all].")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Run even if Dagster shows a lake-writing run in progress.")
    ] = False,
) -> None:
    """Compact small files and vacuum old versions of every Delta table (OPTIMIZE, VACUUM).

    The same maintenance the weekly Dagster schedule runs.
    """
    from bakehouse.config import LAYERS
    from bakehouse.lake import Lake
    from bakehouse.maintenance import (
        MaintenanceError,
        allow_short_retention_from_env,
        maintain_lake,
        retention_from_env,
    )

    layers = layer or list(LAYERS)
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        raise _fail(f"unknown layer {', '.join(unknown)}; expected some of {', '.join(LAYERS)}")
    settings = _settings()
    _preflight(settings)
    if not force:
        writers = _lake_writers_in_progress(settings)
        if writers:
            raise _fail(
                f"Dagster shows runs writing the lake in progress ({', '.join(writers)}); "
                "wait for them, or pass --force if they are dead.",
                code=1,
            )
    try:
        hours = retention_from_env() if retention_hours is None else retention_hours
        allow_short = allow_short_retention or allow_short_retention_from_env()
        with _progress() as progress:
            task = progress.add_task("maintaining tables", total=None)
            results = maintain_lake(
                Lake(settings),
                retention_hours=hours,
                allow_short_retention=allow_short,
                layers=layers,
                on_table=lambda result: progress.advance(task),
            )
            progress.update(task, total=len(results))
    except MaintenanceError as error:
        raise _fail(str(error)) from None
    rows = [
        {
            "table": r.name,
            "files before": r.files_before,
            "files after": r.files_after,
            "compacted": r.files_compacted,
            "vacuumed": r.files_vacuumed,
            "MB removed": r.bytes_removed / 1e6,
            "MB before": r.bytes_on_disk_before / 1e6,
            "MB after": r.bytes_on_disk_after / 1e6,
            "seconds": r.seconds,
        }
        for r in results
    ]
    numeric = {"files before", "files after", "compacted", "vacuumed", "MB removed"}
    numeric |= {"MB before", "MB after", "seconds"}
    console.print(
        _table(
            f"Table maintenance: OPTIMIZE, then VACUUM keeping {hours} h",
            rows,
            right=numeric,
        )
    )
    removed = sum(r.bytes_removed for r in results)
    console.print(f"{len(results)} tables, {removed / 1e6:,.2f} MB of old files removed")


# -- rekey ---------------------------------------------------------------------
@app.command()
def rekey(
    old_key_file: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="A file holding the key the lake was built with."
        ),
    ],
    force: Annotated[
        bool, typer.Option(help="Run even if Dagster shows a lake-writing run in progress.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Rebuild silver and identity under the configured (new) PII key, keeping one_ids.

    Set BAKEHOUSE_PII_KEY (or replace the home's pii.key) with the new key first, and
    give the old key in a file (never on the command line). Every old pseudonym is
    mapped to its new one from bronze, so one_ids and the audit history carry over;
    the new key's fingerprint is recorded last (an interrupted rekey is re-run).
    """
    from bakehouse.lake import Lake
    from bakehouse.pii import MissingKeyError, load_key
    from bakehouse.rekey import RekeyError, check_keys
    from bakehouse.rekey import rekey as rekey_lake
    from bakehouse.spark import spark_session

    settings = _settings()
    try:
        new_key = load_key(settings.pii_key_file)
    except MissingKeyError as error:
        raise _fail(str(error)) from None
    old_key = old_key_file.read_text(encoding="utf-8").strip().encode("utf-8")
    try:
        check_keys(settings, old_key, new_key)
    except RekeyError as error:
        raise _fail(str(error)) from None
    if not force and (writers := _lake_writers_in_progress(settings)):
        raise _fail(
            f"Dagster shows runs writing the lake in progress ({', '.join(writers)}); "
            "wait for them, or pass --force if they are dead.",
            code=1,
        )
    status = console.status("rekeying: silver and identity from bronze under the new key")
    with _quiet(settings, verbose), status:
        lake = Lake(settings, spark_session(settings.spark_remote))
        result = rekey_lake(lake, old_key, new_key)
    rows = [
        {
            "": "key fingerprint",
            "value": f"{result.old_fingerprint[:12]}… -> {result.new_fingerprint[:12]}…",
        },
        {"": "identifiers re-keyed", "value": f"{result.identifiers_mapped:,}"},
        {"": "identifiers not in bronze (dropped)", "value": f"{result.identifiers_unmapped:,}"},
        {"": "one_ids kept", "value": f"{result.one_ids_kept:,} of {result.one_ids_before:,}"},
        {"": "audit identifiers re-keyed", "value": f"{result.audit_rows_mapped:,}"},
        {"": "people merged or split by the rebuild", "value": f"{result.rebuild_merges_splits:,}"},
        {"": "silver tables rebuilt", "value": ", ".join(result.silver_rebuilt) or "none"},
        {"": "seconds", "value": f"{result.seconds:,.1f}"},
    ]
    console.print(_table("bakehouse rekey", rows))
    if result.not_rebuilt:
        err_console.print(
            f"[yellow]left as they were: {', '.join(result.not_rebuilt)}. Any of them that "
            "holds pseudonyms is still under the old key: rebuild gold (dbt build) before use.[/]",
            soft_wrap=True,
        )


def _lake_writers_in_progress(settings: Settings) -> list[str]:
    """Ids of the home's Dagster runs that write the lake and are running now.

    Runs launched by the daemon are serialized by the run queue; the CLI is not
    queued, so it looks before it rewrites files under a running writer. Runs whose
    process is gone are marked failed first, with a one-line notice each.
    """
    import dagster as dg

    from bakehouse.maintenance import lake_writers_in_progress

    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        check = lake_writers_in_progress(instance)
    for notice in check.recovered:
        err_console.print(f"[yellow]{notice}[/]")
    return check.blocking


# -- resolve -------------------------------------------------------------------
@app.command()
def resolve(
    input: Annotated[
        Path, typer.Option("--input", exists=True, dir_okay=False, help="People CSV.")
    ],
    output: Annotated[
        Path, typer.Option("--output", dir_okay=False, help="Clusters CSV to write.")
    ],
    threshold: Annotated[float | None, typer.Option(help="Match probability threshold.")] = None,
    explain: Annotated[
        Path | None,
        typer.Option(
            "--explain",
            dir_okay=False,
            help="Write the match weights of the linked pairs (splink waterfall data) here.",
        ),
    ] = None,
) -> None:
    """Cluster a CSV of person records (record_id, name, phone, email, birthday, ...)."""
    from bakehouse.resolve import resolve_file

    apply_telemetry_off()
    try:
        summary = resolve_file(input, output, threshold=threshold, explain_csv=explain)
    except ValueError as error:
        raise _fail(str(error)) from None
    rows = [{"what": what, "value": value} for what, value in summary.rows()]
    console.print(_table(f"resolve {input.name} -> {output.name}", rows, right={"value"}))
    if explain is not None:
        console.print(f"linked pairs explained in {explain}")


# -- clv / recommend (plain-file ML tools) -------------------------------------
@app.command()
def clv(
    transactions: Annotated[
        Path, typer.Option("--transactions", dir_okay=False, help="CSV: customer_id, ts, amount.")
    ],
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1, help="Days ahead.")],
    output: Annotated[Path, typer.Option("--output", dir_okay=False, help="CSV to write.")],
) -> None:
    """Predict each customer's purchases and spend over the next N days (BG/NBD + Gamma-Gamma).

    Negative amounts are returns, netted against the customer's purchases (docs/ML.md).
    """
    from ml import clv as clv_model
    from ml.transactions import TransactionFileError, read_transactions

    try:
        frame = read_transactions(transactions, ids=("customer_id",), numbers=("amount",))
        predictions, evaluation, model = clv_model.predict(frame, horizon_days)
    except (TransactionFileError, ValueError) as error:
        raise _fail(str(error)) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(output, index=False, float_format="%.4f")
    console.print(f"{len(predictions)} customers -> {output} (model: {model})")
    if evaluation:
        for name, mae in evaluation.mae.items():
            console.print(
                f"  holdout {evaluation.split.holdout_days:.0f} d: {name} MAE {mae:.2f}, "
                f"total predicted/actual {evaluation.total_ratio[name]:.3f}"
            )


@app.command()
def recommend(
    transactions: Annotated[
        Path, typer.Option("--transactions", dir_okay=False, help="CSV: customer_id, sku, ts, qty.")
    ],
    output: Annotated[Path, typer.Option("--output", dir_okay=False, help="CSV to write.")],
    k: Annotated[int, typer.Option("--k", min=1, help="Items per customer.")] = 10,
) -> None:
    """Rank the top k items for every customer (ALS + own repeat purchases + popularity).

    Negative quantities are returns, netted per customer and item (docs/ML.md).
    """
    from ml import recommend as recommend_model
    from ml.transactions import TransactionFileError, read_transactions

    try:
        frame = read_transactions(transactions, ids=("customer_id", "sku"), numbers=("qty",))
        recommendations, tuned = recommend_model.recommend(frame, k)
    except (TransactionFileError, ValueError) as error:
        raise _fail(str(error)) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    recommendations.to_csv(output, index=False)
    customers = recommendations["customer_id"].nunique()
    console.print(f"{customers} customers x top {k} -> {output} (method: {tuned['method']})")


# -- forecast ------------------------------------------------------------------
@app.command()
def forecast(
    history: Annotated[
        Path,
        typer.Option(
            "--history",
            help="Daily sales CSV: date, store, sku, qty [, price, on_promo, sold_out].",
        ),
    ],
    horizon: Annotated[int, typer.Option("--horizon", min=1, help="Days to forecast.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", dir_okay=False, help="CSV to write: date, store, sku, p10, p50, p90."
        ),
    ],
    censoring: Annotated[
        str, typer.Option(help="Sold-out days: impute, exclude or ignore.")
    ] = "impute",
) -> None:
    """Forecast daily demand (P10/P50/P90) per store x SKU from a sales history CSV."""
    from ml.forecast import ForecastInputError, forecast_file

    apply_telemetry_off()
    if not history.is_file():
        raise _fail(f"--history {history}: no such file")
    try:
        summary = forecast_file(history, output, horizon, censoring=censoring)
    except ForecastInputError as error:
        raise _fail(f"{history}: {error}") from None
    console.print(str(summary))
    console.print(f"wrote {output}")


# -- sql -----------------------------------------------------------------------
SQL_ROWS_SHOWN = 200
_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_NUMERIC_TYPES = frozenset(
    {*_INTEGER_TYPES, *(f"U{name}" for name in _INTEGER_TYPES), "FLOAT", "DOUBLE"}
)


@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help="A query; omit for an interactive duckdb shell.")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="All rows as CSV on stdout.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="All rows as a JSON array of objects on stdout.")
    ] = False,
) -> None:
    """Query silver and gold in the analyst DuckDB database (time zone Asia/Shanghai).

    The table view right-aligns numbers, shows NULL as `NULL` and the first 200 rows;
    `--csv` and `--json` write every row (NULL as an empty field / null).
    """
    from bakehouse import warehouse

    if as_csv and as_json:
        raise _fail("use either --csv or --json, not both")
    settings = _settings()
    if not settings.warehouse.exists():  # the nightly run refreshes it; build it once here
        warehouse.refresh_views(settings)
    views = [
        table
        for layer in warehouse.EXPOSED_LAYERS
        for table in (settings.lake / layer).glob("*/_delta_log")
    ]
    if query is None:
        duckdb_cli = Path(sys.executable).with_name("duckdb")
        init_file = warehouse.write_init_file(settings)
        with open(init_file, "a", encoding="utf-8") as handle:
            handle.write(f"SET TimeZone = '{LOCAL_TZ}';\n")
        raise typer.Exit(
            subprocess.call(
                [str(duckdb_cli), "-readonly", "-init", str(init_file), str(settings.warehouse)]
            )
        )
    con = warehouse.connect(settings, read_only=True)
    try:
        con.execute(f"SET TimeZone = '{LOCAL_TZ}'")
        result = con.execute(query)
        if result.description is None:  # a statement without a result set
            return
        columns = [d[0] for d in result.description]
        numeric = {
            name
            for name, kind, *_ in result.description
            if str(kind).startswith("DECIMAL") or str(kind) in _NUMERIC_TYPES
        }
        everything = as_csv or as_json
        rows = result.fetchall() if everything else result.fetchmany(SQL_ROWS_SHOWN + 1)
    except Exception as error:  # duckdb raises many error types; show the message
        message = str(error).splitlines()[0] if str(error) else repr(error)
        if not views:
            message += (
                f" (the lake at {settings.lake} has no silver or gold tables yet: "
                "run a night first, `bakehouse run --date YYYY-MM-DD`)"
            )
        raise _fail(message) from None
    finally:
        con.close()
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _sql_text(v) for v in row] for row in rows])
        return
    if as_json:
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, default=_json_value) + "\n")
        return
    table = Table()  # no title: a long query would wrap into the table's width
    for name in columns:
        table.add_column(name, justify="right" if name in numeric else "left")
    for row in rows[:SQL_ROWS_SHOWN]:
        table.add_row(*("[dim]NULL[/]" if v is None else escape(_sql_text(v)) for v in row))
    console.print(table)
    if len(rows) > SQL_ROWS_SHOWN:
        console.print(f"first {SQL_ROWS_SHOWN} rows shown; --csv or --json write them all")


def _sql_text(value: object) -> str:
    """A value as DuckDB's own CLI would print it (timestamps with their offset)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# -- ui ------------------------------------------------------------------------
ui_app = typer.Typer(help="Open the Dagster or MLflow web UI (127.0.0.1, telemetry off).")
app.add_typer(ui_app, name="ui")


@ui_app.command("dagster")
def ui_dagster(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Start `dagster dev` on this home's instance (workspace.yaml), at 127.0.0.1 only."""
    from bakehouse.home import ensure_lake_pool

    settings = _settings()
    ensure_lake_pool(settings)  # before the daemon's first backfill can start writers
    command, cwd = ui_command("dagster", settings, port)
    console.print(f"Dagster UI: http://127.0.0.1:{port}  (Ctrl-C stops it)")
    raise typer.Exit(subprocess.call(command, env=_ui_environment(settings), cwd=cwd))


@ui_app.command("mlflow")
def ui_mlflow(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5000,
) -> None:
    """Start the MLflow UI on this home's tracking store, at 127.0.0.1 only."""
    settings = _settings()
    command, cwd = ui_command("mlflow", settings, port)
    console.print(f"MLflow UI: http://127.0.0.1:{port}  (Ctrl-C stops it)")
    raise typer.Exit(subprocess.call(command, env=_ui_environment(settings), cwd=cwd))


def ui_command(kind: str, settings: Settings, port: int) -> tuple[list[str], Path]:
    """The command line (bound to 127.0.0.1) and working folder of a web UI."""
    bin_dir = Path(sys.executable).parent
    repo = Path(__file__).resolve().parents[1]
    if kind == "dagster":
        workspace = repo / "workspace.yaml"
        command = [str(bin_dir / "dagster"), "dev", "-w", str(workspace)]
    elif kind == "mlflow":
        command = [str(bin_dir / "mlflow"), "ui", "--backend-store-uri"]
        command.append(settings.mlflow_tracking_uri)
    else:
        raise ValueError(f"unknown UI {kind!r}; expected dagster or mlflow")
    return [*command, "-h", "127.0.0.1", "-p", str(port)], repo


def _ui_environment(settings: Settings) -> dict[str, str]:
    """The environment of a UI process: this home, its Dagster instance, telemetry off.

    Telemetry is forced off here (not merely defaulted): a UI is a long-lived server.
    """
    from bakehouse.config import TELEMETRY_OFF_ENV

    environ = dict(os.environ)
    environ.update(TELEMETRY_OFF_ENV)
    environ["BAKEHOUSE_HOME"] = str(settings.home)
    environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return environ


if __name__ == "__main__":
    app()
