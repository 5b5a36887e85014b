"""The silver domain's `Definitions`, merged by `orchestration.definitions`."""

import dagster as dg

from orchestration.defs.silver.assets import silver

defs = dg.Definitions(assets=[silver])
