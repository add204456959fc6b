"""Shared helpers for the CSV importers: rows with their line numbers, numbers with clear errors."""

from __future__ import annotations

import csv
import io
import math

from ..errors import CaseError, Problem


def rows_with_lines(text: str, file: str = "(csv)") -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with their 1-based line numbers, fields stripped, trailing empty
    fields dropped."""
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text))
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as err:  # e.g. a field over the csv module's size limit
            raise CaseError([Problem(file, line, "(csv)", f"cannot read CSV: {err}")]) from None
        fields = [f.strip() for f in row]
        while fields and fields[-1] == "":
            fields.pop()
        if fields:
            out.append((line, fields))
        line = reader.line_num + 1
    return out


def read_number(
    text: str,
    file: str,
    line: int,
    field: str,
    problems: list[Problem],
    low: float | None = None,
    high: float | None = None,
) -> float:
    """A finite number within [low, high], or a problem recorded (and nan returned)."""
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(file, line, field, f"{text!r} is not a number"))
        return math.nan
    if not math.isfinite(value):
        problems.append(Problem(file, line, field, f"{text!r} is not a finite number"))
        return math.nan
    if low is not None and value < low:
        what = "negative" if low == 0 else f"below {low:g}"
        problems.append(Problem(file, line, field, f"{value:g} is {what}"))
    if high is not None and value > high:
        problems.append(Problem(file, line, field, f"{value:g} is above {high:g}"))
    return value


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "_" for c in text).strip("_")
    while "__" in out:
        out = out.replace("__", "_")
    return out


def actor_row(
    fields: list[str],
    columns: int,
    where: tuple[str, int],
    seen: dict[str, int],
    problems: list[Problem],
) -> str | None:
    """The actor named in the first field of a table's row, recorded in `seen` (name -> line);
    None, with the problem added, for a row with the wrong number of fields or an empty name. A
    name seen before is a problem too, but the row is still read. `where`: (file, line)."""
    file, line = where
    if len(fields) != columns:
        what = "short" if len(fields) < columns else "long"
        problems.append(
            Problem(file, line, "row", f"{what} row: {len(fields)} fields, expected {columns}")
        )
        return None
    name = fields[0]
    if not name:
        problems.append(Problem(file, line, "Actor", "empty actor name"))
        return None
    if name in seen:
        message = f"duplicate actor {name!r} (first on line {seen[name]})"
        problems.append(Problem(file, line, "Actor", message))
    seen[name] = line
    return name
