"""The code location: each domain's `Definitions`, plus what applies everywhere.

Everything runs in one process per run: the assets share one in-process Sail server.
Every job here writes the lake and carries the `bakehouse/lake: write` tag, which the
instance's run queue (the dagster.yaml that `bakehouse.config` writes) limits to one
run at a time, so commits to shared Delta tables (the file ledger) do not race.
"""

import dagster as dg

from orchestration.defs.bronze import defs as bronze_defs
from orchestration.defs.gold import defs as gold_defs
from orchestration.defs.identity import defs as identity_defs
from orchestration.defs.maintenance import defs as maintenance_defs
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
    maintenance_defs,
    silver_defs,
    gold_defs,
)
