"""`bakehouse doctor`: is this environment one Bakehouse can run in?"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
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


def check_home(settings: Settings) -> Check:
    try:
        with tempfile.NamedTemporaryFile(dir=settings.home, prefix=".doctor-"):
            pass
        free_gb = shutil.disk_usage(settings.home).free / 1e9
        return Check("home writable", True, f"{settings.home} ({free_gb:,.0f} GB free)")
    except OSError as error:
        return Check("home writable", False, f"{settings.home}: {error}")


def check_pii_key(settings: Settings) -> Check:
    if os.environ.get("BAKEHOUSE_PII_KEY"):
        return Check("pii key", True, "BAKEHOUSE_PII_KEY is set")
    if settings.pii_key_file.exists():
        mode = settings.pii_key_file.stat().st_mode & 0o777
        return Check("pii key", mode == 0o600, f"{settings.pii_key_file} (mode {mode:o})")
    return Check(
        "pii key", False, "set BAKEHOUSE_PII_KEY (or run `bakehouse demo` to generate one)"
    )


def check_java() -> Check:
    java = shutil.which("java")
    return Check(
        "java (JVM Spark tests only)", True, java or "not found: JVM comparison tests skip"
    )


def run_checks(settings: Settings) -> list[Check]:
    return [
        *check_versions(),
        check_home(settings),
        check_spark(settings),
        check_duckdb_extension(settings),
        *check_telemetry(settings),
        check_pii_key(settings),
        check_java(),
    ]
