"""The analyst database: a DuckDB file whose views read the lake's Delta tables.

DuckDB cannot download its Delta extension here (no internet), so the extension comes
from the `duckdb-extension-delta` wheel and is installed into the home's own
`extension_directory`. `duckdb -init <home>/duckdbrc <home>/warehouse.duckdb` then opens
the database from a plain `duckdb` CLI with everything set up.

Only silver and gold are exposed, never bronze, quarantine or the PII vault: analysts
see pseudonymised and masked data only.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

from bakehouse.config import Settings
from bakehouse.lake import Lake

EXPOSED_LAYERS = ("silver", "gold")
RESTRICTED_TABLES = frozenset({"pii_vault"})


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


def connect(settings: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the analyst database with the Delta extension installed and loaded."""
    settings.ensure_dirs()
    con = duckdb.connect(
        str(settings.warehouse),
        read_only=read_only,
        config={"extension_directory": str(settings.duckdb_extensions)},
    )
    if installed_extension(settings) is None:
        con.install_extension(str(delta_extension_file()))
    con.load_extension("delta")
    return con


def write_init_file(settings: Settings) -> Path:
    """A DuckDB CLI init file that points at the home's extension directory."""
    init = settings.home / "duckdbrc"
    init.write_text(
        f"SET extension_directory = '{settings.duckdb_extensions}';\nLOAD delta;\n",
        encoding="utf-8",
    )
    return init


def refresh_views(settings: Settings) -> list[str]:
    """(Re)create one view per exposed Delta table, as `<layer>.<table>`."""
    lake = Lake(settings)
    created: list[str] = []
    con = connect(settings)
    try:
        for layer in EXPOSED_LAYERS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
            for table in lake.tables(layer):
                if table in RESTRICTED_TABLES:
                    continue
                path = lake.path(layer, table).replace("'", "''")
                con.execute(
                    f'CREATE OR REPLACE VIEW {layer}."{table}" AS '
                    f"SELECT * FROM delta_scan('{path}')"
                )
                created.append(f"{layer}.{table}")
    finally:
        con.close()
    write_init_file(settings)
    return created
