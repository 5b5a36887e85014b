"""The silver domain's `Definitions`, merged by `orchestration.definitions`."""

import dagster as dg

from orchestration.defs.silver.assets import silver_daily, silver_masters

defs = dg.Definitions(assets=[silver_masters, silver_daily])
