"""Render a Report as one self-contained HTML file (inline CSS and SVG, no scripts, no network)
or as Markdown with its figures written beside it."""

from __future__ import annotations

from pathlib import Path

import jinja2

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


def render_markdown(report: Report, path: Path) -> str:
    """Markdown for `path`; the figures go to `<stem>_figures/` beside it, as SVG files."""
    folder = path.parent / f"{path.stem}_figures"
    folder.mkdir(parents=True, exist_ok=True)
    links = {}
    for name, svg in report.figures.items():
        (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
        links[name] = f"{folder.name}/{name}.svg"
    markdown = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    markdown.globals.update(pct=pct)
    template = markdown.from_string(
        (Path(__file__).parent / "templates" / "report.md.j2").read_text(encoding="utf-8")
    )
    return template.render(r=report, fig=links)
