"""Observations: what has been seen of a crisis since its case was written.

An observation file is YAML:

    as_of: 2019-03-15             # observations cover every round that ends on or before this date
    events:
      summit: [2019-02-27]        # happened in the rounds holding these dates, and in no other
      summit_fails: [2019-02-28]
      walkout: []                 # did not happen

An event listed is observed in every round that ends on or before `as_of`: it happened in exactly
the rounds that hold its dates (round t holds the days after the end of round t - 1, up to and
including its own end; round 1 starts the day after the case's `as_of`). An event not listed is
not observed: the simulation draws it as usual. `note:` and `source:` keys, at the top or as an
event's `{dates: [...], note: ..., source: ...}`, are kept for the reader and ignored otherwise;
`case:` names the case the observations are of (a forecast of another case refuses them).

`read_observations` checks the file's shape; `compile_observations` checks it against a compiled
crisis (known events, dates inside the observed rounds, a `once` event listed at most once) and
gives the `ObservedPlan` the simulation conditions on (`simulate.crisis`). `settled_questions`
says which questions the observations alone decide, whatever happens after them.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..case.yamlread import line_of, read_text_file, read_yaml, unknown_keys
from ..errors import CaseError, Problem
from ..suggest import suggest
from .plan import CompiledCrisis

TOP_KEYS = ("case", "as_of", "events", "note", "source")
EVENT_KEYS = ("dates", "note", "source")
EXAMPLE = "as_of: 2019-03-15 and events: {summit: [2019-02-27], walkout: []}"

Lines = dict[tuple[str | int, ...], int]


@dataclass(frozen=True)
class Observations:
    """An observation file as written: its dates, and where each was written (for errors)."""

    file: str
    text: str
    as_of: dt.date
    events: dict[str, tuple[dt.date, ...]]  # in the file's order
    lines: Lines = field(repr=False, compare=False)
    case: str | None = None  # the `case:` key: the id of the case the observations are of

    @property
    def hash(self) -> str:
        """SHA-256 of the file's text (UTF-8): names exactly what a forecast was conditioned on."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {
            "file": Path(self.file).name,
            "as_of": self.as_of.isoformat(),
            "events": {e: [d.isoformat() for d in days] for e, days in self.events.items()},
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ObservedPlan:
    """The observations against a compiled crisis: rounds [0, rounds) are observed; in them each
    event listed in `events` (indices into the crisis's events) fired exactly where `fired` says.
    `where[n]` says, for the n-th observed event, what was seen, for messages."""

    rounds: int
    events: tuple[int, ...]
    fired: NDArray[np.bool_] = field(repr=False)  # (rounds, len(events))
    ids: tuple[str, ...]
    dates: tuple[dt.date, ...]  # the end of each observed round

    def column(self, event: int) -> int:
        """The column of event index `event` in `fired`, or -1 when it is not observed."""
        return self.events.index(event) if event in self.events else -1

    def describe(self, code: int, n_events: int) -> str:
        """Words for the observation coded t * n_events + e (round t, event e)."""
        t, e = divmod(code, n_events)
        column = self.column(e)
        ident = self.ids[column] if column >= 0 else str(e)
        seen = bool(self.fired[t, column]) if column >= 0 else False
        start = "the case's as-of date" if t == 0 else self.dates[t - 1].isoformat()
        return (
            f"{ident!r} {'happening' if seen else 'not happening'} in round {t + 1} "
            f"(after {start}, to {self.dates[t].isoformat()})"
        )


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def read_observations(path: Path) -> Observations:
    """An observation file, its shape checked (see the module's docstring). Raises CaseError."""
    file = str(path)
    text = read_text_file(path)
    return parse_observations(text, file)


