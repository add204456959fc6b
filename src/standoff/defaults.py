"""The defaults every way of running a forecast shares (the command line, the web workspace, the
pipeline, the drivers), stated once. Imports nothing, so that the command line can show them
without loading the model."""

from __future__ import annotations

DEFAULT_DRAWS = 10_000  # Monte Carlo draws of a forecast
DEFAULT_SEED = 20180815  # the seed of a forecast (the flagship case's as-of date)
DEFAULT_CHUNK = 8192  # draws per block at most (`run.executor.block_size` evens them out)
DEFAULT_TRAJECTORIES = 10  # Morris trajectories of the drivers (`sensitivity`)
DEFAULT_REPLICATES = 64  # histories per point of a Morris design
