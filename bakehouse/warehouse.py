"""The analyst database: `warehouse.duckdb`, views over the lake's silver and gold.

**Plain DuckDB.** Every view is `read_parquet` over the files of one Delta version
(`bakehouse.delta_sql`), so `duckdb -readonly warehouse.duckdb` with no init file and
no extension installed reads gold and silver. Each view carries a comment: the
table's description and the version it reads.

**Never blocks.** DuckDB refuses a read-write open while any other process holds the
file, even read-only. So `refresh_views` never opens the live file: it builds a new
file beside it and swaps it in with `os.replace` (atomic on one filesystem). Sessions
already open keep reading the old file, whose views still point at the versions they
pinned; new sessions see the new one. Readers open it read-only (`connect`).

**Pins.** The versions the views read are recorded in `<home>/pins/warehouse.json`
(the current and the previous refresh, for sessions still on the old file), before
the swap. `bakehouse.maintenance` never vacuums files a pinned version needs; a BI
tool that points at fixed files can add its own `<home>/pins/<name>.json`.

Only silver and gold are exposed, never bronze, quarantine or the PII vault: analysts
see pseudonymised and masked data only.
"""

from __future__ import annotations

import json
import os
import uuid
from importlib import resources
from pathlib import Path

import duckdb

from bakehouse.config import Settings
from bakehouse.delta_sql import snapshot
from bakehouse.lake import Lake

EXPOSED_LAYERS = ("silver", "gold")
RESTRICTED_TABLES = frozenset({"pii_vault"})
PINS_DIR = "pins"
WAREHOUSE_PINS = "warehouse.json"


def delta_extension_file() -> Path:
    """The Delta extension binary shipped in the `duckdb-extension-delta` wheel."""
    root = resources.files("duckdb_extension_delta") / "extensions" / f"v{duckdb.__version__}"
    path = Path(str(root)) / "delta.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(
            f"no Delta extension for DuckDB {duckdb.__version__} at {path}; "
            "install duckdb-extension-delta with the same version as duckdb"
        )
    return path


def installed_extension(settings: Settings) -> Path | None:
    """The installed extension in the home's extension directory, if any."""
    found = sorted(
        settings.duckdb_extensions.glob(f"v{duckdb.__version__}/*/delta.duckdb_extension")
    )
    return found[0] if found else None


def delta_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the Delta extension loaded (`delta_scan` ad hoc).

    The warehouse itself does not need the extension; this is for `doctor` and for
    reading a table's latest version directly.
    """
    settings.ensure_dirs()
    con = duckdb.connect(config={"extension_directory": str(settings.duckdb_extensions)})
    if installed_extension(settings) is None:
        con.install_extension(str(delta_extension_file()))
    con.load_extension("delta")
    return con


def connect(settings: Settings, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the analyst database, read-only by default (it never blocks a refresh).

    Builds the database first when it does not exist yet.
    """
    if not settings.warehouse.exists():
        refresh_views(settings)
    return duckdb.connect(str(settings.warehouse), read_only=read_only)


def write_init_file(settings: Settings) -> Path:
    """A DuckDB CLI init file that loads the Delta extension (optional: for delta_scan)."""
    init = settings.home / "duckdbrc"
    init.write_text(
        f"SET extension_directory = '{settings.duckdb_extensions}';\nLOAD delta;\n",
        encoding="utf-8",
    )
    return init


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pins_dir(settings: Settings) -> Path:
    return settings.home / PINS_DIR


def pinned_versions(settings: Settings) -> dict[str, set[int]]:
    """Every pinned version, by table path, over all pin files of the home.

    A pin file is JSON: {"pins": [{"path": <table path>, "version": <int>}, ...]}.
    """
    pinned: dict[str, set[int]] = {}
    folder = pins_dir(settings)
    if not folder.exists():
        return pinned
    for pin_file in sorted(folder.glob("*.json")):
        data = json.loads(pin_file.read_text(encoding="utf-8"))
        for pin in data.get("pins", []):
            pinned.setdefault(str(Path(pin["path"]).resolve()), set()).add(int(pin["version"]))
    return pinned


def _write_pins(settings: Settings, pins: list[dict]) -> None:
    """The new refresh's pins plus the previous refresh's (sessions may still use it)."""
    folder = pins_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / WAREHOUSE_PINS
    previous = []
    if target.exists():
        previous = json.loads(target.read_text(encoding="utf-8")).get("current", [])
    temporary = folder / f".{WAREHOUSE_PINS}.{uuid.uuid4().hex}"
    temporary.write_text(
        json.dumps({"current": pins, "previous": previous, "pins": pins + previous}, indent=1),
        encoding="utf-8",
    )
    os.replace(temporary, target)


def gold_row_counts(settings: Settings) -> dict[str, int]:
    """Rows of each gold table's current version (from the Delta log, no data read)."""
    lake = Lake(settings)
    return {table: lake.row_count("gold", table) for table in lake.tables("gold")}


def refresh_views(settings: Settings) -> list[str]:
    """Build a new warehouse file with one view per exposed table and swap it in.

    Returns the views as `<layer>.<table>`. Raises `bakehouse.delta_sql.DeltaSqlError`
    for a table plain Parquet cannot represent (nothing is swapped then).
    """
    settings.ensure_dirs()
    lake = Lake(settings)
    created: list[str] = []
    pins: list[dict] = []
    building = settings.warehouse.with_name(f".{settings.warehouse.name}.{uuid.uuid4().hex}")
    try:
        con = duckdb.connect(str(building))
        try:
            for layer in EXPOSED_LAYERS:
                con.execute(f"CREATE SCHEMA {layer}")
                for table in lake.tables(layer):
                    if table in RESTRICTED_TABLES:
                        continue
                    path = Path(lake.path(layer, table)).resolve()
                    snap = snapshot(path)
                    view = f'{layer}."{table}"'
                    con.execute(f"CREATE VIEW {view} AS {snap.select_sql()}")
                    about = snap.description or f"{layer} table {table}"
                    con.execute(
                        f"COMMENT ON VIEW {view} IS "
                        + _literal(f"{about} (Delta version {snap.version} of {path})")
                    )
                    created.append(f"{layer}.{table}")
                    pins.append({"path": str(path), "version": snap.version})
            con.execute("CHECKPOINT")
        finally:
            con.close()
        _write_pins(settings, pins)
        os.replace(building, settings.warehouse)
    finally:
        building.unlink(missing_ok=True)
        Path(f"{building}.wal").unlink(missing_ok=True)
    write_init_file(settings)
    return created
