"""The `bakehouse` command line: simulate, run, demo, doctor, maintain, resolve, sql.

Heavy imports (Spark, Dagster, the simulator) happen inside the commands, so
`bakehouse --help` answers at once.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bakehouse.config import LOCAL_TZ, Settings, apply_telemetry_off, load_settings

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


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option} expects a date as YYYY-MM-DD, got {value!r}") from None


def _settings() -> Settings:
    apply_telemetry_off()
    settings = load_settings()
    settings.ensure_dirs()
    return settings


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
) -> None:
    """Write a simulated chain's nightly extracts (and the ground truth behind them)."""
    start_date = _parse_date(start, "--start")
    if scale <= 0:
        raise _fail("--scale must be positive")
    settings = _settings()
    landing_dir = (landing or settings.landing).resolve()
    truth_dir = (truth or landing_dir.parent / "truth").resolve()
    summary = _simulate(landing_dir, truth_dir, scale, start_date, days, seed, faults)
    console.print(f"landing: {landing_dir}\ntruth:   {truth_dir}")
    _print_simulation(summary)


def _print_simulation(summary) -> None:
    rows = [dict(zip(summary.columns, row, strict=True)) for row in summary.to_rows()]
    title = (
        f"Simulated extracts: {summary.days} days, {summary.faults_injected} faults injected, "
        f"{summary.seconds:.1f} s"
    )
    console.print(_table(title, rows, right={"files", "rows", "bytes"}))


def _simulate(
    landing: Path, truth: Path, scale: float, start: date, days: int, seed: int, faults: bool
):
    from bakehouse.sim import simulate as run_simulation

    with _progress() as progress:
        task = progress.add_task("simulating", total=days)

        def on_progress(stage: str, done: int, total: int) -> None:
            progress.update(task, description=f"simulating: {stage}", completed=done, total=total)

        return run_simulation(
            landing,
            truth,
            scale=scale,
            start=start,
            days=days,
            seed=seed,
            faults=faults,
            progress=on_progress,
        )


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
) -> None:
    """Run the nightly pipeline for one business date or a range of them.

    Exits non-zero only when the platform failed; bad source data is quarantined and
    reported, not an error. The runs are not queued by the Dagster daemon, so this
    refuses to start while a queued lake-writing run is in progress.
    """
    from bakehouse.pipeline import date_range

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
    if not force and (writers := _lake_writers_in_progress(settings)):
        raise _fail(
            f"Dagster shows runs writing the lake in progress ({', '.join(writers)}); "
            "wait for them, or pass --force if they are dead.",
            code=1,
        )
    if not _run_and_report(settings, dates):
        raise typer.Exit(1)


