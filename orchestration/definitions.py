"""The code location: each domain's `Definitions`, plus what applies everywhere.

Everything runs in one process per run: the assets share one in-process Sail server,
and commits to shared Delta tables (the file ledger) never race.
"""

import dagster as dg

from orchestration.defs.bronze import defs as bronze_defs
from orchestration.defs.identity import defs as identity_defs
from orchestration.defs.silver import defs as silver_defs
from orchestration.jobs import nightly_job, nightly_schedule
from orchestration.resources import LakehouseResource

defs = dg.Definitions.merge(
    dg.Definitions(
        resources={"lakehouse": LakehouseResource()},
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        executor=dg.in_process_executor,
    ),
    bronze_defs,
    identity_defs,
    silver_defs,
)
