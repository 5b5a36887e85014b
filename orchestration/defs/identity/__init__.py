"""OneID assets: silver identity tables from the bronze feeds that carry identifiers,
and the weekly full rebuild."""

import dagster as dg

from orchestration.defs.identity.assets import oneid
from orchestration.defs.identity.jobs import oneid_rebuild_job, oneid_rebuild_schedule

defs = dg.Definitions(assets=[oneid], jobs=[oneid_rebuild_job], schedules=[oneid_rebuild_schedule])

__all__ = ["defs"]
