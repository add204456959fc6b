"""The outside view of a reference class: how its crises ended, how violent they became, how long
they lasted and how often mediation came, each figure with the number of crises behind it; and
the comparison of a case's scenarios and questions with those base rates.

Which crises count. The class holds the crises triggered before its cutoff (the case's `as_of`,
or `triggered_before`). A crisis triggered before the cutoff but not ended by it is *open*: its
duration is censored at the cutoff and its outcome (form, violence, tension, mediation) is left
out, since on the as-of date nobody knew how it would end. Without an as-of date every crisis has
ended (ICB v14 codes every crisis to its termination).

Outcome categories (system level, ICB1 codes; actor level, ICB2):

    form      FOROUT: formal agreement (1), semi-formal agreement (2), tacit understanding (3),
              unilateral act (4), imposed agreement (5), other (6), faded (7)
    violence  VIOL: none (1), minor clashes (2), serious clashes (3), full-scale war (4)
    tension   OUTESR: escalation (1: the adversaries met in another crisis within five years),
              reduction (2); 3 (too recent to tell) is left out
    content   ICB2 OUTCOM, per crisis actor: victory (1), compromise (2), stalemate (3),
              defeat (4), other (5); 9 (missing) left out. Actor rows of one crisis are not
              independent draws: read these intervals as rough.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .filters import ReferenceClass, norm, select
from .icb import Crisis
from .rates import DAYS_PER_MONTH, Hazard, Rate, Survival, jeffreys, kaplan_meier, monthly_hazard

FORM = {
    "formal-agreement": 1,
    "semi-formal-agreement": 2,
    "tacit-understanding": 3,
    "unilateral-act": 4,
    "imposed-agreement": 5,
    "other": 6,
    "faded": 7,
}
VIOLENCE = {"none": 1, "minor-clashes": 2, "serious-clashes": 3, "full-scale-war": 4}
TENSION = {"escalation": 1, "reduction": 2}
CONTENT = {"victory": 1, "compromise": 2, "stalemate": 3, "defeat": 4, "other": 5}

#: Dimension -> (ICB1 column, categories).
DIMENSIONS: dict[str, tuple[str, dict[str, int]]] = {
    "form": ("forout", FORM),
    "violence": ("viol", VIOLENCE),
    "tension": ("outesr", TENSION),
}
ALIASES = {
    "violence": {"no-violence": "none", "minor": "minor-clashes", "serious": "serious-clashes",
                 "war": "full-scale-war"},
    "form": {"formal": "formal-agreement", "semi-formal": "semi-formal-agreement",
             "tacit": "tacit-understanding", "unilateral": "unilateral-act",
             "imposed": "imposed-agreement"},
}  # fmt: skip
#: The duration comparisons: a number of months.
DURATION_KEYS = ("still_open_after", "ended_within")
SURVIVAL_MONTHS = (1, 3, 6, 12, 24)
AGREEMENT = ("formal-agreement", "semi-formal-agreement")


def label(name: str) -> str:
    """A category's name in words: `semi-formal-agreement` -> `semi-formal agreement`."""
    text = name.replace("-", " ")
    return text.replace("semi formal", "semi-formal").replace("full scale", "full-scale")


def _months(n: float) -> str:
    return f"{n:g} month" + ("" if n == 1 else "s")


class CompareError(ValueError):
    """A `compare:` entry that names an unknown dimension or category."""


@dataclass(frozen=True)
class Member:
    number: int
    name: str
    trigger: dt.date
    ended: bool  # ended before the class's cutoff

    def to_json(self) -> dict[str, Any]:
        return {
            "crisno": self.number,
            "name": self.name,
            "triggered": self.trigger.isoformat(),
            "open_at_cutoff": not self.ended,
        }


@dataclass(frozen=True)
class Mediation:
    mediated: Rate  # of the ended crises with MEDIATE coded
    agreement_mediated: Rate  # formal or semi-formal agreement, among the mediated
    agreement_unmediated: Rate
    reduction_mediated: Rate  # tension reduced afterwards, among the mediated
    reduction_unmediated: Rate


