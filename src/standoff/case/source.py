"""Where a case came from: its file, its bytes and the line of every value, so that later stages
can report a problem at the line that caused it without reaching back into the file."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Problem
from .yamlread import Path as KeyPath
from .yamlread import dotted, line_of


@dataclass(frozen=True)
class SourceMap:
    """The file a case was read from, its bytes, and the line of each key path.

    >>> source = SourceMap("case.yaml", {("actors",): 4, ("actors", 0, "id"): 5})
    >>> str(source.problem(("actors", 0, "id"), "duplicate id 'us'"))
    "case.yaml:5: actors[0].id: duplicate id 'us'"
    >>> source.line(("actors", 3, "capability"))  # the longest known prefix
    4
    """

    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)
    raw: bytes | None = None  # the file's bytes (for a reproducibility hash)

    def line(self, path: KeyPath) -> int:
        return line_of(self.lines, path)

    def problem(self, path: KeyPath, message: str) -> Problem:
        return Problem(self.file, self.line(path), dotted(path), message)
