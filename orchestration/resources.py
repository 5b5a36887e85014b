"""Resources shared by every domain, configured from the environment at run time."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from bakehouse.config import Settings, load_settings
from bakehouse.lake import Lake


class LakehouseResource(dg.ConfigurableResource):
    """The Bakehouse home (landing, lake, warehouse) and its Spark Connect session.

    Unset fields fall back to `BAKEHOUSE_HOME` / `BAKEHOUSE_SPARK_REMOTE`, read when a
    run starts, so the same code location serves the demo, the tests and production.
    """

    home: str | None = None
    spark_remote: str | None = None

    @property
    def settings(self) -> Settings:
        env = load_settings()
        settings = Settings(
            home=Path(self.home).resolve() if self.home else env.home,
            spark_remote=self.spark_remote or env.spark_remote,
        )
        settings.ensure_dirs()
        return settings

    def spark(self):  # -> pyspark.sql.SparkSession, imported lazily: it is heavy
        from bakehouse.spark import spark_session

        return spark_session(self.settings.spark_remote)

    def lake(self, *, with_spark: bool = False) -> Lake:
        return Lake(self.settings, self.spark() if with_spark else None)