@dataclass(frozen=True)
class BaseRates:
    """The outside view of one reference class."""

    reference: ReferenceClass
    members: tuple[Member, ...]
    closed: tuple[Crisis, ...]  # ended before the cutoff: the outcome figures use only these
    form: dict[str, Rate]
    violence: dict[str, Rate]
    tension: dict[str, Rate]
    content: dict[str, Rate]
    content_by_actor: dict[str, dict[str, Rate]]
    mediation: Mediation
    survival: Survival
    hazard: Hazard
    durations: tuple[tuple[float, bool], ...]  # per member: months, and whether it ended

    @property
    def n(self) -> int:
        return len(self.members)

    def share(self, dimension: str, categories: Iterable[str]) -> Rate:
        """The share of ended crises whose `dimension` falls in `categories`."""
        column, codes = DIMENSIONS[dimension]
        wanted = {codes[c] for c in categories}
        coded = [c.code(column) for c in self.closed if c.code(column) in codes.values()]
        return jeffreys(sum(code in wanted for code in coded), len(coded))

    def still_open(self, months: float) -> Rate:
        """The chance a crisis is still open `months` after its trigger, from the survival curve,
        as a Rate: count and n are the crises still open after `months` and those whose state
        then is known (a crisis censored earlier is not); p and the interval are Kaplan–Meier's."""
        point = self.survival.at(months)
        known = [d > months for d, ended in self.durations if ended or d > months]
        return Rate(sum(known), len(known), point.survival, point.low, point.high)


def _duration(crisis: Crisis, cutoff: dt.date | None, ended: bool) -> tuple[float, bool]:
    if ended and crisis.days is not None:
        return crisis.days / DAYS_PER_MONTH, True
    if cutoff is None:  # no end coded and no cutoff: censored at ICB's last known day
        return (crisis.days or 0) / DAYS_PER_MONTH, False
    return (cutoff - crisis.trigger).days / DAYS_PER_MONTH, False


def _ended(crisis: Crisis, cutoff: dt.date | None) -> bool:
    """Ended before the cutoff. Without a termination date (one ICB crisis), the trigger plus
    ICB's duration stands in for it."""
    end = crisis.end
    if end is None and crisis.days is not None:
        end = crisis.trigger + dt.timedelta(days=crisis.days)
    if end is None:
        return False
    return cutoff is None or end < cutoff


def _shares(values: Sequence[int | None], categories: Mapping[str, int]) -> dict[str, Rate]:
    coded = [v for v in values if v in categories.values()]
    return {
        name: jeffreys(sum(v == code for v in coded), len(coded))
        for name, code in categories.items()
    }


class ClassTooSmall(ValueError):
    """Fewer crises than the class's minimum: never widened silently."""


def base_rates(crises: tuple[Crisis, ...], reference: ReferenceClass) -> BaseRates:
    """The outside view of `reference` over `crises`. Raises ClassTooSmall."""
    chosen = select(crises, reference)
    if len(chosen) < reference.min_crises:
        raise ClassTooSmall(
            f"the reference class ({reference.describe()}) holds {len(chosen)} "
            f"crises, fewer than the minimum of {reference.min_crises}; drop or loosen a filter "
            "(nothing is widened for you), or lower min_crises knowingly"
        )
    cutoff = reference.cutoff()
    ended = [c for c in chosen if _ended(c, cutoff)]
    members = tuple(Member(c.number, c.name, c.trigger, _ended(c, cutoff)) for c in chosen)
    durations = [_duration(c, cutoff, _ended(c, cutoff)) for c in chosen]
    survival = kaplan_meier([d for d, _ in durations], [e for _, e in durations])
    hazard = monthly_hazard([d for d, _ in durations], [e for _, e in durations])
    actor_rows = [(a.code, a.codes.get("outcom")) for c in ended for a in c.actors]
    by_actor: dict[str, dict[str, Rate]] = {}
    for code in reference.actors:
        by_actor[code] = _shares([o for a, o in actor_rows if a == code], CONTENT)
    mediated = [c for c in ended if c.code("mediate") == 4]
    unmediated = [c for c in ended if c.code("mediate") in (1, 2, 3)]

    def agreement(group: list[Crisis]) -> Rate:
        coded = [c for c in group if c.code("forout") in FORM.values()]
        return jeffreys(sum(c.code("forout") in (1, 2) for c in coded), len(coded))

    def reduction(group: list[Crisis]) -> Rate:
        coded = [c for c in group if c.code("outesr") in (1, 2)]
        return jeffreys(sum(c.code("outesr") == 2 for c in coded), len(coded))

    rates = BaseRates(
        reference=reference,
        members=members,
        closed=tuple(ended),
        form=_shares([c.code("forout") for c in ended], FORM),
        violence=_shares([c.code("viol") for c in ended], VIOLENCE),
        tension=_shares([c.code("outesr") for c in ended], TENSION),
        content=_shares([o for _, o in actor_rows], CONTENT),
        content_by_actor=by_actor,
        mediation=Mediation(
            mediated=jeffreys(len(mediated), len(mediated) + len(unmediated)),
            agreement_mediated=agreement(mediated),
            agreement_unmediated=agreement(unmediated),
            reduction_mediated=reduction(mediated),
            reduction_unmediated=reduction(unmediated),
        ),
        survival=survival,
        hazard=hazard,
        durations=tuple(durations),
    )
    return rates


