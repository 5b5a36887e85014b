"""Lake maintenance: the weekly OPTIMIZE + VACUUM job over every Delta table."""

import dagster as dg

from orchestration.defs.maintenance.jobs import lake_maintenance_job, lake_maintenance_schedule

defs = dg.Definitions(jobs=[lake_maintenance_job], schedules=[lake_maintenance_schedule])
