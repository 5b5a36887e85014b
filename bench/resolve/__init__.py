"""Labelled sets (`generate`) and scoring against a stock splink model (`evaluate`)."""
