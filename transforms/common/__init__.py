"""Helpers shared by the silver domains: money, bronze reading, identities, writes."""
