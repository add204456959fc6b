"""Render a Report as one self-contained HTML file (inline CSS and SVG, no scripts, no network)
or as Markdown with its figures written beside it.

User text is data in both: the HTML template autoescapes; in Markdown every value is escaped by
`md` (HTML-escaped `<>&`, Markdown control characters backslash-escaped, newlines collapsed so
that a table row stays one row) unless it is one of the renderer's own values (`Raw`)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from ..outputs import figures_folder
from .content import Report, icd203_table, pct

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("standoff.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    trim_blocks=False,
    lstrip_blocks=False,
    undefined=jinja2.StrictUndefined,
)
_env.globals.update(pct=pct, icd=icd203_table())


def render_html(report: Report) -> str:
    return _env.get_template("report.html.j2").render(r=report)


class Raw(str):
    """Text the Markdown renderer wrote itself (links, code spans): not escaped again."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#!$])")


def md(value: Any) -> str:
    """User text as Markdown data: one line, HTML-escaped, control characters escaped.

    >>> md("a | b\\n<script>")
    'a \\\\| b &lt;script&gt;'
    """
    if isinstance(value, Raw):
        return value
    text = "" if value is None else str(value)
    text = " ".join(text.split())  # newlines (and runs of spaces) -> one space
    text = html.escape(text, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", text)


def code(value: Any) -> Raw:
    """A Markdown code span holding `value` verbatim (its own backticks fenced by longer ones;
    pipes escaped, as GitHub tables require even in code)."""
    text = " ".join(str(value).split()).replace("|", "\\|")  # a pipe would end a table cell
    runs = [len(m) for m in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Raw(f"{fence}{pad}{text}{pad}{fence}")


_markdown = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, finalize=md, keep_trailing_newline=True
)
_markdown.globals.update(pct=pct, icd=icd203_table())
_markdown.filters.update(code=code, raw=Raw)


def render_markdown(report: Report, path: Path) -> tuple[str, dict[str, str]]:
    """Markdown for `path`, and its figures: {file name: SVG text}, to be written to
    `<stem>_figures/` beside it (`standoff.outputs.write_files`); nothing is written here."""
    folder = figures_folder(path)
    files = {f"{name}.svg": svg for name, svg in report.figures.items()}
    links = {name: Raw(quote(f"{folder.name}/{name}.svg")) for name in report.figures}
    template = _markdown.from_string(
        (Path(__file__).parent / "templates" / "report.md.j2").read_text(encoding="utf-8")
    )
    return template.render(r=report, fig=links), files