# --- comparisons with a case ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a scenario or question is compared with: categories of one dimension, or a duration."""

    dimension: str  # form, violence, tension, still_open_after, ended_within
    categories: tuple[str, ...] = ()
    months: float | None = None

    def describe(self) -> str:
        if self.dimension == "still_open_after":
            return f"still open after {_months(self.months or 0)}"
        if self.dimension == "ended_within":
            return f"ended within {_months(self.months or 0)}"
        return f"{self.dimension}: {' or '.join(label(c) for c in self.categories)}"

    def to_json(self) -> dict[str, Any]:
        if self.months is not None:
            return {self.dimension: self.months}
        return {self.dimension: list(self.categories)}


def parse_target(entry: Any) -> Target:
    """A `compare:` entry: `{violence: [serious clashes, full-scale war]}`, `{form: [...]}`,
    `{tension: [reduction]}`, `{still_open_after: 12}` or `{ended_within: 6}`. Raises
    CompareError."""
    known = [*DIMENSIONS, *DURATION_KEYS]
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise CompareError(
            "each compare entry maps one scenario or question id to one outcome, e.g. "
            f"{{violence: [serious clashes, full-scale war]}}; outcomes: {', '.join(known)}"
        )
    ((raw, value),) = entry.items()
    dimension = norm(raw).replace("-", "_")
    if dimension in DURATION_KEYS:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise CompareError(f"{dimension} needs a number of months > 0, not {value!r}")
        return Target(dimension, months=float(value))
    if dimension not in DIMENSIONS:
        raise CompareError(f"unknown outcome {raw!r}; known: {', '.join(known)}")
    codes = DIMENSIONS[dimension][1]
    values = value if isinstance(value, list | tuple) else [value]
    categories = []
    for v in values:
        text = norm(v)
        text = ALIASES.get(dimension, {}).get(text, text)
        if text not in codes:
            raise CompareError(f"unknown {dimension} {v!r}; known: {', '.join(codes)}")
        categories.append(text)
    if not categories:
        raise CompareError(f"{dimension} needs at least one of: {', '.join(codes)}")
    return Target(dimension, tuple(dict.fromkeys(categories)))


def class_rate(rates: BaseRates, target: Target) -> Rate:
    if target.dimension == "still_open_after":
        return rates.still_open(target.months or 0.0)
    if target.dimension == "ended_within":
        still = rates.still_open(target.months or 0.0)
        return Rate(still.n - still.count, still.n, 1 - still.p, 1 - still.high, 1 - still.low)
    return rates.share(target.dimension, target.categories)