def parse_observations(text: str, file: str) -> Observations:
    """`read_observations` of text already read."""
    typed: dict[tuple[str | int, ...], str] = {}
    data, lines = read_yaml(text, file, typed)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise CaseError([Problem(file, 1, "(top level)", f"expected a mapping with {EXAMPLE}")])
    problems += unknown_keys(data, TOP_KEYS, (), file, lines)
    case = data.get("case")
    if case is not None and not isinstance(case, str):
        problems.append(
            Problem(file, line_of(lines, ("case",)), "case", "expected the id of the case")
        )
    as_of = _date(data.get("as_of"))
    if as_of is None:
        problems.append(
            Problem(
                file,
                line_of(lines, ("as_of",)),
                "as_of",
                "missing: give the date the observations run to, e.g. as_of: 2019-03-15"
                if data.get("as_of") is None
                else f"not a date: {data.get('as_of')!r}; write YYYY-MM-DD",
            )
        )
    raw = data.get("events", {})
    events: dict[str, tuple[dt.date, ...]] = {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                file,
                line_of(lines, ("events",)),
                "events",
                "expected a mapping of event id: [dates it happened on] ([] for never)",
            )
        )
        raw = {}
    for ident, value in raw.items():
        at: tuple[str | int, ...] = ("events", ident)
        name = f"events.{ident}"
        if isinstance(value, dict):
            problems += unknown_keys(value, EVENT_KEYS, at, file, lines)
            value = value.get("dates", [])
            at = (*at, "dates")
        if value is None:
            value = []
        single = not isinstance(value, list)
        if single:
            value = [value]  # one date written without brackets
        days: list[dt.date] = []
        for n, item in enumerate(value):
            day = _date(item)
            where = at if single else (*at, n)
            if day is None:
                problems.append(
                    Problem(file, line_of(lines, where), name, _not_a_date(item, typed.get(where)))
                )
            else:
                days.append(day)
        events[str(ident)] = tuple(sorted(days))
    if problems:
        raise CaseError(sorted(problems, key=lambda p: p.line))
    assert as_of is not None
    return Observations(
        file=file,
        text=text,
        as_of=as_of,
        events=events,
        lines=lines,
        case=case if isinstance(case, str) else None,
    )


def _not_a_date(item: Any, written: str | None) -> str:
    """Why a value listed for an event is not a date, and what to write instead: `no` (YAML's
    false) means "did not happen", which is written [] ; `yes` means it happened, on dates."""
    shown = written if written is not None else repr(item)
    if isinstance(item, bool) and not item:
        return f"{shown} is read as false, not a date; write [] for 'did not happen'"
    if isinstance(item, bool):
        return (
            f"{shown} is read as true, not a date; write the dates it happened on, "
            "e.g. [2019-02-27]"
        )
    return f"not a date: {shown}; write YYYY-MM-DD, or [] for 'did not happen'"


