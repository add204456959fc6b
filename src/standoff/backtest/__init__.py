"""Backtests: datasets with known outcomes, the engines run on them, and scoring rules."""
