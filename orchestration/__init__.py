"""Bakehouse's Dagster code location (see `orchestration.definitions`)."""