def _run_and_report(settings: Settings, dates: list[date]) -> bool:
    from bakehouse.pipeline import run_nights

    with _progress() as progress:
        task = progress.add_task("nightly run", total=len(dates))
        nights = run_nights(settings, dates, on_night=lambda night: progress.advance(task))
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
    for night in nights:
        if night.error:
            err_console.print(f"[red]{night.business_date}: {night.error}[/]")
    return all(n.success for n in nights)


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
    numeric = set(_SUMMARY_HEADERS.values()) - {"feed"}
    console.print(
        _table("Bronze accounting: rows read = landed + quarantined", display, right=numeric)
    )
    found = problems(settings, dates)
    if found:
        lines = [
            f"{p.feed}: {p.count:,} {p.kind} — {p.reason} (e.g. {p.example})" for p in found[:20]
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


# -- demo ----------------------------------------------------------------------
@app.command()
def demo(
    days: Annotated[int, typer.Option(min=1, help="Business days to simulate.")] = 7,
    scale: Annotated[float, typer.Option(help="Chain size; 0.01 = 3 stores, 20k members.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    faults: Annotated[
        bool, typer.Option("--faults/--no-faults", help="Inject faulty files.")
    ] = True,
) -> None:
    """Simulate a small chain for a week, run every night of it, and show what happened."""
    from bakehouse import pii

    settings = _settings()
    if pii.ensure_key_file(settings.pii_key_file):
        console.print(
            f"[yellow]BAKEHOUSE_PII_KEY is not set: generated a key into {settings.pii_key_file} "
            "(0600). Set BAKEHOUSE_PII_KEY in production.[/]"
        )
    today = datetime.now(ZoneInfo(LOCAL_TZ)).date()
    start = today - timedelta(days=days)
    console.rule(f"1. simulate {days} days from {start} at scale {scale}")
    summary = _simulate(settings.landing, settings.truth, scale, start, days, seed, faults)
    _print_simulation(summary)
    console.rule("2. run the nightly pipeline")
    # The CRM's onboarding dump of the member base is dated the day before the first day.
    nights = [start + timedelta(days=offset) for offset in range(-1, days)]
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
    home = settings.home
    console.print(
        Panel(
            "\n".join(
                [
                    f"Dagster UI:   DAGSTER_HOME={home}/dagster_home BAKEHOUSE_HOME={home} "
                    ".venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000",
                    "MLflow UI:    .venv/bin/mlflow ui --backend-store-uri "
                    f"{settings.mlflow_tracking_uri} -h 127.0.0.1 -p 5000",
                    f"Analyst SQL:  .venv/bin/duckdb -init {home}/duckdbrc {settings.warehouse}",
                    '              or: bakehouse sql "select * from silver.orders limit 10"',
                    "More nights:  bakehouse simulate --start YYYY-MM-DD --days N && "
                    "bakehouse run --from A --to B",
                    "Health:       bakehouse doctor",
                ]
            ),
            title="Next steps",
            border_style="green",
        )
    )


# -- doctor --------------------------------------------------------------------
@app.command()
def doctor() -> None:
    """Check the environment: versions, Spark, DuckDB extension, telemetry, home."""
    from bakehouse.doctor import run_checks

    checks = run_checks(_settings())
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


def _lake_writers_in_progress(settings: Settings) -> list[str]:
    """Ids of the home's Dagster runs that write the lake and are running now.

    Runs launched by the daemon are serialized by the run queue; the CLI is not
    queued, so it looks before it rewrites files under a running writer.
    """
    import dagster as dg

    from bakehouse.config import LAKE_WRITE_TAGS

    running = [
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        records = instance.get_run_records(dg.RunsFilter(tags=LAKE_WRITE_TAGS, statuses=running))
    return [record.dagster_run.run_id[:8] for record in records]


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
) -> None:
    """Cluster a CSV of person records (record_id, source, name, phone, email, ...)."""
    from transforms.identity import resolve_file

    apply_telemetry_off()
    try:
        summary = resolve_file(input, output, threshold=threshold)
    except ValueError as error:
        raise _fail(str(error)) from None
    console.print(summary)


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
@app.command()
def sql(
    query: Annotated[
        str | None, typer.Argument(help="A query; omit for an interactive duckdb shell.")
    ] = None,
) -> None:
    """Query silver and gold in the analyst DuckDB database."""
    from bakehouse import warehouse

    settings = _settings()
    warehouse.refresh_views(settings)
    if query is None:
        duckdb_cli = Path(sys.executable).with_name("duckdb")
        init = warehouse.write_init_file(settings)
        raise typer.Exit(
            subprocess.call([str(duckdb_cli), "-init", str(init), str(settings.warehouse)])
        )
    con = warehouse.connect(settings, read_only=True)
    try:
        result = con.execute(query)
        columns = [d[0] for d in result.description]
        rows = [dict(zip(columns, values, strict=True)) for values in result.fetchmany(200)]
    except Exception as error:  # duckdb raises many error types; show the message
        raise _fail(str(error)) from None
    finally:
        con.close()
    console.print(_table(query, rows))


if __name__ == "__main__":
    app()
