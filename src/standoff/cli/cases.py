"""`standoff cases`: the built-in cases and the example cases."""

from __future__ import annotations

import os
from pathlib import Path

from ..console import Table, out, safe
from .app import app
from .common import load_case


@app.command()
def cases() -> None:
    """List the built-in cases, and the example cases (each run by its file)."""
    from ..case import builtin_cases
    from ..case.loader import example_cases

    table = Table("id", "title", "actors", "issues", title="Built-in cases")
    for ident, path in builtin_cases().items():
        c = load_case(str(path)).case
        table.add_row(safe(ident), safe(c.title or ""), str(len(c.actors)), str(len(c.issues)))
    out.print(table)
    rows = []
    for path in example_cases().values():
        c = load_case(str(path)).case
        shown = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
        rows.append((safe(shown), safe(c.title or ""), str(len(c.actors)), str(len(c.issues))))
    if rows:
        table = Table(title="Examples (not built-in: give the file, e.g. standoff forecast FILE)",
                      title_justify="left")  # fmt: skip
        table.add_column("file", no_wrap=True)  # a path to copy whole
        table.add_column("title")
        for column in ("actors", "issues"):
            table.add_column(column, justify="right")
        for row in rows:
            table.add_row(*row)
        out.print(table)
