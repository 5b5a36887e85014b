"""Silver assets: the conformed order model, vouchers, inventory and masters."""

from orchestration.defs.silver.definitions import defs

__all__ = ["defs"]
