"""What the commands print to a terminal: the two consoles, user text made safe to print, the
one clear-error exit (`error: message` on stderr, exit status 2), problems and warnings as lines.

Every text that comes from data (titles, labels, names, ids, a ledger's rows, error messages that
quote them) goes through `printable` (plain text) or `safe` (text inside rich markup), so that its
control characters show as escapes (`standoff.controlchars`) and its brackets print as written."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from .controlchars import visible, visible_lines

out = Console()
err = Console(stderr=True)


def printable(value: object) -> str:
    """User text as plain terminal text: control characters and bidirectional overrides as
    escapes (`\\x1b`, `\\u202e`), a lone surrogate as `\\udXXX` (see `controlchars.visible`)."""
    return visible(value)


def safe(value: object) -> str:
    """User text inside rich markup: `printable`, and rich markup escaped (`[/bold]`,
    `[link=...]` print as written)."""
    return escape(printable(value))


def fail(message: str) -> typer.Exit:
    """Print `error: message` (user text as data, never markup) and give exit status 2."""
    err.print(visible_lines(f"error: {message}"), markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(2)


def print_problems(problems: Iterable[object]) -> None:
    """Each problem (`FILE:LINE: field: problem`) as one plain line on stderr, user text in it
    shown as `printable` does."""
    for problem in problems:
        print(visible_lines(problem), file=sys.stderr)


def plain_warnings() -> None:
    """Python warnings raised while a command runs print as one `warning: message` line on
    stderr, not with the source file and line that raised them."""

    def show(message: Warning | str, *args: Any, **kwargs: Any) -> None:
        err.print(
            visible_lines(f"warning: {message}"), markup=False, highlight=False, soft_wrap=True
        )

    warnings.showwarning = show