def compile_observations(
    observations: Observations,
    plan: CompiledCrisis,
    case_as_of: dt.date,
    case_id: str | None = None,
) -> ObservedPlan:
    """The observed rounds and what was seen in them, checked against the crisis: the file's
    `case:`, where given, is `case_id`; every event named is one of its events; `as_of` is on or
    after the case's own; every date falls after the case's as-of date and inside a round that
    ends on or before `as_of`; an event that happens at most once (`once: true`) is listed on one
    date at most. Raises CaseError with every problem found."""
    file, lines = observations.file, observations.lines
    problems: list[Problem] = []
    if observations.case is not None and case_id is not None and observations.case != case_id:
        problems.append(
            Problem(
                file,
                line_of(lines, ("case",)),
                "case",
                f"these observations are of {observations.case!r}, the case is {case_id!r}",
            )
        )
    as_of = observations.as_of
    if as_of < case_as_of:
        problems.append(
            Problem(
                file,
                line_of(lines, ("as_of",)),
                "as_of",
                f"{as_of} is before the case's as-of date {case_as_of}: observations cover what "
                "happened after it",
            )
        )
    rounds = sum(1 for day in plan.dates if day <= as_of)
    index = {event.id: e for e, event in enumerate(plan.events)}
    ids: list[str] = []
    columns: list[int] = []
    fired = np.zeros((rounds, len(observations.events)), dtype=bool)
    for c, (ident, days) in enumerate(observations.events.items()):
        at = ("events", ident)
        if ident not in index:
            problems.append(
                Problem(
                    file,
                    lines.get((*at, "<key>"), line_of(lines, at)),
                    f"events.{ident}",
                    f"the case has no event {ident!r}{suggest('event', ident, index)}",
                )
            )
            continue
        e = index[ident]
        seen_rounds: list[int] = []
        for day in days:
            line = line_of(lines, at)
            if day <= case_as_of:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"events.{ident}",
                        f"{day} is on or before the case's as-of date {case_as_of}; the case "
                        "already knows what happened then",
                    )
                )
                continue
            if day > as_of:
                problems.append(
                    Problem(file, line, f"events.{ident}", f"{day} is after as_of ({as_of})")
                )
                continue
            t = next((t for t, end in enumerate(plan.dates) if end >= day), None)
            if t is None or t >= rounds:
                end = plan.dates[t] if t is not None else None
                problems.append(
                    Problem(
                        file,
                        line,
                        f"events.{ident}",
                        f"{day} falls in a round that ends on {end}, after as_of ({as_of}): "
                        "observations cover whole rounds; move as_of to the round's end or "
                        "leave the date out"
                        if end is not None
                        else f"{day} is after the case's last round",
                    )
                )
                continue
            if t not in seen_rounds:
                seen_rounds.append(t)
            fired[t, c] = True
        if plan.events[e].once and len(seen_rounds) > 1:
            problems.append(
                Problem(
                    file,
                    line_of(lines, at),
                    f"events.{ident}",
                    f"event {ident!r} happens at most once in the case (once: true) but is listed "
                    f"in {len(seen_rounds)} rounds",
                )
            )
        ids.append(ident)
        columns.append(e)
    if problems:
        raise CaseError(problems)
    keep = [c for c, ident in enumerate(observations.events) if ident in index]
    return ObservedPlan(
        rounds=rounds,
        events=tuple(columns),
        fired=fired[:, keep],
        ids=tuple(ids),
        dates=tuple(plan.dates[:rounds]),
    )


# --- questions the observations decide ---------------------------------------------------------

Interval = tuple[float, float]  # what a formula's value can be, whatever happens after the
UNKNOWN: Interval = (-math.inf, math.inf)  # observations; a truth value is 0 or 1
TRUE: Interval = (1.0, 1.0)
FALSE: Interval = (0.0, 0.0)
EITHER: Interval = (0.0, 1.0)


def settled_questions(plan: CompiledCrisis, observed: ObservedPlan) -> dict[str, bool]:
    """The questions whose answer the observations alone decide (id -> the answer, True for yes),
    whatever happens after them and whatever the uncertain inputs are. Each question's rule is
    evaluated over intervals: an observed event's `happened`, `count`, `now`, `last` and `since`
    are known through the observed rounds and bounded after them (an event that happened stays
    happened; its count grows by at most one a round), dates and round numbers are known, and
    everything else (parameters, the bargaining's terms, beliefs, events not observed) can be
    anything. A question is settled when its rule is true, or false, over every value left; the
    simulation then gives it 100% or 0% exactly, and the answer is the observations', not a
    forecast (docs/observations.md). A question its rule decides without any observation (by the
    calendar alone) is not theirs to decide, and is left out."""
    nothing = ObservedPlan(0, (), np.zeros((0, 0), dtype=bool), (), ())
    out: dict[str, bool] = {}
    for rule, index in plan.questions:
        if rule.formula is None:
            continue
        body = rule.formula.tree.body
        truth = _truth(_Bounds(plan, observed, index).value(body))
        if truth is not None and _truth(_Bounds(plan, nothing, index).value(body)) is None:
            out[rule.id] = truth
    return out


