"""Silver: one ledger-driven asset step over `transforms.build`; the logic lives there.

Unpartitioned on purpose. Silver is driven by the bronze file ledger, not by a date:
each run processes exactly the bronze batches silver has not processed yet
(`build_pending`), and so rebuilds every business date that late files, re-exports
and change records touched, whichever night they arrived. The dates it rebuilt are
recorded as metadata. A run that finds nothing new writes nothing and materializes
nothing (the specs are skippable), so a second run of a backfill finishes in seconds
and the UI never shows a rebuild that did not happen.

The tables, their bronze inputs and grain come from `transforms.build.SILVER_TABLES`.
"""

import dagster as dg

from orchestration.partitions import LAKE_POOL
from orchestration.resources import LakehouseResource
from transforms.build import SILVER_TABLES, BuildResult, rebuilt_dates

GROUP = "silver"


def silver_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, table])


def silver_specs() -> list[dg.AssetSpec]:
    """One asset spec per silver table, from the transforms' own table list."""
    return [
        dg.AssetSpec(
            silver_key(table.name),
            group_name=GROUP,
            description=table.description,
            deps=[dg.AssetKey(["bronze", source]) for source in table.inputs],
            kinds={"spark", "delta"},
            metadata={
                "grain": ", ".join(table.grain),
                "rebuilt": "per business date" if table.daily else "whole table",
            },
            skippable=True,
        )
        for table in SILVER_TABLES.values()
    ]


def build_metadata(result: BuildResult) -> dict[str, dict[str, dg.MetadataValue]]:
    """Per table: build mode, the dates rebuilt (daily tables), rows after the build."""
    dates = rebuilt_dates(result)
    metadata = {}
    for name, table in SILVER_TABLES.items():
        entry: dict[str, dg.MetadataValue] = {
            "build_mode": dg.MetadataValue.text(result.mode),
            "changed_files": dg.MetadataValue.int(len(result.changed_files)),
            "row_count": dg.MetadataValue.int(result.row_counts.get(name, 0)),
            "store_conflicts": dg.MetadataValue.text("; ".join(result.store_conflicts) or "-"),
        }
        if table.daily:
            days = sorted(dates[name])
            entry["rebuilt_dates"] = dg.MetadataValue.text(
                "all (full build)"
                if result.mode == "full"
                else ", ".join(d.isoformat() for d in days) or "-"
            )
            entry["rebuilt_date_count"] = dg.MetadataValue.int(len(days))
        metadata[name] = entry
    return metadata


@dg.multi_asset(specs=silver_specs(), name="silver", can_subset=False, pool=LAKE_POOL)
def silver(context: dg.AssetExecutionContext, lakehouse: LakehouseResource):
    """Process the bronze batches silver has not processed yet (the file ledger)."""
    from transforms.build import build_pending

    lake = lakehouse.lake(with_spark=True)
    result = build_pending(lake, lakehouse.pii_key())
    if result.mode == "noop":
        context.log.info("silver: nothing new in the file ledger; nothing rebuilt")
        return
    for name, metadata in build_metadata(result).items():
        yield dg.MaterializeResult(asset_key=silver_key(name), metadata=metadata)
