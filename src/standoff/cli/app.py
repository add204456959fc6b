"""The Typer application every command of `standoff` is registered on, with `--version`."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from ..console import out

app = typer.Typer(
    name="standoff",
    help=(
        "Forecast how negotiations and international crises end.\n\n"
        "Examples:\n\n"
        "  standoff forecast                      # the built-in us-dprk-2018 case\n\n"
        "  standoff forecast my-case.yaml --draws 100000 --seed 7 --json out.json\n\n"
        "  standoff settle table.csv --model compromise --json rounds.json\n\n"
        "  standoff check my-case.yaml\n\n"
        "  standoff cases"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"standoff {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Forecast how negotiations and international crises end."""
