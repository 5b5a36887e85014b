"""Run-time configuration of a Bakehouse installation.

Everything is read from the environment when `load_settings()` is called, never at
import, so tests and the Dagster code location can point the same code at a temp
lakehouse simply by setting `BAKEHOUSE_HOME` before a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("bronze", "silver", "gold", "quarantine")
LOCAL_TZ = "Asia/Shanghai"
# The home holds personal data (landing, bronze, the vault): its folder is 0700 and what
# Bakehouse writes inside is 0640 files / 0750 folders (`restrict_umask`).
HOME_MODE = 0o700
HOME_UMASK = 0o027
FOLDER_MODE = 0o750

# Every Dagster run that writes the lake carries this tag, and the instance's run queue
# (dagster.yaml below) starts at most one such run at a time: a landing-sensor run, the
# nightly run, a backfill and the weekly maintenance never commit to the same Delta
# tables (the file ledger above all) at the same moment.
LAKE_WRITE_TAG_KEY = "bakehouse/lake"
LAKE_WRITE_TAG_VALUE = "write"
LAKE_WRITE_TAGS = {LAKE_WRITE_TAG_KEY: LAKE_WRITE_TAG_VALUE}

DAGSTER_YAML_HEADER = "# Written by bakehouse (bakehouse/config.py)"
# Pools: every asset/op that writes the lake is in the `bakehouse_lake` pool, and with
# `granularity: run` the run queue starts at most one run holding such a step, the
# hidden asset job's runs (which carry no job tags) included.
# Dagster 1.13 documents run-queue limits under `concurrency: runs:`, applied by its
# default queued run coordinator (limits under `run_queue:` or `run_coordinator:` too
# would be rejected as a conflict).
DAGSTER_YAML = f"""{DAGSTER_YAML_HEADER}; rewritten while this line is here.
# Delete this line to keep your own edits.
telemetry:
  enabled: false
concurrency:
  pools:
    granularity: run
    default_limit: 1
  runs:
    tag_concurrency_limits:
      - key: {LAKE_WRITE_TAG_KEY}
        value: {LAKE_WRITE_TAG_VALUE}
        limit: 1
"""
# What homes created before the run queue limit got; upgraded in place.
_LEGACY_DAGSTER_YAML = "telemetry:\n  enabled: false\n"

# Nothing in Bakehouse may reach for the network: every tool's telemetry is off.
TELEMETRY_OFF_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DAGSTER_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
}


@dataclass(frozen=True)
class Settings:
    """Where a Bakehouse lives and which Spark it talks to."""

    home: Path
    spark_remote: str | None = None

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def truth(self) -> Path:
        """Simulator ground truth; the pipeline never reads it."""
        return self.home / "truth"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    def layer(self, layer: str) -> Path:
        if layer not in LAYERS:
            raise ValueError(f"unknown lake layer {layer!r}; expected one of {LAYERS}")
        return self.lake / layer

    def table_path(self, layer: str, table: str) -> Path:
        return self.layer(layer) / table

    @property
    def warehouse(self) -> Path:
        """The analyst DuckDB database."""
        return self.home / "warehouse.duckdb"

    @property
    def duckdb_extensions(self) -> Path:
        return self.home / "duckdb_extensions"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def mlflow_tracking_uri(self) -> str:
        # MLflow needs an absolute sqlite URI (four slashes for an absolute path).
        return f"sqlite:///{(self.mlflow_dir / 'mlflow.db').resolve()}"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def pii_key_file(self) -> Path:
        return self.home / "pii.key"

    @property
    def key_fingerprint_file(self) -> Path:
        """The fingerprint of the PII key the lake was built with (bakehouse.preflight)."""
        return self.lake / "key_fingerprint.json"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def log_file(self) -> Path:
        """Where the CLI sends library logs (Sail, Dagster) unless `--verbose`."""
        return self.log_dir / "bakehouse.log"

    def ensure_dirs(self) -> None:
        """Create the home's folders and Dagster's instance config (telemetry off).

        A home created here is 0700 (`HOME_MODE`): it holds personal data.
        """
        if not self.home.exists():
            self.home.mkdir(parents=True, mode=HOME_MODE)
            self.home.chmod(HOME_MODE)  # mkdir's mode is filtered by the umask
        for path in (self.landing, self.mlflow_dir, self.dagster_home, self.duckdb_extensions):
            path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        for layer in LAYERS:
            self.layer(layer).mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        write_dagster_yaml(self.dagster_home / "dagster.yaml")


def write_dagster_yaml(path: Path) -> bool:
    """Write the Dagster instance config (telemetry off, one lake writer at a time).

    A file this function wrote (or the telemetry-only file of older homes) is brought
    up to date; a file someone wrote by hand is left alone. True if it was written.
    """
    if path.exists():
        current = path.read_text(encoding="utf-8")
        ours = current.startswith(DAGSTER_YAML_HEADER) or current == _LEGACY_DAGSTER_YAML
        if current == DAGSTER_YAML or not ours:
            return False
    path.write_text(DAGSTER_YAML, encoding="utf-8")
    path.chmod(0o640)
    return True


def load_settings() -> Settings:
    """Read the settings from the environment, now."""
    home = Path(os.environ.get("BAKEHOUSE_HOME", "./.bakehouse")).expanduser().resolve()
    remote = os.environ.get("BAKEHOUSE_SPARK_REMOTE") or None
    return Settings(home=home, spark_remote=remote)


def restrict_umask() -> int:
    """Make files this process creates 0640 and folders 0750 (`HOME_UMASK`); old umask."""
    return os.umask(HOME_UMASK)


def apply_telemetry_off(environ: dict[str, str] | None = None) -> None:
    """Set every tool's telemetry switch off, without overriding an explicit choice."""
    target = os.environ if environ is None else environ
    for name, value in TELEMETRY_OFF_ENV.items():
        target.setdefault(name, value)
