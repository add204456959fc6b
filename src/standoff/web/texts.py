"""A case text as the workspace reads and writes it: its version (the SHA-256 of its bytes), the
lone surrogates it may hold (which no page or JSON could show), and the case and date an
observation or resolution file names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import CaseError, Problem

SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\(u[dD][89a-fA-F]|U0000[dD][89a-fA-F])")  # YAML's \uD83D


def version_of(data: bytes) -> str:
    """The version of a case text: the SHA-256 of its bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def visible(text: str) -> str:
    """`text` with each lone surrogate (which UTF-8 cannot carry) shown as U+FFFD."""
    return SURROGATE.sub("\ufffd", text) if SURROGATE.search(text) else text


def surrogate_problems(text: str, file: str) -> list[Problem]:
    """A problem for each value or key of a case's YAML that holds a lone surrogate (half of a
    UTF-16 pair, which YAML's `\\uD83D` escapes make and which is not a character: no page or
    JSON could show it), at its line. [] when there is none, or the YAML cannot be read (the
    loader says why)."""
    from ..case.yamlread import dotted, read_yaml

    def problem(line: int, field: str, value: str) -> Problem:
        shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return Problem(file, line, visible(field), (
            f"'{shown[:60]}' holds a lone surrogate (half of a UTF-16 pair), which is not a "
            "character; write the character itself, or escape it whole (\\U0001F600)"
        ))  # fmt: skip

    if found := SURROGATE.search(text):  # in the text itself (a text sent to the API)
        return [problem(text.count("\n", 0, found.start()) + 1, "(text)", found.group())]
    if not SURROGATE_ESCAPE.search(text):
        return []
    try:
        data, lines = read_yaml(text, file)
    except CaseError:
        return []
    problems: list[Problem] = []

    def walk(value: object, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                child = (*path, key)
                if isinstance(key, str) and SURROGATE.search(key):
                    problems.append(problem(lines.get((*child, "<key>"), 1), dotted(child), key))
                walk(item, child)
        elif isinstance(value, list):
            for n, item in enumerate(value):
                walk(item, (*path, n))
        elif isinstance(value, str) and SURROGATE.search(value):
            problems.append(problem(lines.get(path, 1), dotted(path), value))

    walk(data, ())
    return problems


def case_and_date(path: Path, kind: str) -> tuple[str | None, str]:
    """The `case:` an observation or resolution file names, and its date (`as_of` or
    `resolved`), as written; (None, "") where the file cannot be read."""
    from ..case.kinds import OBSERVATIONS
    from ..case.yamlread import read_yaml

    try:
        data, _ = read_yaml(path.read_text(encoding="utf-8-sig"), str(path))
    except (CaseError, OSError, ValueError):
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    named = data.get("case")
    date = data.get("as_of" if kind == OBSERVATIONS else "resolved")
    return (
        named.strip() if isinstance(named, str) and named.strip() else None,
        str(date) if date is not None else "",
    )
