"""Reading the data a game is fitted on (CSV); fitted games are saved as JSON by `saved.py`.

A data file is a CSV with a header row. A cell that is empty or `NA` is missing; a row missing a
value the formula reads is left out of the fit, as R's default `na.omit` does, and the count of
rows left out is reported. A column whose every present value is a number is numeric; any other
column holds categories (text), coded as R codes a factor: its levels sorted, the first the
baseline.

Every problem is a `CaseError` whose lines read `FILE:LINE: field: problem`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CaseError, Problem

MISSING = ("", "NA")
MAX_ROWS = 2_000_000
MAX_COLUMNS = 10_000


@dataclass
class Table:
    """A CSV file's columns by name, as text, with the file line of each row."""

    path: str
    header: list[str]
    cells: dict[str, list[str]]
    lines: list[int]
    _numbers: dict[str, np.ndarray | None] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)

    def numeric(self, name: str) -> np.ndarray | None:
        """The column as floats (NaN where missing), or None when it holds text."""
        if name not in self._numbers:
            values = np.full(len(self), np.nan)
            for k, text in enumerate(self.cells[name]):
                text = text.strip()
                if text in MISSING:
                    continue
                try:
                    x = float(text)
                except ValueError:
                    self._numbers[name] = None
                    break
                if not math.isfinite(x):
                    self._numbers[name] = None
                    break
                values[k] = x
            else:
                self._numbers[name] = values
        return self._numbers[name]

    def missing(self, name: str) -> np.ndarray:
        """Where the column is missing."""
        return np.array([t.strip() in MISSING for t in self.cells[name]], dtype=bool)

    def text(self, name: str) -> list[str]:
        return [t.strip() for t in self.cells[name]]


def read_table(path: str | Path) -> Table:
    """Read a CSV data file. Raises CaseError naming the file, line and column at fault."""
    name = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise CaseError([Problem(name, 1, "(header)", "empty file")]) from None
            header = [h.strip() for h in header]
            if len(header) > MAX_COLUMNS:
                raise CaseError(
                    [Problem(name, 1, "(header)", f"more than {MAX_COLUMNS:,} columns")]
                )
            seen: dict[str, int] = {}
            for k, h in enumerate(header):
                if not h:
                    raise CaseError([Problem(name, 1, "(header)", f"column {k + 1} has no name")])
                if h in seen:
                    raise CaseError([Problem(name, 1, "(header)", f"column {h!r} appears twice")])
                seen[h] = k
            cells: dict[str, list[str]] = {h: [] for h in header}
            lines: list[int] = []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise CaseError(
                        [
                            Problem(
                                name,
                                line,
                                "(row)",
                                f"{len(row)} fields; the header has {len(header)}",
                            )
                        ]
                    )
                if len(lines) >= MAX_ROWS:
                    raise CaseError([Problem(name, line, "(row)", f"more than {MAX_ROWS:,} rows")])
                for h, c in zip(header, row, strict=True):
                    cells[h].append(c)
                lines.append(line)
    except FileNotFoundError:
        raise CaseError([Problem(name, 1, "(file)", "no such file")]) from None
    except IsADirectoryError:
        raise CaseError([Problem(name, 1, "(file)", "is a folder, not a CSV file")]) from None
    except UnicodeDecodeError as e:
        raise CaseError([Problem(name, 1, "(file)", f"not UTF-8 text: {e.reason}")]) from None
    except csv.Error as e:
        raise CaseError([Problem(name, 1, "(file)", f"cannot read as CSV: {e}")]) from None
    except OSError as e:
        raise CaseError([Problem(name, 1, "(file)", f"cannot read: {e.strerror or e}")]) from None
    if not lines:
        raise CaseError([Problem(name, 1, "(file)", "no data rows")])
    return Table(name, header, cells, lines)
