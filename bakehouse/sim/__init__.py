"""Seeded, deterministic simulator of the bakery chain's source-system exports."""

from bakehouse.sim.engine import SimSummary, simulate

__all__ = ["SimSummary", "simulate"]
