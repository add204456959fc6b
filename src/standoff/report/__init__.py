"""The analyst's report: the judgement first, then the evidence, every number from the run."""

from .content import Report, build_report
from .render import render_html, render_markdown

__all__ = ["Report", "build_report", "render_html", "render_markdown"]
