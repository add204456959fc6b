"""The defaults and engine names the commands' options show, and the options several commands
share.

The engines, the case loader, numba and pydantic load where a command uses them, not at start-up
(`standoff --version` and `--help` stay quick): the defaults and names the options show are
written out here, and tests/test_cli.py checks them against their sources."""

from __future__ import annotations

from typing import Annotated

import typer

from ..defaults import DEFAULT_CHUNK as DEFAULT_CHUNK
from ..defaults import DEFAULT_DRAWS as DEFAULT_DRAWS
from ..defaults import DEFAULT_REPLICATES as DEFAULT_REPLICATES
from ..defaults import DEFAULT_SEED as DEFAULT_SEED
from ..defaults import DEFAULT_TRAJECTORIES as DEFAULT_TRAJECTORIES

MODELS = (
    "compromise",
    "condorcet",
    "eum",
    "exchange",
    "nash",
    "procedural",
    "smp",
)  # standoff.bargaining.ENGINES

DEFAULT_CASE = "us-dprk-2018"

OptionsArg = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Engine option KEY=VALUE, repeatable (e.g. -o Q=0.5)."),
]
CaseArg = Annotated[
    str, typer.Argument(help="A built-in case id, a YAML case, a KTAB CSV or a BDM CSV.")
]
