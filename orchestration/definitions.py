"""The code location: each domain's `Definitions`, plus what applies everywhere.

Everything runs in one process per run: the assets share one in-process Sail server.
Every asset and op that writes the lake is in the `bakehouse_lake` pool, which the
instance (the dagster.yaml that `bakehouse.config` writes) limits to one run at a time,
so commits to shared Delta tables (the file ledger) do not race. Resources are
configured here, from environment variables resolved when a run starts.
"""

import dagster as dg

from orchestration.defs.bronze import defs as bronze_defs
from orchestration.defs.gold import defs as gold_defs
from orchestration.defs.identity import defs as identity_defs
from orchestration.defs.ledger import defs as ledger_defs
from orchestration.defs.maintenance import defs as maintenance_defs
from orchestration.defs.silver import defs as silver_defs
from orchestration.jobs import nightly_job, nightly_schedule
from orchestration.resources import LakehouseResource

defs = dg.Definitions.merge(
    dg.Definitions(
        resources={"lakehouse": LakehouseResource(home=dg.EnvVar("BAKEHOUSE_HOME"))},
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        executor=dg.in_process_executor,
    ),
    bronze_defs,
    identity_defs,
    ledger_defs,
    maintenance_defs,
    silver_defs,
    gold_defs,
)
