"""What the commands print to a terminal: the two consoles, user text made safe to print, and
the one clear-error exit (`error: message` on stderr, exit status 2)."""

from __future__ import annotations

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
