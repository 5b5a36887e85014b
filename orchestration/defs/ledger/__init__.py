"""The file ledger and the quarantine, reported as assets after bronze."""

import dagster as dg

from orchestration.defs.ledger.assets import ledger_and_quarantine

defs = dg.Definitions(assets=[ledger_and_quarantine])

__all__ = ["defs"]
