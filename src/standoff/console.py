"""What the commands print to a terminal: the two consoles, user text made safe to print, the
one clear-error exit (`error: message` on stderr, exit status 2), and warnings as one line."""

from __future__ import annotations

import warnings
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
err = Console(stderr=True)


def printable(value: object) -> str:
    """Text every terminal encoding holds: a lone surrogate becomes a `\\udXXX` escape."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def safe(value: object) -> str:
    """User text as terminal data: rich markup escaped (`[/bold]`, `[link=...]` print as
    written), characters no terminal encoding holds as escapes (`printable`)."""
    return escape(printable(value))


def fail(message: str) -> typer.Exit:
    """Print `error: message` (user text as data, never markup) and give exit status 2."""
    err.print(printable(f"error: {message}"), markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(2)


def plain_warnings() -> None:
    """Python warnings raised while a command runs print as one `warning: message` line on
    stderr, not with the source file and line that raised them."""

    def show(message: Warning | str, *args: Any, **kwargs: Any) -> None:
        err.print(printable(f"warning: {message}"), markup=False, highlight=False, soft_wrap=True)

    warnings.showwarning = show
