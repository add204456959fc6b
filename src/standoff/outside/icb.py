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
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
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


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


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


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:  # the first cell carries a BOM
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: cannot read: {e}") from None


def read_crises(data: str | Path | None = None) -> tuple[Crisis, ...]:
    """Every crisis with a trigger date, in ICB's order (by crisis number). The one ICB row
    without a trigger year (an uncoded placeholder) is left out."""
    return _read(locate(data).resolve())


@lru_cache(maxsize=4)
def _read(folder: Path) -> tuple[Crisis, ...]:
    system = _rows(folder / SYSTEM_FILE)
    actors: dict[int, list[Actor]] = {}
    for row in _rows(folder / ACTOR_FILE):
        number = _int(row.get("crisno"))
        if number is None:
            continue
        codes = {c: _int(row.get(c)) for c in ACTOR_COLUMNS}
        actors.setdefault(number, []).append(Actor((row.get("actor") or "").strip(), codes))
    crises = []
    for row in system:
        number = _int(row.get("crisno"))
        trigger = _date(_int(row.get("yrtrig")), _int(row.get("motrig")), _int(row.get("datrig")))
        if number is None or trigger is None:
            continue
        end = _date(_int(row.get("yrterm")), _int(row.get("moterm")), _int(row.get("daterm")))
        codes = {c: _int(row.get(c)) for c in SYSTEM_COLUMNS}
        crises.append(
            Crisis(
                number=number,
                name=(row.get("crisname") or "").strip(),
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
