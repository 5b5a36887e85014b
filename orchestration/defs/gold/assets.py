"""Gold assets: every dbt model (dbt tests as asset checks), then the warehouse.

- The dbt models sit downstream of silver: a dbt source `silver.<table>` is the
  Dagster asset `silver/<table>` that silver or OneID materializes.
- Groups follow the dbt folders: `gold_staging`, `gold_intermediate`, and one group
  per mart domain (`gold_member`, ...).
- `analyst_warehouse` runs last: it rebuilds `warehouse.duckdb` and swaps it in
  (`bakehouse.warehouse.refresh_views`), so analysts never see a half-built night.

The run's business date (`as_of_date`) comes from the run config, else the ledger's
latest complete business date: never a partition key, never the wall clock. Both
assets write the lake, so they are in the one-lake-writer pool.
"""

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.gold.project import dbt_project
from orchestration.defs.ledger.assets import latest_complete_business_date
from orchestration.partitions import LAKE_POOL
from orchestration.resources import LakehouseResource


class GoldTranslator(DagsterDbtTranslator):
    """Models are `gold/<model>`; sources keep their `silver/<table>` keys."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey(["gold", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        folders = dbt_resource_props["fqn"][1:-1]  # e.g. ["marts", "member"]
        if not folders:
            return "gold"
        return f"gold_{folders[1] if folders[0] == 'marts' and len(folders) > 1 else folders[0]}"


class GoldConfig(dg.Config):
    as_of_date: str | None = None
    """Business date YYYY-MM-DD; default: the latest complete business date in the ledger."""


def resolve_as_of_date(config: GoldConfig, lakehouse: LakehouseResource) -> dt.date:
    """The date gold is computed as of: run config, else the ledger's latest complete date.

    Never a partition key (issue #8): silver is ledger-driven, so gold describes the
    lake as it stands. Raises `dg.Failure` when the ledger has no complete date yet.
    """
    if config.as_of_date:
        return dt.date.fromisoformat(config.as_of_date)
    latest = latest_complete_business_date(lakehouse.lake())
    if latest is None:
        raise dg.Failure("gold has no as_of_date: no run config and no complete business date")
    return latest


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=GoldTranslator(),
    name="gold_dbt",
    pool=LAKE_POOL,
)
def gold_dbt(
    context: dg.AssetExecutionContext,
    config: GoldConfig,
    dbt: DbtCliResource,
    lakehouse: LakehouseResource,
):
    """`dbt build` of the selected models and their tests, as of the run's date."""
    as_of = resolve_as_of_date(config, lakehouse)
    env_home = str(lakehouse.settings.home)
    context.log.info(f"dbt build as of {as_of} in {env_home}")
    invocation = dbt.cli(
        ["build", "--vars", json.dumps({"as_of_date": as_of.isoformat()})], context=context
    )
    yield from _to_stderr(invocation.stream())


def _to_stderr(events: Iterator[Any]) -> Iterator[Any]:
    """The events, with what dagster-dbt echoes of dbt's log sent to stderr, not stdout.

    dagster-dbt writes every dbt log line to `sys.stdout`; the CLI's console is stdout,
    and `bakehouse.quiet` sends stderr to the home's log file (the Dagster UI captures
    both). The redirect covers only the producing of each event, not Dagster's handling.
    """
    while True:
        with contextlib.redirect_stdout(sys.stderr):
            event = next(events, _DONE)
        if event is _DONE:
            return
        yield event


_DONE = object()


@dg.asset(
    key=["warehouse", "analyst_warehouse"],
    deps=[gold_dbt],
    group_name="gold_warehouse",
    kinds={"duckdb"},
    pool=LAKE_POOL,
    description=(
        "warehouse.duckdb for analysts: gold.* and silver.* views over the published "
        "Delta versions, rebuilt beside the live file and swapped in atomically."
    ),
)
def analyst_warehouse(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    from bakehouse import warehouse

    settings = lakehouse.settings
    views = warehouse.refresh_views(settings)
    gold_rows = warehouse.gold_row_counts(settings)
    return dg.MaterializeResult(
        metadata={
            "views": dg.MetadataValue.int(len(views)),
            "gold_row_counts": dg.MetadataValue.json(gold_rows),
            "path": dg.MetadataValue.path(str(settings.warehouse)),
        }
    )
