"""Problems found in a user's input, reported as `FILE:LINE: field: problem`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class CaseError(Exception):
    """One or more problems in a case file. The CLI prints each and exits with status 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def fail(file: str, line: int, field: str, message: str) -> CaseError:
    return CaseError([Problem(file, line, field, message)])
