"""Partitions shared across layers: one per business date, in the chain's time zone."""

import dagster as dg

from bakehouse.config import LOCAL_TZ

daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=LOCAL_TZ)
