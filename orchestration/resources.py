"""Resources shared by every domain, configured in `orchestration.definitions`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from bakehouse.config import Settings, load_settings
from bakehouse.lake import Lake


class LakehouseResource(dg.ConfigurableResource):
    """The Bakehouse home (landing, lake, warehouse) and its Spark Connect session.

    `orchestration.definitions` sets `home` from `dg.EnvVar("BAKEHOUSE_HOME")`, resolved
    when a run starts; `bakehouse run` passes the CLI's home and Spark remote in the
    run config instead. Unset fields fall back to `BAKEHOUSE_HOME` /
    `BAKEHOUSE_SPARK_REMOTE` read at run time (tests construct the resource directly).
    The PII key is never resource config (run config is stored in Dagster's run
    storage): `pii_key()` reads `BAKEHOUSE_PII_KEY`, else the home's key file, when a
    step needs it.

    Every run that uses this resource records its process (PID, start time, host) as
    run tags, so `bakehouse run` / `maintain` can tell a crashed run from a live one
    (`bakehouse.maintenance.lake_writers_in_progress`), and runs `bakehouse.preflight`
    before its first step: a run of a missing home, with a missing or changed key, or
    for a date that has not ended fails at once with one line, having written nothing.
    """

    home: str | None = None
    spark_remote: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """In a run: record its process, then preflight (home, PII key, the run's date).

        Raises `bakehouse.preflight.PreflightError` (one line) before anything is
        written when a check fails. Sensors and schedules (no run) skip both.
        """
        from bakehouse.maintenance import record_run_process
        from bakehouse.preflight import preflight

        run = context.dagster_run
        if context.instance is None or run is None:
            return
        record_run_process(context.instance, run.run_id)
        partition = run.tags.get("dagster/partition")
        preflight(self._configured(), [date.fromisoformat(partition)] if partition else [])

    def _configured(self) -> Settings:
        env = load_settings()
        return Settings(
            home=Path(self.home).resolve() if self.home else env.home,
            spark_remote=self.spark_remote or env.spark_remote,
        )

    @property
    def settings(self) -> Settings:
        settings = self._configured()
        settings.ensure_dirs()
        return settings

    def pii_key(self) -> bytes:
        """The pseudonymisation key; raises `bakehouse.pii.MissingKeyError` if none."""
        from bakehouse.pii import load_key

        return load_key(self.settings.pii_key_file)

    def spark(self):  # -> pyspark.sql.SparkSession, imported lazily: it is heavy
        from bakehouse.spark import spark_session

        return spark_session(self.settings.spark_remote)

    def lake(self, *, with_spark: bool = False) -> Lake:
        return Lake(self.settings, self.spark() if with_spark else None)
