"""The bronze-only nightly run: 02:00 Asia/Shanghai, for the business day that just ended.

Off by default: the code location's `nightly` job (all layers, same hour) already
runs bronze first; with both on, the run queue would run bronze twice, one run after
the other (both are in the lake pool). Turn this on where only bronze is deployed.
"""

from orchestration.defs.bronze.jobs import bronze_job
from orchestration.schedules import nightly_schedule_for

bronze_nightly_schedule = nightly_schedule_for(bronze_job, "bronze_nightly_0200_shanghai")
