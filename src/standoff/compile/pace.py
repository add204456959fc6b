"""The crisis clock: how the bargaining engine's rounds map to calendar time.

The engine's model of bargaining has no time in it: the expected utility model (Bueno de Mesquita
1994, 2002; Scholz et al. 2011) iterates offers until positions come to rest, and its "rounds" are
steps of an iteration, not weeks or months; KTAB's spatial model of politics likewise counts
turns until the positions stop moving (Wise et al. 2015). A crisis case lays rounds on a calendar,
so it must say how far positions move in a calendar step. Four readings are offered:

- `pace: engine`: each calendar step takes one engine round whole: the actors adopt the engine's
  new positions at once. The engine comes to rest in a few rounds, so positions meet within a few
  steps, however long a step is.
- `pace: 6 months` (partial adjustment, a half-life): in each step an actor moves a share of the
  way from its position to the engine's new one, the share set by the step's length: after a
  half-life it has covered half the way. With a step of `dt` days and a half-life of `h` days,
  the share is `1 - 2^(-dt / h)`, so that two half-steps cover what one whole step does, and a
  case's dynamics do not depend on whether it is written in weeks or months. This is the partial
  adjustment model of econometrics (Nerlove 1958) applied to positions: bargaining moves as far as
  the engine says in the long run, at a speed the calendar sets.
- `pace: every 3 months` (a round takes a fixed time): the engine's round is taken whole, but only
  in the steps where a period of that length from the as-of date ends (at as_of + P, + 2P, ...:
  whole calendar months for months, quarters and years); in the other steps positions stay where
  they are. This reads the engine's rounds as negotiating rounds of a set length, as Bueno de
  Mesquita's applied work lays its rounds on the calendar (Bueno de Mesquita 2002, "Predicting
  Politics"; 2009, "The Predictioneer's Game"). A step holds at most one round: a period shorter
  than the step reads as `engine`.
- `pace: inertia 0.1` (audience costs): each step takes the engine's round, but an actor leaves
  its position on an issue only when the engine moves it by more than 0.1 of the issue's scale
  times the actor's salience on it; a smaller move is not worth the cost of being seen to back
  down, and the position holds. A leader who has stated a position in public pays a price at home
  for retreating from it, the more so the more the issue matters (Fearon 1994, "Domestic
  Political Audiences and the Escalation of International Disputes", APSR 88(3); Tomz 2007,
  "Domestic Audience Costs in International Relations", IO 61(4)). Positions then stop short of
  meeting: the last small concessions the engine would make are not taken.

A case that states no pace gets `DEFAULT_PACE`, the reading chosen leave-one-case-out on the
library of history (`docs/validation.md`); it is never set to make one case come out.
"""

from __future__ import annotations

import datetime as dt
import math
import re

ENGINE = "engine"
DEFAULT_PACE = ENGINE  # see docs/validation.md for how the default was chosen
UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "quarter": 365.25 / 4, "year": 365.25}
_HALF_LIFE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(day|week|month|quarter|year)s?\s*$")
_PERIOD = re.compile(r"^\s*every\s+([0-9]+)\s*(day|week|month|quarter|year)s?\s*$")
_INERTIA = re.compile(r"^\s*inertia\s+([0-9]*\.?[0-9]+)\s*$")
CALENDAR_MONTHS = {"month": 1, "quarter": 3, "year": 12}


class PaceError(ValueError):
    """A pace that is neither `engine` nor a half-life such as `6 months`."""


def period(pace: str | None) -> tuple[int, str] | None:
    """(N, unit) of a pace written `every N units` (a round every N units of time), else None.

    >>> period("every 3 months"), period("every 2 weeks"), period("6 months")
    ((3, 'month'), (2, 'week'), None)
    """
    found = _PERIOD.match(str(pace or "").lower())
    if found is None:
        return None
    count = int(found.group(1))
    if not 1 <= count <= 10_000:
        raise PaceError(f"{pace!r}: a round every 1 to 10,000 {found.group(2)}s")
    return count, found.group(2)


def inertia(pace: str | None) -> float | None:
    """The audience cost of a pace written `inertia C` (an actor moves on an issue only when the
    engine moves it by more than C of the scale times its salience), else None.

    >>> inertia("inertia 0.1"), inertia("engine")
    (0.1, None)
    """
    found = _INERTIA.match(str(pace or "").lower())
    if found is None:
        return None
    cost = float(found.group(1))
    if not 0 < cost <= 1:
        raise PaceError(f"{pace!r}: an inertia is more than 0 and at most 1 (a share of the scale)")
    return cost


