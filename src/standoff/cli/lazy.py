"""The command group of `standoff`: the commands whose modules load the engines, the ICB tables,
SQLAlchemy or the web stack are made only when first named, and a CaseError raised while any
command runs is reported as one found at load."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from ..console import print_problems
from ..errors import CaseError
from .app import app

# commands made when first named (their modules load the engines, the ICB tables or the web
# stack): name -> (module, the function there)
_LAZY_COMMANDS = {
    "backtest": ("standoff.cli.backtest", "backtest"),
    "score": ("standoff.cli.backtest", "score_cmd"),
    "baserates": ("standoff.cli.baserates", "baserates"),
    "serve": ("standoff.cli.serve", "serve"),
}
# command groups made when first named (SQLAlchemy loads only then): name -> the module whose
# `<name>_app` Typer holds the group's commands
_LAZY_GROUPS = {
    "ledger": "standoff.cli.ledger",
    "library": "standoff.cli.library",
    "games": "standoff.cli.games",
}


class Commands(TyperGroup):
    """The command group: a CaseError raised while a command runs (a formula's value out of range
    in a simulation, say) is reported like one found at load, `FILE:LINE: field: problem` on
    stderr with exit status 2; `backtest` and `score` are made into commands when first named."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CaseError as e:
            print_problems(e.problems)
            raise typer.Exit(2) from None

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        lazy = [*_LAZY_COMMANDS, *_LAZY_GROUPS]
        return names + [name for name in lazy if name not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in _LAZY_GROUPS and cmd_name not in self.commands:
            import importlib

            from typer.main import get_group

            module = importlib.import_module(_LAZY_GROUPS[cmd_name])
            self.add_command(get_group(getattr(module, f"{cmd_name}_app")), cmd_name)
        if cmd_name in _LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            from typer.main import get_command_from_info

            where, function = _LAZY_COMMANDS[cmd_name]
            lazy = typer.Typer()
            lazy.command(name=cmd_name)(getattr(importlib.import_module(where), function))
            self.add_command(
                get_command_from_info(
                    lazy.registered_commands[0],
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                )
            )
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands:  # a lazy command, or a typo to suggest for
            for name in [*_LAZY_COMMANDS, *_LAZY_GROUPS]:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


app.info.cls = Commands
