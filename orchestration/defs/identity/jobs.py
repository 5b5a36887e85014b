"""The weekly full OneID rebuild: Sunday 03:00 Asia/Shanghai.

Nights add to the identifier graph; a few things only a rebuild from every bronze row
undoes (rows a re-export removed still count as evidence, a shared identifier stays
shared, a voucher ticket read before its Douyin order is tied then). Sunday 03:00 is
after the 02:00 nightly run and before the 04:00 maintenance; the run queue holds it
while another lake writer runs (lake-write tag). Off by default, like `nightly`.
"""

import dagster as dg

from bakehouse.config import LAKE_WRITE_TAGS, LOCAL_TZ
from orchestration.defs.identity.assets import oneid

oneid_rebuild_job = dg.define_asset_job(
    "oneid_rebuild",
    selection=dg.AssetSelection.assets(oneid),
    config={"ops": {"oneid": {"config": {"full": True}}}},
    tags=LAKE_WRITE_TAGS,
    description="Rebuild the identifier graph from every bronze row (one_ids kept).",
)

oneid_rebuild_schedule = dg.ScheduleDefinition(
    name="oneid_rebuild_sunday_0300_shanghai",
    job=oneid_rebuild_job,
    cron_schedule="0 3 * * 0",
    execution_timezone=LOCAL_TZ,
    description="Weekly full OneID rebuild (turn on with the nightly run).",
)
