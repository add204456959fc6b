"""Small-sample statistics for base rates: proportions with Jeffreys intervals, the Kaplan–Meier
survival curve of crisis duration with Greenwood intervals, and the monthly hazard of ending.

Proportions. x of n crises: the point estimate is x / n and the interval is the Jeffreys
interval, the 5th and 95th percentiles of Beta(x + 1/2, n - x + 1/2) (a 90% interval, the
project's convention), with the lower end 0 when x = 0 and the upper end 1 when x = n (Brown, Cai
and DasGupta 2001, "Interval estimation for a binomial proportion", Statistical Science 16). It
keeps close to its nominal coverage down to a handful of cases, where the Wald interval fails.

Survival. Durations are in months (ICB's days / 30.4375). A crisis still open on the class's
as-of date is censored there. S(t) is the Kaplan–Meier product over event times t_i <= t of
(1 - d_i / n_i); its 90% interval uses Greenwood's variance on the log(-log S) scale
(Kalbfleisch and Prentice), which stays inside (0, 1).

Monthly hazard. The chance a crisis ends in a given month, treating each month a crisis was open
as one trial: `ended` events in `months` crisis-months of exposure (whole months, rounded up, at
least one per crisis), with the Jeffreys posterior Beta(ended + 1/2, months - ended + 1/2) as its
uncertainty. It assumes a constant hazard, which the survival curve lets the analyst check. As a
case parameter it is written as the posterior's 90% interval, `A to B` (see `Hazard.as_parameter`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.90
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Rate:
    """x of n, its share and its Jeffreys 90% interval."""

    count: int
    n: int
    p: float
    low: float
    high: float

    def to_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "n": self.n,
            "p": None if self.n == 0 else round(self.p, 4),
            "interval": [round(self.low, 4), round(self.high, 4)],
        }

    def describe(self) -> str:
        if self.n == 0:
            return "no crises"
        return f"{self.count} of {self.n} ({self.p:.0%}; {self.low:.0%}–{self.high:.0%})"


def jeffreys(count: int, n: int, level: float = LEVEL) -> Rate:
    """The share count / n with its Jeffreys interval at `level`."""
    if n < 0 or not 0 <= count <= n:
        raise ValueError(f"need 0 <= count <= n, got {count} of {n}")
    if n == 0:
        return Rate(0, 0, math.nan, 0.0, 1.0)
    # the Beta quantile: scipy.special's, lazily (scipy.stats would add a second to start-up)
    from scipy.special import betaincinv

    tail = (1 - level) / 2
    a, b = count + 0.5, n - count + 0.5
    low = 0.0 if count == 0 else float(betaincinv(a, b, tail))
    high = 1.0 if count == n else float(betaincinv(a, b, 1 - tail))
    return Rate(count, n, count / n, low, high)


@dataclass(frozen=True)
class SurvivalPoint:
    """S(t): the share of crises still open t months after their trigger, with its interval, and
    how many were still open and under observation at t."""

    months: float
    survival: float
    low: float
    high: float
    at_risk: int

    def to_json(self) -> dict[str, object]:
        return {
            "months": round(self.months, 4),
            "survival": round(self.survival, 4),
            "interval": [round(self.low, 4), round(self.high, 4)],
            "at_risk": self.at_risk,
        }


@dataclass(frozen=True)
class Survival:
    """The Kaplan–Meier curve: one point per distinct event time (S just after it)."""

    points: tuple[SurvivalPoint, ...]
    n: int
    events: int
    censored: int

    def at(self, months: float) -> SurvivalPoint:
        """S(months): the last step at or before `months` (1 before the first event)."""
        current = SurvivalPoint(months, 1.0, 1.0, 1.0, self.n)
        for point in self.points:
            if point.months > months:
                break
            current = point
        return SurvivalPoint(months, current.survival, current.low, current.high, current.at_risk)

    def median(self) -> float | None:
        """The first time S drops to 1/2 or below (None if it never does)."""
        for point in self.points:
            if point.survival <= 0.5:
                return point.months
        return None


def kaplan_meier(
    durations: Sequence[float], ended: Sequence[bool], level: float = LEVEL
) -> Survival:
    """The Kaplan–Meier estimate from durations (months) and whether each crisis ended (True) or
    was censored while open (False)."""
    if len(durations) != len(ended):
        raise ValueError("durations and ended differ in length")
    z = _normal_quantile(1 - (1 - level) / 2)
    pairs = sorted(zip(durations, ended, strict=True))
    at_risk = len(pairs)
    survival, greenwood = 1.0, 0.0
    points: list[SurvivalPoint] = []
    i = 0
    while i < len(pairs):
        t = pairs[i][0]
        deaths = removed = 0
        while i < len(pairs) and pairs[i][0] == t:
            deaths += pairs[i][1]
            removed += 1
            i += 1
        if deaths:
            survival *= 1 - deaths / at_risk
            if at_risk > deaths:
                greenwood += deaths / (at_risk * (at_risk - deaths))
            low, high = _loglog(survival, greenwood, z)
            points.append(SurvivalPoint(t, survival, low, high, at_risk))
        at_risk -= removed
    events = sum(bool(e) for e in ended)
    return Survival(tuple(points), len(pairs), events, len(pairs) - events)


def _loglog(survival: float, greenwood: float, z: float) -> tuple[float, float]:
    if survival <= 0.0:
        return 0.0, 0.0
    if survival >= 1.0 or greenwood == 0.0:
        return survival, survival
    log_s = math.log(survival)
    spread = z * math.sqrt(greenwood) / abs(log_s)
    return survival ** math.exp(spread), survival ** math.exp(-spread)


def _normal_quantile(q: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(q))


@dataclass(frozen=True)
class Hazard:
    """The monthly chance of ending: `ended` in `months` crisis-months, Beta(a, b) posterior."""

    ended: int
    months: int
    a: float
    b: float
    rate: Rate

    def distribution(self) -> str:
        """The posterior: `beta(a, b)`."""
        return f"beta({self.a:g}, {self.b:g})"

    def as_parameter(self) -> str:
        """The posterior as a case's uncertain number: its 90% interval, `A to B` (drawn like
        any judgement so written: normal where the parameter is used as a probability, else
        lognormal), which works for a parameter of any range, as `beta()` does not."""
        return f"{self.rate.low:.4g} to {self.rate.high:.4g}"

    def to_json(self) -> dict[str, object]:
        return {
            "ended": self.ended,
            "crisis_months": self.months,
            "p": round(self.rate.p, 4),
            "interval": [round(self.rate.low, 4), round(self.rate.high, 4)],
            "distribution": self.distribution(),
            "as_parameter": self.as_parameter(),
        }


def monthly_hazard(durations: Sequence[float], ended: Sequence[bool]) -> Hazard:
    """The constant monthly hazard of ending, from durations (months) and end flags."""
    months = sum(max(1, math.ceil(d - 1e-9)) for d in durations)
    count = sum(bool(e) for e in ended)
    rate = jeffreys(count, months) if months else jeffreys(0, 0)
    return Hazard(count, months, count + 0.5, months - count + 0.5, rate)
