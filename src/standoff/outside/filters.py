"""Reference classes: plain-word filters over the ICB crises, each mapped to ICB codes as the
codebook defines them (ICB codebook, version 12 text; data version 14).

Every filter is written the same way on the command line (`--great-power`, `--gravity grave-damage`)
and in a case's `reference_class:` block (`great_power: true`, `gravity: [grave damage]`). Names and
values are case-insensitive; spaces, hyphens and underscores are the same.

    nuclear: true|false       a crisis actor had nuclear weapons (ICB2 NUCLEAR 3 "possesses" or
                              4 "second-strike capability"); false: no crisis actor had them
    protracted: true|false    the crisis was part of a protracted conflict (ICB1 PROTRAC 2 or 3,
                              3 being a long-war protracted conflict); false: PROTRAC 1
    great_power: true|false   a great power or superpower was a crisis actor (ICB2 POWSTA 3 or 4)
    superpower: true|false    a superpower was a crisis actor (ICB2 POWSTA 4; 1945-1989 USA, USSR)
    gravity: [...]            the gravest threat any actor faced (ICB1 GRAVCR): economic (0),
                              limited military (1), political (2), territorial (3), influence (4),
                              grave damage (5), existence (6), other (7)
    region: [...]             where the crisis took place (ICB1 GEOG), a region or a group of them
    violence: [...]           how violent the crisis became (ICB1 VIOL): none (1), minor clashes
                              (2), serious clashes (3), full-scale war (4). An outcome, not a
                              condition known at the start: filter on it only to ask "of the
                              violent ones, ..."
    mediated: true|false      a third party mediated (ICB1 MEDIATE 4; 1, 2 and 3 all mean no
                              mediation took place: the mediation variables are "not applicable")
    actors: [PRK, USA]        any of these states (ICB three-letter codes) was a crisis actor
    triggered_after: DATE     triggered on or after DATE (a bare year means 1 January of it)
    triggered_before: DATE    triggered before DATE
    min_crises: N             the fewest crises the class may hold (default 10); a smaller class is
                              an error, never silently widened

A crisis with a missing code for a filtered variable is left out of the class.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .icb import Crisis

MIN_CRISES = 10

#: ICB1 GRAVCR: the gravest threat to any crisis actor.
GRAVITY = {
    "economic": 0,
    "limited-military": 1,
    "political": 2,
    "territorial": 3,
    "influence": 4,
    "grave-damage": 5,
    "existence": 6,
    "other": 7,
}
#: ICB1 VIOL: the extent of violence in the crisis.
VIOLENCE = {"none": 1, "minor-clashes": 2, "serious-clashes": 3, "full-scale-war": 4}
VIOLENCE_ALIASES = {"no-violence": "none", "minor": "minor-clashes", "serious": "serious-clashes",
                    "war": "full-scale-war"}  # fmt: skip
#: ICB1 GEOG: the region where the crisis took place.
REGIONS = {
    "central-asia": (9,),
    "west-asia": (10,),
    "east-asia": (11,),
    "south-east-asia": (12,),
    "south-asia": (13,),
    "middle-east": (15,),
    "west-africa": (20,),
    "north-africa": (21,),
    "east-africa": (22,),
    "southern-africa": (23,),
    "central-africa": (24,),
    "euro-asia": (30,),
    "east-europe": (31,),
    "central-europe": (32,),
    "west-europe": (33,),
    "north-europe": (34,),
    "south-europe": (35,),
    "north-america": (41,),
    "central-america": (42,),
    "south-america": (43,),
    "oceania": (51,),
    # groups
    "asia": (9, 10, 11, 12, 13),
    "africa": (20, 21, 22, 23, 24),
    "europe": (30, 31, 32, 33, 34, 35),
    "americas": (41, 42, 43),
}

BOOLEAN = ("nuclear", "protracted", "great_power", "superpower", "mediated")
LISTS = ("gravity", "region", "violence", "actors")
DATES = ("triggered_after", "triggered_before")
KEYS = (*BOOLEAN, *LISTS, *DATES, "min_crises")


class FilterError(ValueError):
    """An unknown filter or value; `key` names the filter (None: the filter name itself)."""

    def __init__(self, key: str | None, message: str):
        self.key = key
        super().__init__(message)


def either(yes_flag: str, yes: bool, no_flag: str, no: bool) -> bool | None:
    """A yes-or-no filter given on the command line as a pair of flags (`--nuclear`,
    `--not-nuclear`): True, False, or None for neither. Both at once contradict each other, a
    FilterError that names them (never the last one silently winning)."""
    if yes and no:
        raise FilterError(
            None, f"{yes_flag} and {no_flag} contradict each other: give one of them, or neither"
        )
    return True if yes else False if no else None


def norm(text: object) -> str:
    return re.sub(r"[\s_\-]+", "-", str(text).strip().lower())


def key_name(text: object) -> str:
    return norm(text).replace("-", "_")


@dataclass(frozen=True)
class ReferenceClass:
    """A class of crises: the filters as written (normalized) and the date the class is drawn as
    of (only crises triggered before it belong; None: no such limit)."""

    nuclear: bool | None = None
    protracted: bool | None = None
    great_power: bool | None = None
    superpower: bool | None = None
    mediated: bool | None = None
    gravity: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    violence: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    triggered_after: dt.date | None = None
    triggered_before: dt.date | None = None
    min_crises: int = MIN_CRISES
    as_of: dt.date | None = field(default=None)

    def describe(self) -> str:
        """The filters in words, e.g. `nuclear, protracted, region east-asia, triggered before
        2018-08-15`."""
        parts: list[str] = []
        for name in BOOLEAN:
            value = getattr(self, name)
            if value is not None:
                parts.append(name.replace("_", " ") if value else f"not {name.replace('_', ' ')}")
        for name in LISTS:
            values = getattr(self, name)
            if values:
                parts.append(f"{name.replace('_', ' ')} {' or '.join(values)}")
        if self.triggered_after:
            parts.append(f"triggered on or after {self.triggered_after}")
        before = self.cutoff()
        if before:
            parts.append(f"triggered before {before}")
        return ", ".join(parts) or "all crises"

    def cutoff(self) -> dt.date | None:
        """The earliest of `triggered_before` and `as_of`: the class never sees a crisis
        triggered on or after it."""
        dates = [d for d in (self.triggered_before, self.as_of) if d is not None]
        return min(dates) if dates else None

    def filters(self) -> dict[str, Any]:
        """The filters as plain data (for JSON), without defaults."""
        out: dict[str, Any] = {}
        for name in (*BOOLEAN, *LISTS, *DATES):
            value = getattr(self, name)
            if value is None or value == ():
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
            if isinstance(value, dt.date):
                out[name] = value.isoformat()
        if self.as_of is not None:
            out["as_of"] = self.as_of.isoformat()
        return out

    def matches(self, crisis: Crisis) -> bool:
        """Whether a crisis belongs to the class (the as-of rule included)."""
        cutoff = self.cutoff()
        if cutoff is not None and crisis.trigger >= cutoff:
            return False
        if self.triggered_after is not None and crisis.trigger < self.triggered_after:
            return False
        tests = (
            (self.nuclear, _nuclear(crisis)),
            (self.protracted, _coded(crisis.code("protrac"), {2, 3}, {1})),
            (self.great_power, _power(crisis, 3)),
            (self.superpower, _power(crisis, 4)),
            (self.mediated, _coded(crisis.code("mediate"), {4}, {1, 2, 3})),
        )
        for wanted, has in tests:
            if wanted is not None and (has is None or has != wanted):
                return False
        if self.gravity and crisis.code("gravcr") not in {GRAVITY[g] for g in self.gravity}:
            return False
        if self.violence and crisis.code("viol") not in {VIOLENCE[v] for v in self.violence}:
            return False
        if self.region:
            codes = {c for r in self.region for c in REGIONS[r]}
            if crisis.code("geog") not in codes:
                return False
        return not (self.actors and not set(self.actors) & set(crisis.actor_codes()))


def _coded(code: int | None, yes: set[int], no: set[int]) -> bool | None:
    if code in yes:
        return True
    if code in no:
        return False
    return None


def _nuclear(crisis: Crisis) -> bool | None:
    codes = [a.codes.get("nuclear") for a in crisis.actors]
    if any(c is not None and c >= 3 for c in codes):
        return True
    if codes and all(c is not None for c in codes):
        return False
    return None


def _power(crisis: Crisis, least: int) -> bool | None:
    codes = [a.codes.get("powsta") for a in crisis.actors]
    if any(c is not None and c >= least for c in codes):
        return True
    if codes and all(c is not None for c in codes):
        return False
    return None


def known_values(name: str) -> list[str]:
    if name == "gravity":
        return list(GRAVITY)
    if name == "region":
        return list(REGIONS)
    if name == "violence":
        return list(VIOLENCE)
    return []


def _choice(name: str, value: object) -> str:
    text = norm(value)
    if name == "violence":
        text = VIOLENCE_ALIASES.get(text, text)
    known = known_values(name)
    if text not in known:
        raise FilterError(name, f"unknown {name} {value!r}; known: {', '.join(known)}")
    return text


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = norm(value)
    if text in ("true", "yes"):
        return True
    if text in ("false", "no"):
        return False
    raise FilterError(name, f"{name} must be true or false, not {value!r}")


def parse_date(name: str, value: object) -> dt.date:
    """A date (YYYY-MM-DD) or a bare year (its 1 January)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return dt.date(int(text), 1, 1)
        return dt.date.fromisoformat(text)
    except ValueError:
        message = f"{name} must be a date (YYYY-MM-DD) or a year, not {value!r}"
        raise FilterError(name, message) from None


