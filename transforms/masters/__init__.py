"""Conformed masters from the ERP snapshots: stores, products and their platform maps."""
