"""The gold domain's `Definitions`, merged by `orchestration.definitions`.

The dbt CLI resource runs the repository's dbt project with its own profile
(`profiles.yml`, target `nightly`); `BAKEHOUSE_HOME` reaches dbt through the
environment of the run.
"""

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.gold.assets import analyst_warehouse, gold_dbt
from orchestration.defs.gold.project import dbt_project

defs = dg.Definitions(
    assets=[gold_dbt, analyst_warehouse],
    resources={
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            target="nightly",
            # the dbt of this interpreter's environment, whatever PATH says
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        )
    },
)
