"""Read the International Crisis Behavior data (ICB version 14): one `Crisis` per system-level row
of `icb1v14.csv`, with its crisis actors from `icb2v14.csv`.

Only the columns the outside view uses are kept, as integers (an empty cell is None). The
codes mean what the ICB codebook (version 12 text, the latest published with the variable
definitions; the data are version 14) says they mean; `filters.py` and `rates.py` name them.

Dates. ICB codes trigger and termination as year, month and day; a few days are missing and a few
are impossible (30 February). A missing or impossible day is read as the last day of its month,
so a crisis whose trigger day is unknown counts as triggered as late as it could have been: the
as-of rule (only crises triggered before a case's `as_of`) can then never let in a crisis that
may have started on or after that date. Durations are ICB's own count of days from the trigger to
the end of the crisis (`brexit`), not recomputed from the dates.

Where the data live: `--data DIR`, else the environment variable STANDOFF_ICB, else
`../shared/data/icb` from the current directory, else `../shared/data/icb` beside the repository.

Checked as read, so that a damaged copy is never counted as ICB. Each file must be the release
this module knows (RELEASE: its rows and columns; a truncated or other file is refused with the
counts), every row must have the header's cells, and every number read must be a whole number
in its column's range (RANGES: a code, a year, a month, a count of days); a problem is a
DataError `FILE:LINE: column: problem`.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SYSTEM_FILE = "icb1v14.csv"
ACTOR_FILE = "icb2v14.csv"
ENV = "STANDOFF_ICB"

#: System-level columns kept (ICB1).
SYSTEM_COLUMNS = (
    "viol", "gravcr", "forout", "subout", "outesr", "protrac", "pcid", "mediate", "geog",
    "brexit", "period",
)  # fmt: skip
#: Actor-level columns kept (ICB2).
ACTOR_COLUMNS = ("outcom", "outfor", "nuclear", "powsta", "trgterra")
#: The dates' columns (ICB1).
DATE_COLUMNS = ("yrtrig", "motrig", "datrig", "yrterm", "moterm", "daterm")

#: What identifies ICB version 14: each file's rows after the header (ICB1: 486 crises and one
#: uncoded row; ICB2: 1,077 crisis actors and one uncoded row) and its columns.
RELEASE = {SYSTEM_FILE: (487, 95), ACTOR_FILE: (1078, 95)}
#: The whole numbers a column may hold: its codes (missing-value codes such as 9 or 99
#: included), days of the month (ICB codes some unknown days as 88), calendar years, and
#: counts of days (a century at most). Every column read is checked against its range.
CODE, DAYS = (0, 99), (0, 36525)
RANGES: dict[str, tuple[int, int]] = {
    "crisno": (1, 9999), "yrtrig": (1800, 2100), "yrterm": (1800, 2100), "motrig": (1, 12),
    "moterm": (1, 12), "datrig": (1, 99), "daterm": (1, 99), "brexit": DAYS, "trgterra": DAYS,
}  # fmt: skip


class DataError(Exception):
    """The ICB files are missing or unreadable. The CLI prints the message and exits with 2."""


@dataclass(frozen=True)
class Actor:
    """One crisis actor (an ICB2 row)."""

    code: str  # ICB's three-letter state code, e.g. USA, PRK
    codes: dict[str, int | None]


@dataclass(frozen=True)
class Crisis:
    """One international crisis (an ICB1 row) and its crisis actors."""

    number: int  # crisno
    name: str
    trigger: dt.date  # the trigger date; an unknown day is the month's last day
    trigger_exact: bool  # False when the day was missing or impossible
    end: dt.date | None  # the termination date (an unknown day: the month's last day)
    days: int | None  # ICB's duration in days, trigger to termination (brexit)
    codes: dict[str, int | None]
    actors: tuple[Actor, ...]

    def code(self, column: str) -> int | None:
        return self.codes.get(column)

    def actor_codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.actors)


Row = tuple[str, int, dict[str, str]]  # (the file, the row's line, the row's cells by column)


def _int(row: Row, column: str) -> int | None:
    """A cell as a whole number (None when empty); DataError `FILE:LINE: column: problem` for
    text that is not one, a number that is not finite or not whole (1e309, nan, 2.5), or one
    outside the column's range (RANGES, else CODE)."""
    file, line, cells = row
    text = (cells.get(column) or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise DataError(f"{file}:{line}: {column}: {text!r} is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise DataError(f"{file}:{line}: {column}: {text!r} is not a whole number")
    low, high = RANGES.get(column, CODE)
    if not low <= number <= high:
        raise DataError(f"{file}:{line}: {column}: {text} is outside {low}..{high}")
    return int(number)


def _date(year: int | None, month: int | None, day: int | None) -> tuple[dt.date, bool] | None:
    """A date from ICB's year, month, day; an unknown or impossible day is the month's last."""
    if year is None:
        return None
    month = month if month is not None and 1 <= month <= 12 else 12
    last = calendar.monthrange(year, month)[1]
    if day is not None and 1 <= day <= last:
        return dt.date(year, month, day), True
    return dt.date(year, month, last), False


def locate(data: str | Path | None = None) -> Path:
    """The folder holding the ICB files, or DataError saying where it looked and how to point at
    it."""
    tried: list[Path] = []
    if data is not None:
        candidates = [Path(data)]
    elif os.environ.get(ENV):
        candidates = [Path(os.environ[ENV])]
    else:
        repo = Path(__file__).resolve().parents[3]
        candidates = [Path.cwd() / ".." / "shared" / "data" / "icb"]
        candidates.append(repo.parent / "shared" / "data" / "icb")
    for folder in candidates:
        tried.append(folder)
        if (folder / SYSTEM_FILE).is_file() and (folder / ACTOR_FILE).is_file():
            return folder
    where = ", ".join(str(p) for p in dict.fromkeys(tried))
    raise DataError(
        f"the ICB data ({SYSTEM_FILE} and {ACTOR_FILE}) were not found in {where}; "
        f"point at the folder with --data DIR or the environment variable {ENV}"
    )


def _rows(path: Path, columns: tuple[str, ...]) -> list[Row]:
    """The rows of an ICB file, checked: the release's count of rows and columns (RELEASE), the
    `columns` read present in the header, and as many cells in every row as in the header."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:  # the first cell carries a BOM
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            rows = []
            for cells in reader:
                if len(cells) != len(header):
                    raise DataError(
                        f"{path}:{reader.line_num}: (row): {len(cells)} cells where the header "
                        f"has {len(header)}; a truncated or damaged file"
                    )
                rows.append((str(path), reader.line_num, dict(zip(header, cells, strict=True))))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: cannot read: {e}") from None
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(f"{path}:1: (header): no column {', '.join(missing)}; not an ICB file")
    want_rows, want_columns = RELEASE[path.name]
    if (len(rows), len(header)) != (want_rows, want_columns):
        raise DataError(
            f"{path}: {len(rows)} rows of {len(header)} columns where ICB version 14 has "
            f"{want_rows} of {want_columns}: a truncated or different file; use the release's "
            "file unchanged"
        )
    return rows


def read_crises(data: str | Path | None = None) -> tuple[Crisis, ...]:
    """Every crisis with a trigger date, in ICB's order (by crisis number). The one ICB row
    without a trigger year (an uncoded placeholder) is left out."""
    return _read(locate(data).resolve())


@lru_cache(maxsize=4)
def _read(folder: Path) -> tuple[Crisis, ...]:
    system = _rows(folder / SYSTEM_FILE, ("crisno", "crisname", *DATE_COLUMNS, *SYSTEM_COLUMNS))
    actors: dict[int, list[Actor]] = {}
    for row in _rows(folder / ACTOR_FILE, ("crisno", "actor", *ACTOR_COLUMNS)):
        number = _int(row, "crisno")
        if number is None:
            continue
        codes = {c: _int(row, c) for c in ACTOR_COLUMNS}
        actors.setdefault(number, []).append(Actor(row[2]["actor"].strip(), codes))
    crises = []
    for row in system:
        number = _int(row, "crisno")
        trigger = _date(_int(row, "yrtrig"), _int(row, "motrig"), _int(row, "datrig"))
        if number is None or trigger is None:
            continue
        end = _date(_int(row, "yrterm"), _int(row, "moterm"), _int(row, "daterm"))
        codes = {c: _int(row, c) for c in SYSTEM_COLUMNS}
        crises.append(
            Crisis(
                number=number,
                name=row[2]["crisname"].strip(),
                trigger=trigger[0],
                trigger_exact=trigger[1],
                end=end[0] if end else None,
                days=codes["brexit"],
                codes=codes,
                actors=tuple(actors.get(number, ())),
            )
        )
    if not crises:
        raise DataError(f"{folder / SYSTEM_FILE}: no crises read")
    return tuple(crises)


def files(data: str | Path | None = None) -> list[str]:
    """The ICB tables read from `data` (None: where `locate` looks); none
    when they are not found (reading them says so)."""
    try:
        folder = locate(data)
    except DataError:
        return []
    return [str(folder / SYSTEM_FILE), str(folder / ACTOR_FILE)]
