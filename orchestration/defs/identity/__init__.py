"""OneID assets: silver identity tables from the bronze feeds that carry identifiers."""

from orchestration.defs.identity.assets import defs

__all__ = ["defs"]
