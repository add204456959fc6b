"""The text of a new case of the workspace: a copy of a case (of the folder, or a built-in one)
or a minimal template, under a new id.

A copy is the case's own text, comments and all, with its top-level `id:` line set to the new id
(the ledger files forecasts by that id, so the copy's records never mix with the original's). The
template is `templates/new-case.yaml`: two actors, one issue, one event, two scenarios and one
question, dated from today for a year, each part to be replaced (docs/cases.md). Either text must
pass the checks of `standoff check` before it is written (`api.new_case`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

TEMPLATE = "template"  # the `copy_of` that names the minimal template
TEMPLATE_FILE = Path(__file__).resolve().parent / "templates" / "new-case.yaml"
ID_LINE = re.compile(r"^id[ \t]*:[^\n]*$", re.MULTILINE)


def scalar(ident: str) -> str:
    """An id as the case reader (`case.yamlread.read_yaml`) reads it back as the same text: bare
    where it can be (`my-case`), quoted where YAML would read another type (`yes`, `2019`,
    `0x1F`, `null`)."""
    from ..case.yamlread import read_yaml
    from ..errors import CaseError

    try:
        back, _ = read_yaml(f"k: {ident}", "(id)")
    except CaseError:
        back = None
    if isinstance(back, dict) and back.get("k") == ident:
        return ident
    return json.dumps(ident)


def renamed(text: str, ident: str) -> str:
    """`text` with its top-level `id:` line set to `ident` (a comment after the value kept); a
    text without one gets `id:` as its first line after the leading comments."""
    line = f"id: {scalar(ident)}"
    found = ID_LINE.search(text)
    if found is not None:
        value = found.group().split(":", 1)[1].lstrip()
        if value[:1] in ("'", '"'):  # a quoted id: its comment, if any, follows the quote
            close = value.find(value[0], 1)
            value = value[close + 1 :] if close > 0 else ""
        comment = re.search(r"[ \t]+#.*$", value)
        if comment is not None:
            line += comment.group()
        return text[: found.start()] + line + text[found.end() :]
    lines = text.split("\n")
    at = 0
    while at < len(lines) and (not lines[at].strip() or lines[at].lstrip().startswith("#")):
        at += 1
    return "\n".join([*lines[:at], line, *lines[at:]])


def template_text(ident: str, today: dt.date | None = None) -> str:
    """The minimal template as a case `ident`, as of `today` with a horizon a year on."""
    start = today or dt.date.today()
    try:
        horizon = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        horizon = start + dt.timedelta(days=365)
    text = TEMPLATE_FILE.read_text(encoding="utf-8")
    text = text.replace("{{ as_of }}", start.isoformat())
    text = text.replace("{{ horizon }}", horizon.isoformat())
    return renamed(text, ident)
