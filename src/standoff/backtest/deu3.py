"""The DEU III dataset of EU legislative decisions with known outcomes.

Arregui, J. & Perarnaud, C. (2021). A new dataset on legislative decision-making in the European
Union: the DEU III dataset. doi:10.34810/data53, CC BY 4.0.

One row per controversial issue: positions `p<actor>` and saliences `s<actor>` on a 0-100 scale
for the Commission (`com`), the Parliament (`ep`) and up to 28 member states, the reference point
`rp` (status quo), the outcome `out`, and the Council voting rule `counvte`. The file's second line
holds each actor's GDP in the position columns (one possible capability measure). A blank position
means the actor took no position: it is absent from that issue.

Quirks handled here (see /work/shared/data/deu3/README.md and `docs/backtests.md`):

- `finact` (and some `intro`) dates were mangled by a spreadsheet that read `DD-MM-YY` as
  `YY-MM-DD` and wrote it back as `YYYY-MM-DD`: `1930-05-01` is 30 May 2001. The four-digit "year"
  is the day (19xx for days 30-31, 20xx for days up to 29: the spreadsheet's two-digit-year pivot),
  the last field the two-digit year. Unmangled dates are `DD-MM-YY` or `DD-MM-YYYY`; `999` and
  blank mean no date.
- `counvte` is `QMV`, `Unan` or `QMV(10)` (kept as written; its rule is QMV).
- A salience may be blank where a position is given (the `missing_salience` option decides).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..case.yamlread import read_text_file
from ..errors import CaseError, Problem

#: The institutions, then the member states in the files' column order.
INSTITUTIONS: tuple[str, ...] = ("com", "ep")
STATES: tuple[str, ...] = (
    "at", "be", "bu", "cr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "el", "hu", "ie", "it",
    "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "si", "sk", "es", "se", "uk",
)  # fmt: skip
ACTORS: tuple[str, ...] = INSTITUTIONS + STATES
META: tuple[str, ...] = (
    "prnrnmc", "isnrnmc", "prnr", "prname", "isnr", "type", "council", "proc", "counvte",
    "proccde", "issues", "intro", "finact",
)  # fmt: skip
REQUIRED: tuple[str, ...] = (
    "isnr", "prnr", "proc", "counvte", "finact", "rp", "out",
    *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS),
)  # fmt: skip
MISSING_DATE = ("", "999", ".")


@dataclass(frozen=True)
class Issue:
    """One DEU III issue. Arrays are over `ACTORS`; nan where the file is blank."""

    line: int
    isnr: str
    proposal: str
    procedure: str  # COD (co-decision) or CNS (consultation)
    voting: str  # "QMV" or "Unan" (the rule; `voting_label` keeps the file's text)
    voting_label: str
    decided: dt.date | None  # `finact`, unmangled
    introduced: dt.date | None  # `intro`, unmangled
    position: NDArray[np.float64]
    salience: NDArray[np.float64]
    reference: float  # nan where blank
    outcome: float  # nan where blank

    @property
    def present(self) -> NDArray[np.bool_]:
        """Actors that took a position on this issue."""
        return ~np.isnan(self.position)


@dataclass(frozen=True)
class Dataset:
    file: str
    issues: list[Issue]
    gdp: NDArray[np.float64]  # (len(ACTORS),) from the file's second line
    problems: list[Problem] = field(default_factory=list)

    @property
    def scored(self) -> list[Issue]:
        """Issues whose outcome is known."""
        return [i for i in self.issues if not math.isnan(i.outcome)]


def _year(two: int) -> int:
    return 1900 + two if two >= 50 else 2000 + two


def parse_date(text: str) -> dt.date | None:
    """A DEU III date, undoing the spreadsheet mangling; None for a missing date.

    >>> parse_date("1930-05-01"), parse_date("2019-01-01"), parse_date("25-05-99")
    (datetime.date(2001, 5, 30), datetime.date(2001, 1, 19), datetime.date(1999, 5, 25))
    """
    text = text.strip()
    if text in MISSING_DATE:
        return None
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a date (DD-MM-YY, DD-MM-YYYY or mangled YYYY-MM-DD)")
    a, b, c = parts
    if len(a) == 4:  # mangled: "YYYY-MM-DD" is really day YYYY % 100, month MM, year DD
        day, month, year = int(a) % 100, int(b), _year(int(c))
    elif len(c) == 4:
        day, month, year = int(a), int(b), int(c)
    else:
        day, month, year = int(a), int(b), _year(int(c))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date") from None


def _number(text: str, file: str, line: int, column: str, problems: list[Problem]) -> float:
    text = text.strip()
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(file, line, column, f"{text!r} is not a number"))
        return math.nan
    if not math.isfinite(value) or value < 0 or value > 100:
        problems.append(Problem(file, line, column, f"{text!r} is outside 0-100"))
        return math.nan
    return value


def read_deu3(path: str | Path) -> Dataset:
    """Read a DEU III file. Raises CaseError with `FILE:LINE: column: problem` for bad input."""
    file = str(path)
    text = read_text_file(Path(path))
    return parse_deu3(text, file)


def parse_deu3(text: str, file: str = "(deu3)") -> Dataset:
    """Parse the text of a DEU III file (tab-separated, quoted, header then a GDP line)."""
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as e:
        raise CaseError([Problem(file, reader.line_num, "(tsv)", f"cannot read: {e}")]) from None
    rows = [(n, r) for n, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise CaseError([Problem(file, 1, "(header)", "empty file")])
    header = [h.strip() for h in rows[0][1]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CaseError(
            [Problem(file, rows[0][0], "(header)", f"missing columns: {', '.join(missing)}")]
        )
    col = {name: i for i, name in enumerate(header)}
    problems: list[Problem] = []
    body = rows[1:]
    gdp = np.full(len(ACTORS), np.nan)
    first = body[0][1] if body else []
    if body and (len(first) <= col["isnr"] or not first[col["isnr"]].strip()):
        line, row = body[0]
        for k, actor in enumerate(ACTORS):
            value = row[col[f"p{actor}"]] if col[f"p{actor}"] < len(row) else ""
            if value.strip():
                try:
                    gdp[k] = float(value)
                except ValueError:
                    problems.append(Problem(file, line, f"p{actor}", f"GDP {value!r} not a number"))
        body = body[1:]
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for line, row in body:
        if len(row) != len(header):
            problems.append(
                Problem(file, line, "(row)", f"{len(row)} fields; the header has {len(header)}")
            )
            continue

        def cell(name: str, row: list[str] = row) -> str:
            return row[col[name]].strip()

        isnr = cell("isnr")
        if not isnr:
            problems.append(Problem(file, line, "isnr", "blank issue number"))
            continue
        if isnr in seen:
            problems.append(Problem(file, line, "isnr", f"{isnr!r} repeats line {seen[isnr]}"))
        seen[isnr] = line
        label = cell("counvte")
        if label.upper().startswith("QMV"):
            voting = "QMV"
        elif label.lower().startswith("unan"):
            voting = "Unan"
        else:
            problems.append(Problem(file, line, "counvte", f"{label!r}: expected QMV or Unan"))
            voting = label
        try:
            decided = parse_date(cell("finact"))
        except ValueError as e:
            problems.append(Problem(file, line, "finact", str(e)))
            decided = None
        introduced: dt.date | None = None
        if "intro" in col:
            try:
                introduced = parse_date(cell("intro"))
            except ValueError as e:
                problems.append(Problem(file, line, "intro", str(e)))
        position = np.array([_number(cell(f"p{a}"), file, line, f"p{a}", problems) for a in ACTORS])
        salience = np.array([_number(cell(f"s{a}"), file, line, f"s{a}", problems) for a in ACTORS])
        issues.append(
            Issue(
                line=line,
                isnr=isnr,
                proposal=cell("prnr"),
                procedure=cell("proc"),
                voting=voting,
                voting_label=label,
                decided=decided,
                introduced=introduced,
                position=position,
                salience=salience,
                reference=_number(cell("rp"), file, line, "rp", problems),
                outcome=_number(cell("out"), file, line, "out", problems),
            )
        )
    if problems:
        raise CaseError(problems)
    if not issues:
        raise CaseError([Problem(file, rows[0][0], "(rows)", "no issues in the file")])
    return Dataset(file=file, issues=issues, gdp=gdp)
