"""The `standoff` command: `app`, the Typer application, and `main`, the console script.

One module per command group, each registering its commands on `app` (`app.py`) in the order
`--help` lists them: `check`, `cases`, `settle`, `forecast` (with its terminal tables in
`tables.py`), `sensitivity` and `ablate` (`analysis.py`); `lazy.py` makes the commands of the
other packages (backtest, score, baserates, serve, ledger, library, games) when first named.
`options.py` holds the defaults the options show, `common.py` what the commands share."""

from __future__ import annotations

import importlib

from ..console import plain_warnings
from .app import app
from .options import (
    DEFAULT_CASE,
    DEFAULT_CHUNK,
    DEFAULT_DRAWS,
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    DEFAULT_TRAJECTORIES,
    MODELS,
)

# each module registers its commands on `app` as it loads: loaded in the order `--help` lists
# them (an import statement per module would be sorted by name)
for _module in ("check", "cases", "settle", "forecast", "analysis", "lazy"):
    importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    """The console script `standoff`."""
    plain_warnings()
    app()


__all__ = [
    "DEFAULT_CASE",
    "DEFAULT_CHUNK",
    "DEFAULT_DRAWS",
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "DEFAULT_TRAJECTORIES",
    "MODELS",
    "app",
    "main",
]