def half_life_days(pace: str | None) -> float | None:
    """The half-life in days of a pace as written (None: `engine`, each round taken whole, and
    `every N units`, each round taken whole when its period ends, and `inertia C`).

    >>> half_life_days("6 months")
    182.625
    >>> half_life_days("engine") is None, half_life_days("every 3 months") is None
    (True, True)
    """
    text = DEFAULT_PACE if pace is None else str(pace)
    if text.strip().lower() == ENGINE or period(text) is not None or inertia(text) is not None:
        return None
    found = _HALF_LIFE.match(text.lower())
    if found is None:
        raise PaceError(
            f"{text!r} is not a pace: write `engine` (each step takes the engine's round whole), "
            "a half-life such as `6 months`, `3 weeks`, `1 year`, a round's length such as "
            "`every 3 months`, or an audience cost such as `inertia 0.1`"
        )
    days = float(found.group(1)) * UNIT_DAYS[found.group(2)]
    if not days > 0 or not math.isfinite(days) or days > 1e6:
        raise PaceError(f"{text!r}: the half-life must be more than 0 and at most 1,000,000 days")
    return days


def shares(
    as_of: dt.date, dates: tuple[dt.date, ...], half_life: float | None
) -> tuple[float, ...]:
    """For each round ending on `dates`, the share of the way to the engine's new position an
    actor covers in it: 1 - 2^(-days / half_life), or 1 for `engine` (None).

    >>> shares(dt.date(2020, 1, 1), (dt.date(2020, 1, 8), dt.date(2020, 1, 15)), 7.0)
    (0.5, 0.5)
    """
    if half_life is None:
        return tuple(1.0 for _ in dates)
    out = []
    before = as_of
    for day in dates:
        out.append(1.0 - 2.0 ** (-(day - before).days / half_life))
        before = day
    return tuple(out)


def describe(pace: str) -> str:
    """A pace in words, for the forecast's header.

    >>> describe("engine")
    "each step takes the engine's round whole"
    >>> describe("every 3 months")
    'a round of the engine, taken whole, every 3 months'
    >>> describe("inertia 0.1")[-57:]
    'a move under 0.1 of the scale times salience is not taken'
    >>> describe("6 months")
    "positions move half way to the engine's in 6 months"
    """
    if pace.strip().lower() == ENGINE:
        return "each step takes the engine's round whole"
    every = period(pace)
    if every is not None:
        count, unit = every
        return f"a round of the engine, taken whole, every {count} {unit}{'s' * (count != 1)}"
    cost = inertia(pace)
    if cost is not None:
        return (
            f"each step takes the engine's round, but a move under {cost:g} of the scale times "
            "salience is not taken"
        )
    return f"positions move half way to the engine's in {pace}"


def pace_shares(as_of: dt.date, dates: tuple[dt.date, ...], pace: str | None) -> tuple[float, ...]:
    """The share of the way moved in each round ending on `dates` under a pace as written
    (`shares` for `engine` and a half-life; for `every N units`, 1 in the steps where a period
    ends and 0 in the others). Raises PaceError for a pace that cannot be read.

    >>> start = dt.date(2020, 1, 15)
    >>> months = tuple(dt.date(2020, m, 15) for m in range(2, 9))
    >>> pace_shares(start, months, "every 3 months")
    (0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0)
    >>> pace_shares(start, months[:2], "every 10 days")  # shorter than a step: every step
    (1.0, 1.0)
    """
    every = period(pace)
    if every is None:
        return shares(as_of, dates, half_life_days(pace))
    from .dates import add_months

    count, unit = every
    ends: list[dt.date] = []
    n = 1
    last = dates[-1] if dates else as_of
    while True:
        if unit in CALENDAR_MONTHS:
            try:
                end = add_months(as_of, n * count * CALENDAR_MONTHS[unit])
            except OverflowError:
                break
        else:
            end = as_of + dt.timedelta(days=n * count * UNIT_DAYS[unit])
        if end > last:
            break
        ends.append(end)
        n += 1
    out = []
    k = 0  # the first period end not yet passed
    for day in dates:
        passed = k
        while k < len(ends) and ends[k] <= day:
            k += 1
        out.append(1.0 if k > passed else 0.0)
    return tuple(out)
