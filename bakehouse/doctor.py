"""`bakehouse doctor`: is this environment one Bakehouse can run in?

It reports every check as a row and never raises: the same home, key and date checks
that `bakehouse.preflight` makes before a lake write, the home's and landing folder's
permissions, the pinned versions, Spark, DuckDB and telemetry.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from dataclasses import dataclass
from importlib import metadata

import yaml

from bakehouse.config import TELEMETRY_OFF_ENV, Settings

# Versions that are known to work together (see docs/DEVELOPERS.md).
PINNED = {
    "pyspark": "4.2.0",
    "pysail": "0.7.2",
    "duckdb": "1.5.5",
    "duckdb-extension-delta": "1.5.5",
    "dbt-core": "1.11.16",
    "dbt-duckdb": "1.11.1",
    "dagster": "1.13.27",
    "mlflow": "3.17.2",
    "great-expectations": "1.24.1",
}
BELOW = {"pandas": "3", "pyarrow": "26"}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _major(version: str) -> int:
    return int(version.split(".")[0])


def check_versions() -> list[Check]:
    checks = [Check("python", sys.version_info >= (3, 11), sys.version.split()[0])]
    for package, wanted in PINNED.items():
        found = _version(package)
        checks.append(Check(package, found == wanted, f"{found or 'missing'} (pinned {wanted})"))
    for package, ceiling in BELOW.items():
        found = _version(package)
        ok = found is not None and _major(found) < int(ceiling)
        checks.append(Check(package, ok, f"{found or 'missing'} (needs < {ceiling})"))
    return checks


def check_spark(settings: Settings) -> Check:
    target = settings.spark_remote or "in-process Sail"
    try:
        from bakehouse.spark import spark_session

        value = spark_session(settings.spark_remote).sql("SELECT 1 + 1 AS two").collect()[0].two
        return Check("spark connect", value == 2, f"{target}: SELECT 1 + 1 = {value}")
    except Exception as error:  # any failure to reach Spark is what doctor reports
        return Check("spark connect", False, f"{target}: {error}")


def check_duckdb_extension(settings: Settings) -> Check:
    from bakehouse import warehouse

    try:
        # an in-memory database: doctor never opens the warehouse read-write
        con = warehouse.delta_connection(settings)
        loaded = con.execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'delta'"
        ).fetchone()
        con.close()
        path = warehouse.installed_extension(settings)
        return Check("duckdb delta extension", bool(loaded and loaded[0]), f"{path}")
    except Exception as error:
        return Check("duckdb delta extension", False, str(error))


def check_telemetry(settings: Settings) -> list[Check]:
    checks = []
    for name, value in TELEMETRY_OFF_ENV.items():
        current = os.environ.get(name)
        checks.append(Check(f"telemetry {name}", current == value, f"{current!r} (want {value!r})"))
    dagster_yaml = settings.dagster_home / "dagster.yaml"
    config = yaml.safe_load(dagster_yaml.read_text()) if dagster_yaml.exists() else {}
    enabled = (config or {}).get("telemetry", {}).get("enabled", True)
    checks.append(Check("telemetry dagster.yaml", enabled is False, f"{dagster_yaml}"))
    return checks


def check_preflight(settings: Settings) -> list[Check]:
    """bakehouse.preflight's checks (home, PII key and fingerprint, today's date) as rows."""
    from bakehouse.preflight import findings

    rows = [Check(f.name, f.ok, f.detail) for f in findings(settings)]
    home = rows[0]
    if home.ok:
        free_gb = shutil.disk_usage(settings.home).free / 1e9
        rows[0] = Check(home.name, True, f"{home.detail} ({free_gb:,.0f} GB free)")
    key_file = settings.pii_key_file
    if not os.environ.get("BAKEHOUSE_PII_KEY") and key_file.exists():
        mode = stat.S_IMODE(key_file.stat().st_mode)
        rows.append(Check("pii key file mode", mode == 0o600, f"{key_file} (mode {mode:o})"))
    return rows


def check_permissions(settings: Settings) -> list[Check]:
    """The home and its landing folder keep personal data from other users.

    The home should be 0700 (`bakehouse init` creates it so); the landing folder, where
    extracts with names and phones arrive, must grant nothing to other users. Files
    inside it readable by everyone are counted (harmless only while the folders above
    are closed).
    """
    checks = []
    if not settings.home.is_dir():
        return [Check("home permissions", False, "not checked: no home")]
    home_mode = stat.S_IMODE(settings.home.stat().st_mode)
    checks.append(
        Check(
            "home permissions",
            home_mode & 0o077 == 0,
            f"{settings.home} mode {home_mode:o}"
            + ("" if home_mode & 0o077 == 0 else f" (want 700: chmod 700 {settings.home})"),
        )
    )
    landing = settings.landing
    if not landing.is_dir():
        checks.append(Check("landing permissions", False, f"{landing} does not exist"))
        return checks
    landing_mode = stat.S_IMODE(landing.stat().st_mode)
    open_files = [
        path for path in landing.rglob("*") if path.is_file() and path.stat().st_mode & stat.S_IROTH
    ]
    detail = f"{landing} mode {landing_mode:o}"
    if landing_mode & 0o007:
        detail += f" (others may enter it: chmod o-rwx {landing})"
    if open_files:
        detail += f"; {len(open_files)} file(s) readable by everyone, e.g. {open_files[0].name}"
    checks.append(Check("landing permissions", landing_mode & 0o007 == 0, detail))
    return checks


def check_java() -> Check:
    java = shutil.which("java")
    return Check(
        "java (JVM Spark tests only)", True, java or "not found: JVM comparison tests skip"
    )


def run_checks(settings: Settings) -> list[Check]:
    """Every check, as rows; creates nothing (a missing home is a row, not a new home)."""
    preflight_rows = check_preflight(settings)
    home_ok = preflight_rows[0].ok
    return [
        *check_versions(),
        *preflight_rows,
        *check_permissions(settings),
        check_spark(settings),
        check_duckdb_extension(settings)
        if home_ok
        else Check("duckdb delta extension", False, "not checked: no home"),
        *check_telemetry(settings),
        check_java(),
    ]