def settled_scenarios(plan: CompiledCrisis, observed: ObservedPlan) -> dict[str, bool]:
    """The scenarios whose outcome the observations alone decide (id -> True where it is the
    scenario that happens, False where it cannot happen), by the reading of `settled_questions`
    at the horizon, where the scenario rules are evaluated in their order (the first that holds
    names the scenario; `otherwise` always holds): a scenario happens when its rule holds and
    every rule before it fails, whatever the observations leave open, and cannot happen when its
    rule fails or a rule before it holds. As for questions, a scenario the calendar alone decides
    (without any observation) is not theirs to decide, and is left out."""
    nothing = ObservedPlan(0, (), np.zeros((0, 0), dtype=bool), (), ())
    last = plan.rounds - 1

    def outcomes(seen: ObservedPlan) -> list[bool | None]:
        truths = [
            True if rule.formula is None
            else _truth(_Bounds(plan, seen, last).value(rule.formula.tree.body))
            for rule in plan.scenarios
        ]  # fmt: skip
        out: list[bool | None] = []
        for s, truth in enumerate(truths):
            before = truths[:s]
            if truth is False or any(t is True for t in before):
                out.append(False)
            elif truth is True and all(t is False for t in before):
                out.append(True)
            else:
                out.append(None)
        return out

    decided = outcomes(observed)
    alone = outcomes(nothing)
    return {
        rule.id: answer
        for rule, answer, calendar in zip(plan.scenarios, decided, alone, strict=True)
        if answer is not None and calendar is None
    }


def _truth(value: Interval) -> bool | None:
    """True or False when every value left decides it (non-zero is true), else None."""
    low, high = value
    if math.isnan(low) or math.isnan(high):
        return None
    if low > 0 or high < 0:
        return True
    if low == high == 0:
        return False
    return None


def _hull(*values: Interval) -> Interval:
    lows = [v[0] for v in values]
    highs = [v[1] for v in values]
    if any(math.isnan(x) for x in lows + highs):
        return UNKNOWN
    return min(lows), max(highs)


def _kleene(value: bool | None) -> Interval:
    return EITHER if value is None else TRUE if value else FALSE


