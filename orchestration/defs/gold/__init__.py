"""Gold: the dbt project's models as assets, and the analyst warehouse refresh."""

from orchestration.defs.gold.definitions import defs

__all__ = ["defs"]
