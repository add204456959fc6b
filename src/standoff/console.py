"""What the commands print to a terminal: the two consoles, user text made safe to print, the
one clear-error exit (`error: message` on stderr, exit status 2), problems and warnings as lines.

Every text that comes from data (titles, labels, names, ids, a ledger's rows, error messages that
quote them) goes through `printable` (plain text) or `safe` (text inside rich markup), so that its
control characters show as escapes (`standoff.controlchars`) and its brackets print as written.

Every table is a `Table`, whose cells fold a word too long for its column (an id, a date) onto the
next line rather than cut it short with an ellipsis: at 80 columns, and through a pipe (where rich
assumes 80), every id and date is printed whole."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table as RichTable

from .controlchars import visible, visible_lines

if TYPE_CHECKING:
    from rich.progress import Progress

out = Console()
err = Console(stderr=True)


class Table(RichTable):
    """A rich table whose columns fold a long word onto the next line instead of cutting it
    (rich's default is an ellipsis: `us-chin…`, `2018-12…`). A column may still ask for another
    overflow.

    When the table is too wide, rich narrows the widest columns first, which are mostly those of
    ids and labels; so a column of numbers (right-justified) takes no more room than its widest
    cell or the longest word of its header, which then wraps, and the room goes to the text."""

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.__rich_measure__(console, options).maximum <= options.max_width:
            yield from super().__rich_console__(console, options)
            return
        narrowed = []
        for column in self.columns:
            if column.justify != "right" or column.width is not None or column.max_width:
                continue
            widest = Measurement.get(console, options, column.header).minimum
            for cell in column.cells:
                widest = max(widest, Measurement.get(console, options, cell).maximum)
            column.max_width = max(widest, column.min_width or 0)
            narrowed.append(column)
        try:
            yield from list(super().__rich_console__(console, options))
        finally:
            for column in narrowed:
                column.max_width = None


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


def check_output(path: Path | None, inputs: Iterable[Path | str]) -> None:
    """Refuse an output path before any work is done (`standoff.outputs.check`: never an input
    of the command, in a folder that exists): `error: PATH: reason`, exit 2."""
    from . import outputs

    if path is None:
        return
    try:
        outputs.check(path, list(inputs))
    except outputs.OutputError as e:
        raise fail(str(e)) from None


def write_output(path: Path, text: str, inputs: Iterable[Path | str]) -> None:
    """Write `text` atomically (`standoff.outputs.write_text`), never over an input; every
    problem is `error: PATH: reason`, exit 2."""
    from . import outputs

    try:
        outputs.write_text(path, text, list(inputs))
    except outputs.OutputError as e:
        raise fail(str(e)) from None


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


def progress(enabled: bool = True) -> Progress:
    """A rich progress bar on stderr (a task per stage: its count and the time left), shown only
    when `enabled` and stderr is a terminal, and gone when done."""
    from rich.progress import (  # imported here: rich.progress is not needed at start-up
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not (enabled and err.is_terminal),
    )
