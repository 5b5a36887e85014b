"""The file ledger and the quarantine as assets: what arrived, what was rejected, why.

Both tables are written by the bronze assets (`ingestion`); these assets only read
them after bronze ran, so the UI shows counts and reasons on every night. Never raw
rows: quarantined lines and rejected files may hold personal data, so the metadata
holds counts per feed, status and reason code, and file names (which carry a source,
a store code and a date, nothing personal).

`latest_complete_business_date` is gold's `as_of_date`: the latest business date on
which every daily feed that has ever landed a file landed one.
"""

from datetime import date

import dagster as dg
import polars as pl

from bakehouse.lake import Lake
from ingestion.schemas import FEEDS, LEDGER_TABLE
from orchestration.resources import LakehouseResource

GROUP = "ledger"
LEDGER_KEY = dg.AssetKey(["bronze", LEDGER_TABLE])
QUARANTINE_KEY = dg.AssetKey(["quarantine", "all_feeds"])
DAILY_FEEDS = tuple(feed.name for feed in FEEDS if not feed.monthly)
LISTED_FILES = 20


def _ledger(lake: Lake) -> pl.DataFrame | None:
    return lake.read_polars("bronze", LEDGER_TABLE) if lake.exists("bronze", LEDGER_TABLE) else None


def latest_complete_business_date(lake: Lake) -> date | None:
    """The latest date with a landed file of every daily feed seen so far; None if none.

    Monthly feeds (store costs) do not count. Source: `bronze/file_ledger`.
    """
    ledger = _ledger(lake)
    if ledger is None:
        return None
    landed = ledger.filter(
        (pl.col("status") == "landed")
        & pl.col("feed").is_in(DAILY_FEEDS)
        & pl.col("business_date").is_not_null()
    )
    feeds_seen = landed["feed"].n_unique()
    if feeds_seen == 0:
        return None
    complete = (
        landed.group_by("business_date")
        .agg(pl.col("feed").n_unique().alias("feeds"))
        .filter(pl.col("feeds") == feeds_seen)
    )
    return complete["business_date"].max() if len(complete) else None


def _table(frame: pl.DataFrame) -> dg.MetadataValue:
    kinds = {pl.Int64: "int", pl.UInt32: "int", pl.Int32: "int", pl.UInt64: "int"}
    return dg.MetadataValue.table(
        records=[dg.TableRecord(row) for row in frame.iter_rows(named=True)],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn(name, kinds.get(dtype, "string"))
                for name, dtype in frame.schema.items()
            ]
        ),
    )


def ledger_metadata(lake: Lake) -> dict[str, dg.MetadataValue]:
    """Files per feed and status, and the rejected and duplicate files by name."""
    ledger = _ledger(lake)
    if ledger is None:
        return {"files": dg.MetadataValue.int(0)}
    ledger = ledger.with_columns(pl.col("feed").fill_null("(no feed: " + pl.col("source") + ")"))
    by_status = ledger.group_by("status").len().sort("status")
    per_feed = (
        ledger.group_by("feed", "status")
        .agg(pl.len().alias("files"), pl.col("rows_quarantined").sum().alias("rows_quarantined"))
        .sort("feed", "status")
    )
    problems = ledger.filter(pl.col("status").is_in(["rejected", "duplicate"])).sort(
        "ingested_at", descending=True
    )
    complete = latest_complete_business_date(lake)
    return {
        "files": dg.MetadataValue.int(len(ledger)),
        **{
            f"files_{status}": dg.MetadataValue.int(count)
            for status, count in by_status.iter_rows()
        },
        "per_feed": _table(per_feed.cast({"files": pl.Int64, "rows_quarantined": pl.Int64})),
        "rejected_or_duplicate_files": dg.MetadataValue.md(
            "\n".join(
                f"- `{row['source_file']}`: {row['status']}"
                for row in problems.head(LISTED_FILES).iter_rows(named=True)
            )
            or "_none_"
        ),
        "latest_complete_business_date": dg.MetadataValue.text(
            complete.isoformat() if complete else "-"
        ),
    }


def quarantine_metadata(lake: Lake) -> dict[str, dg.MetadataValue]:
    """Quarantined rows per feed and reason code (never the rows)."""
    frames = [
        lake.read_polars("quarantine", table).select("feed", "reason_code")
        for table in lake.tables("quarantine")
    ]
    rows = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"feed": pl.String, "reason_code": pl.String})
    )
    counts = rows.group_by("feed", "reason_code").agg(pl.len().cast(pl.Int64).alias("rows"))
    return {
        "rows": dg.MetadataValue.int(len(rows)),
        "feeds": dg.MetadataValue.int(counts["feed"].n_unique()),
        "per_feed_and_reason": _table(counts.sort("rows", "feed", descending=[True, False])),
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            LEDGER_KEY,
            group_name=GROUP,
            description="Every landing file seen: landed, rejected, superseded or duplicate.",
            deps=[dg.AssetKey(["bronze", feed.name]) for feed in FEEDS],
            kinds={"delta"},
        ),
        dg.AssetSpec(
            QUARANTINE_KEY,
            group_name=GROUP,
            description="Rows no feed could type (lake/quarantine/<feed>): counts and reasons.",
            deps=[dg.AssetKey(["bronze", feed.name]) for feed in FEEDS],
            kinds={"delta"},
            tags={"pii": "restricted"},
        ),
    ],
    name="ledger_and_quarantine",
    can_subset=False,
)
def ledger_and_quarantine(lakehouse: LakehouseResource):
    """Report the ledger and the quarantine as they are after bronze (read only)."""
    lake = lakehouse.lake()
    yield dg.MaterializeResult(asset_key=LEDGER_KEY, metadata=ledger_metadata(lake))
    yield dg.MaterializeResult(asset_key=QUARANTINE_KEY, metadata=quarantine_metadata(lake))
