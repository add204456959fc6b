"""Where a formula's text lies in its case file: the line of a fault in a formula written over
several lines, each line's place in the formula's text, and whether a field is written as a YAML
truth value (which the schema would read as 1 or 0)."""

from __future__ import annotations

import re

from ..case.source import SourceMap
from .expr import FormulaError, offset_of


def written_as_truth(source: SourceMap, path: tuple[str | int, ...]) -> bool:
    """Whether the field's value is written as a YAML truth value (true, false, yes, no, on, off),
    which the schema would read as the number 1 or 0."""
    if source.raw is None or not path:
        return False
    try:
        row = source.raw.decode().splitlines()[source.line(path) - 1]
    except (UnicodeDecodeError, IndexError):
        return False
    key = re.escape(str(path[-1]))
    return (
        re.search(rf"\b{key}\s*:\s*(true|false|yes|no|on|off)\s*(?:[,}}#]|$)", row, re.I)
        is not None
    )


def fault_line(source: SourceMap, path: tuple[str | int, ...], text: str, err: FormulaError) -> int:
    """The line of the file where a formula's fault is (see `text_lines`)."""
    line = source.line(path)
    offset = offset_of(str(text).strip(), err.node)
    if offset is None:
        return line
    found = line
    for start, number in text_lines(source, path, str(text).strip()):
        if start > offset:
            break
        found = number
    return found


def text_lines(
    source: SourceMap, path: tuple[str | int, ...], formula: str
) -> list[tuple[int, int]]:
    """Where each line of the file that holds part of a formula starts in the formula's text:
    (offset, line). The field's own line, and when the formula runs over several lines (a YAML
    block or a long quoted scalar) each line of the file after the field, matched in turn to the
    part of the formula text it holds (folding joins them with spaces)."""
    line = source.line(path)
    out = [(0, line)]
    if source.raw is None:
        return out
    try:
        lines = source.raw.decode().splitlines()
    except UnicodeDecodeError:
        return out
    if not 1 <= line <= len(lines):
        return out
    first = lines[line - 1]
    indent = len(first) - len(first.lstrip())
    _key, sep, rest = first.partition(":")
    candidates = [(line, rest if sep else first)]
    for n in range(line, min(len(lines), line + 200)):
        row = lines[n]
        if row.strip() and len(row) - len(row.lstrip()) <= indent:
            break
        candidates.append((n + 1, row))
    position = 0
    for number, row in candidates:
        piece = row.strip().strip("'\">|-+").strip()
        if not piece:
            continue
        at = formula.find(piece, position)
        if at < 0:
            continue
        out.append((at, number))
        position = at + len(piece)
    return out