@dataclass(frozen=True)
class Comparison:
    """A case's probability beside the class's base rate. `gap` is True when the case's
    probability lies outside the class rate's 90% interval: the analyst should say why the case
    differs from its class."""

    id: str
    kind: str  # scenario or question
    label: str
    target: Target
    case_p: float
    rate: Rate
    gap: bool

    def sentence(self) -> str:
        what = self.target.describe()
        return (
            f"the case gives {self.label} {self.case_p:.0%}; {self.rate.count} of "
            f"{self.rate.n} similar crises: {what} ({self.rate.p:.0%}, 90% interval "
            f"{self.rate.low:.0%}–{self.rate.high:.0%})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "class_outcome": self.target.to_json(),
            "case_p": round(self.case_p, 4),
            "class_rate": self.rate.to_json(),
            "large_gap": self.gap,
        }


@dataclass(frozen=True)
class OutsideView:
    """The class's base rates and each declared comparison with the case."""

    rates: BaseRates
    comparisons: tuple[Comparison, ...]
    # the questions the observations decided: id -> the answer (True: yes); never a gap
    observed: Mapping[str, bool] = field(default_factory=dict)

    @property
    def gaps(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if c.gap and c.id not in self.observed)

    def shown(self, comparison: Comparison) -> str:
        """The case's side of a comparison: its probability, or `observed: yes` (or no)."""
        answer = self.observed.get(comparison.id)
        if answer is None:
            return f"{comparison.case_p:.0%}"
        return f"observed: {'yes' if answer else 'no'}"


def compare(
    rates: BaseRates, targets: Mapping[str, Target], forecasts: Mapping[str, tuple[str, str, float]]
) -> tuple[Comparison, ...]:
    """Each target's comparison; `forecasts` gives id -> (kind, label, probability) (a target
    without a forecast is left out)."""
    out = []
    for ident, target in targets.items():
        if ident not in forecasts:
            continue
        kind, name, p = forecasts[ident]
        rate = class_rate(rates, target)
        gap = rate.n > 0 and not rate.low <= p <= rate.high
        out.append(Comparison(ident, kind, name, target, p, rate, gap))
    return tuple(out)


# --- JSON ----------------------------------------------------------------------------------------


def _still_open_json(rate: Rate) -> dict[str, Any]:
    """S(t) and its interval (Kaplan–Meier), and the crises open past t of those whose state then
    is known."""
    return {
        "survival": round(rate.p, 4),
        "interval": [round(rate.low, 4), round(rate.high, 4)],
        "count": rate.count,
        "n": rate.n,
    }


def rates_json(rates: BaseRates) -> dict[str, Any]:
    """The outside view as plain data (every count, share and interval)."""
    months = SURVIVAL_MONTHS
    median = rates.survival.median()
    return {
        "source": "ICB v14 (International Crisis Behavior), codebook v12 definitions",
        "reference_class": rates.reference.filters(),
        "description": rates.reference.describe(),
        "interval": "Jeffreys 90% (proportions); Kaplan-Meier, Greenwood log-log 90% (duration)",
        "crises": rates.n,
        "ended": len(rates.closed),
        "open_at_cutoff": rates.n - len(rates.closed),
        "members": [m.to_json() for m in rates.members],
        "form": {k: v.to_json() for k, v in rates.form.items()},
        "violence": {k: v.to_json() for k, v in rates.violence.items()},
        "tension": {k: v.to_json() for k, v in rates.tension.items()},
        "content": {k: v.to_json() for k, v in rates.content.items()},
        "content_by_actor": {
            a: {k: v.to_json() for k, v in shares.items()}
            for a, shares in rates.content_by_actor.items()
        },
        "mediation": {
            "mediated": rates.mediation.mediated.to_json(),
            "agreement_if_mediated": rates.mediation.agreement_mediated.to_json(),
            "agreement_if_not_mediated": rates.mediation.agreement_unmediated.to_json(),
            "tension_reduced_if_mediated": rates.mediation.reduction_mediated.to_json(),
            "tension_reduced_if_not_mediated": rates.mediation.reduction_unmediated.to_json(),
        },
        "duration": {
            "median_months": None if median is None else round(median, 4),
            "still_open_after": {str(m): _still_open_json(rates.still_open(m)) for m in months},
            "survival": [p.to_json() for p in rates.survival.points],
            "monthly_hazard_of_ending": rates.hazard.to_json(),
        },
    }