def _list(value: object) -> list[object]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [v for v in (x.strip() for x in value.split(",")) if v]
    return [value]


def build(filters: Mapping[str, Any], as_of: dt.date | None = None) -> ReferenceClass:
    """A reference class from filters written as plain words. Raises FilterError on the first
    unknown filter name or value (listing the known ones)."""
    values: dict[str, Any] = {}
    for raw_key, value in filters.items():
        key = key_name(raw_key)
        if key not in KEYS:
            raise FilterError(None, f"unknown filter {raw_key!r}; known: {', '.join(KEYS)}")
        if key in BOOLEAN:
            values[key] = _bool(key, value)
        elif key in DATES:
            values[key] = parse_date(key, value)
        elif key == "min_crises":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FilterError(key, f"min_crises must be a whole number >= 1, not {value!r}")
            values[key] = value
        elif key == "actors":
            codes = [str(v).strip().upper() for v in _list(value)]
            bad = [c for c in codes if not re.fullmatch(r"[A-Z]{3}", c)]
            if bad or not codes:
                raise FilterError(
                    key, f"actors are ICB three-letter state codes (e.g. USA, PRK), not {bad}"
                )
            values[key] = tuple(dict.fromkeys(codes))
        else:
            items = _list(value)
            if not items:
                raise FilterError(key, f"{key} needs at least one value; known: "
                                  f"{', '.join(known_values(key))}")  # fmt: skip
            values[key] = tuple(dict.fromkeys(_choice(key, v) for v in items))
    return ReferenceClass(**values, as_of=as_of)


def select(crises: tuple[Crisis, ...], reference: ReferenceClass) -> list[Crisis]:
    """The crises of the class, in ICB order."""
    return [c for c in crises if reference.matches(c)]