class _Bounds:
    """The value of a formula at the end of round `index`, as an interval over every history
    that agrees with the observations (see `settled_questions`)."""

    def __init__(self, plan: CompiledCrisis, observed: ObservedPlan, index: int):
        self.plan, self.observed, self.round = plan, observed, index
        self.fired: dict[str, list[int]] = {
            ident: [t for t in range(observed.rounds) if observed.fired[t, c]]
            for c, ident in enumerate(observed.ids)
        }
        self.once = {event.id: event.once for event in plan.events}

    def value(self, node: ast.AST) -> Interval:
        try:
            return self._value(node)
        except (ArithmeticError, ValueError, TypeError, IndexError, KeyError):
            return UNKNOWN

    def _value(self, node: ast.AST) -> Interval:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool | int | float):
                v = float(node.value)
                return (v, v)
            return UNKNOWN
        if isinstance(node, ast.Name):
            if node.id == "round":
                return (self.round + 1.0, self.round + 1.0)
            if node.id == "rounds":
                return (float(self.plan.rounds), float(self.plan.rounds))
            return UNKNOWN
        if isinstance(node, ast.BoolOp):
            truths = [_truth(self.value(v)) for v in node.values]
            decisive = isinstance(node.op, ast.Or)  # the operand value that decides
            if decisive in truths:
                return _kleene(decisive)
            return _kleene(None if None in truths else not decisive)
        if isinstance(node, ast.UnaryOp):
            inner = self.value(node.operand)
            if isinstance(node.op, ast.Not):
                truth = _truth(inner)
                return _kleene(None if truth is None else not truth)
            if isinstance(node.op, ast.USub):
                return (-inner[1], -inner[0])
            return inner
        if isinstance(node, ast.BinOp):
            return self._binop(node.op, self.value(node.left), self.value(node.right))
        if isinstance(node, ast.Compare):
            holds: list[bool | None] = []
            left = self.value(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.value(comparator)
                holds.append(_compare(op, left, right))
                left = right
            if False in holds:
                return FALSE
            return _kleene(None if None in holds else True)
        if isinstance(node, ast.IfExp):
            test = _truth(self.value(node.test))
            if test is None:
                return _hull(self.value(node.body), self.value(node.orelse))
            return self.value(node.body if test else node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self._call(node.func.id, node.args)
        return UNKNOWN

    def _binop(self, op: ast.operator, a: Interval, b: Interval) -> Interval:
        if isinstance(op, ast.Add):
            return (a[0] + b[0], a[1] + b[1])
        if isinstance(op, ast.Sub):
            return (a[0] - b[1], a[1] - b[0])
        if isinstance(op, ast.Mult):
            products = [x * y for x in a for y in b]
            return (
                UNKNOWN
                if any(math.isnan(p) for p in products)
                else _hull(*((p, p) for p in products))
            )
        if a[0] == a[1] and b[0] == b[1] and math.isfinite(a[0]) and math.isfinite(b[0]):
            if isinstance(op, ast.Div) and b[0] != 0:
                return (a[0] / b[0], a[0] / b[0])
        return UNKNOWN

    def _call(self, name: str, args: list[ast.expr]) -> Interval:
        if name in ("min", "max") and len(args) == 2:
            a, b = self.value(args[0]), self.value(args[1])
            pick = min if name == "min" else max
            return (pick(a[0], b[0]), pick(a[1], b[1]))
        if name == "abs" and len(args) == 1:
            low, high = self.value(args[0])
            if low >= 0:
                return (low, high)
            if high <= 0:
                return (-high, -low)
            return (0.0, max(-low, high))
        text = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if len(text) != len(args) or len(text) != 1:
            return UNKNOWN
        arg = text[0]
        if name in ("after", "before"):
            date = self.plan.dates[self.round]
            day = dt.date.fromisoformat(arg)
            return _kleene(date >= day if name == "after" else date < day)
        if arg not in self.fired:  # not an observed event: anything can have happened
            return EITHER if name in ("happened", "now", "last") else UNKNOWN
        fired, r, seen = self.fired[arg], self.round, self.observed.rounds
        upto = [t for t in fired if t <= r]
        known = r < seen  # every round up to this one is observed
        if name == "happened":
            return TRUE if upto else FALSE if known else EITHER
        if name == "count":
            low = float(len(upto))
            if known:
                return (low, low)
            most = 1.0 if self.once.get(arg) else low + (r - seen + 1)
            return (low, max(low, most))
        if name in ("now", "last"):
            t = r if name == "now" else r - 1
            if t < 0:
                return FALSE
            return _kleene(t in fired) if t < seen else EITHER
        if name == "since" and upto and known:
            return (float(r - upto[-1]), float(r - upto[-1]))
        return UNKNOWN


def _compare(op: ast.cmpop, a: Interval, b: Interval) -> bool | None:
    """The truth of `a op b` where it holds (or fails) for every value of the two intervals."""
    (a_low, a_high), (b_low, b_high) = a, b
    if isinstance(op, ast.Lt):
        return True if a_high < b_low else False if a_low >= b_high else None
    if isinstance(op, ast.LtE):
        return True if a_high <= b_low else False if a_low > b_high else None
    if isinstance(op, ast.Gt):
        return True if a_low > b_high else False if a_high <= b_low else None
    if isinstance(op, ast.GtE):
        return True if a_low >= b_high else False if a_high < b_low else None
    point = a_low == a_high == b_low == b_high
    apart = a_high < b_low or b_high < a_low
    if isinstance(op, ast.Eq):
        return True if point else False if apart else None
    if isinstance(op, ast.NotEq):
        return False if point else True if apart else None
    return None
