"""The range of a formula's value, bounded before any draw is made.

Interval arithmetic over a formula's syntax tree (`Span`, `bound`, in `intervals.py`): a number
written in it is itself; a parameter ranges over its draws, as far as the one-in-a-million
quantile at each end of an unbounded support (`Dist.extent`, `numbers.TAIL`); each function of
the formula language ranges over what it can give (`Ranges.calls`): `sees`, `prevails`, `gap`,
`salience`, `belief` and a fitted game's probability (`game`) in [0, 1], `eu` and `threat` in
[-4, 4] (the expected utility model's utilities are in [-2, 2]), `position` on its issue's scale,
`capability` from 0 to its largest draw (no upper bound when an effect can raise it), `count` up
to the round, `since` up to 10,000 (an event that has not happened), and a truth value 0 or 1.
Arithmetic, comparisons, `and`/`or`/`not`, `a if c else b` and the maths functions follow the
rules of interval arithmetic, numpy's `+` and `*` of two truth values being their `or` and `and`.

Interval arithmetic over-estimates a range where a term is used twice (`x - x` is not 0 there).
Two refinements remove the common cases: a formula that reads the round (`round`, `after`,
`before`, `count`, `since`) is bounded round by round when the whole calendar at once leaves
[0, 1], and a truth value used more than once (`happened('a')`, `gap('a', 'b') > 0.1`) is taken
as 0 and as 1 in turn, so that `r * happened('a') + s * (not happened('a'))` is bounded by the
larger of r and s, not by their sum. A range that cannot be bounded (a division by a term that
can be 0, a function of unknown range) is not judged.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..case.types import CAPABILITY
from ..compile.expr import MATH, Formula, _constant, _one_line
from ..compile.intervals import (
    INF,
    TRUTH,
    TRUTHS,
    UNBOUNDED,
    Bounds,
    Span,
    bound,
    compare_spans,
    key,
    truth_atoms,
)
from ..compile.plan import NEVER

if TYPE_CHECKING:
    from ..compile import CompiledCase

EU_BOUND = 4.0  # |eu|, |threat| <= 4: an expected utility less a status quo, each in [-2, 2]
UNIT = ("sees", "prevails", "gap", "salience", "belief", "game")  # with values in [0, 1]
ROUND_READERS = ("after", "before", "count", "since")  # functions whose range depends on the round
MAX_SPLITS = 8  # the most truth values a formula is split on (2^8 evaluations a round)
MAX_EVALUATIONS = 20_000  # per formula: rounds x splits, beyond which fewer truths are split


@dataclass(frozen=True)
class Input:
    """A term of a formula whose range it reads: a parameter or a call of a context function."""

    text: str  # as written
    describe: str  # its range in words
    pinned: Span  # the narrower range it is tried at
    is_name: bool
    node_key: str = ""


class Ranges:
    """The range of every term the formulas of a compiled crisis read, for the whole calendar or
    in one round."""

    def __init__(self, compiled: CompiledCase):
        plan = compiled.crisis
        assert plan is not None
        self.plan, self.case = plan, compiled.case
        self.params: dict[str, Span] = {}  # as far as the tails
        self.stated: dict[str, Span] = {}  # within the interval as written
        self.central: dict[str, float] = {}
        self.written: dict[str, str] = {}
        for name, parameter in plan.parameters.items():
            dist, quantity = parameter.dist, parameter.quantity
            self.params[name] = Span(*dist.extent(quantity))
            low, high = dist.limits(quantity)
            ends = dist.support()
            self.stated[name] = Span(min(max(ends[0], low), high), min(max(ends[1], low), high))
            self.central[name] = dist.central(quantity)
            self.written[name] = str(dist)
        self.issues = {issue.id: issue for issue in compiled.case.issues}
        self.capability = self._capabilities()

    def _capabilities(self) -> dict[str, float]:
        """Each actor's largest capability: its largest draw, or more where an effect sets it
        higher; no bound where an effect can add to it or scale it up."""
        top: dict[str, float] = {}
        for actor in self.case.actors:
            dist = actor.capability
            top[actor.id] = dist.extent(CAPABILITY)[1]
        actors = [a.id for a in self.case.actors]
        effects = [eff for ev in self.plan.events for eff in ev.effects]
        effects += [eff for _, entry in self.plan.calendar for eff in entry]
        for effect in effects:
            if effect.kind != "capability":
                continue
            who = actors[effect.actor]
            for amount, name in effect.amounts.items():
                high = self.params[name].high if name in self.params else INF
                if amount == "set":
                    top[who] = max(top[who], high)
                elif (amount == "add" and high > 0) or (amount == "scale" and high > 1):
                    top[who] = INF
        return top

    def names(self, t: int | None, stated: bool = False) -> dict[str, Span]:
        """The range of each bare name in round index t (the whole calendar when None), each
        parameter's as far as its tails, or within its interval as written (`stated`)."""
        rounds = float(self.plan.rounds)
        now = Span(1.0, rounds) if t is None else Span.point(float(t + 1))
        return {
            **(self.stated if stated else self.params),
            "round": now,
            "rounds": Span.point(rounds),
            "rung": Span(0.0, float(len(self.plan.ladder))),
        }

    def call(self, node: ast.Call, t: int | None) -> Span:
        """The range of one call of a context function in round index t (None: any round)."""
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        if name in ("after", "before"):
            day = dt.date.fromisoformat(str(args[0]))
            dates = self.plan.dates if t is None else (self.plan.dates[t],)
            seen = {(d >= day) == (name == "after") for d in dates}
            return Span(float(min(seen)), float(max(seen)), True)
        if name in TRUTHS:
            return TRUTH
        if name in UNIT:
            return Span(0.0, 1.0)
        if name in ("eu", "threat"):
            return Span(-EU_BOUND, EU_BOUND)
        if name == "count":
            return Span(0.0, float(self.plan.rounds if t is None else t + 1))
        if name == "since":
            return Span(0.0, float(NEVER))
        if name == "position":
            low, high = self.issues[str(args[1])].range
            return Span(float(low), float(high))
        if name == "capability":
            return Span(0.0, self.capability[str(args[0])])
        return UNBOUNDED

    def calls(self, formula: Formula, t: int | None) -> dict[str, Span]:
        return {
            key(node): self.call(node, t)
            for node in ast.walk(formula.tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id not in MATH
        }

    def inputs(self, formula: Formula, stated: bool = False) -> list[Input]:
        """The terms of a formula that can take its value out of [0, 1], each with its range in
        words and the narrower range it is tried at (`Input.pinned`). As far as the tails
        (`stated` False), the parameters, tried within their intervals as written; within those
        intervals, the parameters at their medians and the functions that scale the value (not
        the truth values, nor a term only ever compared) at the middle of their ranges."""
        out: list[Input] = []
        for name in sorted(formula.names & set(self.params)):
            if stated:
                words = f"parameter {name} ({self.written[name]})"
                pinned = Span.point(self.central[name])
            else:
                span = self.params[name]
                words = (
                    f"parameter {name} ({self.written[name]}, drawn from {span.low:.3g} to "
                    f"{span.high:.3g})"
                )
                pinned = self.stated[name]
            out.append(Input(name, words, pinned, True))
        if not stated:
            return out
        compared = {
            id(part)
            for node in ast.walk(formula.tree)
            if isinstance(node, ast.Compare)
            for part in (node.left, *node.comparators)
        }
        seen: set[str] = set()
        for node in ast.walk(formula.tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id not in MATH
                and node.func.id not in TRUTHS
                and id(node) not in compared
            ):
                continue
            k = key(node)
            if k in seen:
                continue
            seen.add(k)
            text = written(formula, node)
            span = self.call(node, None)
            if node.func.id == "since":
                event = node.args[0].value if isinstance(node.args[0], ast.Constant) else "?"
                words = f"{text} ({NEVER:,} while {event!r} has not happened)"
                pinned = Span(0.0, float(self.plan.rounds))
            elif span.high == INF:
                words = f"{text} (no upper bound: an effect can raise it)"
                pinned = Span.point(span.low)
            else:
                words = f"{text} (from {span.low:.3g} to {span.high:.3g})"
                pinned = Span.point((span.low + span.high) / 2)
            out.append(Input(text, words, pinned, False, k))
        return out


def written(formula: Formula, node: ast.AST) -> str:
    """A term of a formula as its author wrote it (on one line)."""
    return _one_line(ast.get_source_segment(formula.text, node) or ast.unparse(node))


def rounds_read(formula: Formula) -> bool:
    """Whether a formula's range can change from round to round."""
    for node in ast.walk(formula.tree):
        if isinstance(node, ast.Name) and node.id == "round":
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ROUND_READERS
        ):
            return True
    return False


@dataclass(frozen=True)
class Excess:
    """A formula whose range leaves [0, 1]: its range, the round (index) where it first does
    when it was bounded round by round, and the inputs that take it there."""

    span: Span
    round: int | None
    inputs: tuple[Input, ...]


def probability_excess(formula: Formula, ranges: Ranges, stated: bool = False) -> Excess | None:
    """Where an event's probability formula can leave [0, 1], with the inputs that take it
    there; None when its range lies within [0, 1], or cannot be bounded (a division by a term
    that can be 0, a capability an effect can raise, a function of unknown range). Its
    parameters range as far as their tails, or only within their intervals as written
    (`stated`)."""
    names, calls = ranges.names(None, stated), ranges.calls(formula, None)
    whole = bound(formula, names, calls, MAX_SPLITS)
    if whole.within(0.0, 1.0):
        return None
    worst, first, t_worst = whole, None, None
    if rounds_read(formula):
        atoms = len(truth_atoms(formula.tree.body))
        splits = min(MAX_SPLITS, atoms)
        while splits and ranges.plan.rounds * 2**splits > MAX_EVALUATIONS:
            splits -= 1
        spans: list[Span] = []
        for t in range(ranges.plan.rounds):
            span = bound(formula, ranges.names(t, stated), ranges.calls(formula, t), splits)
            spans.append(span)
            if first is None and not span.within(0.0, 1.0):
                first = t
        worst = spans[0]
        for span in spans[1:]:
            worst = worst.hull(span)
        if first is None:
            return None
        t_worst = max(range(len(spans)), key=lambda t: _beyond(spans[t]))
    if not (math.isfinite(worst.low) and math.isfinite(worst.high)):
        return None  # not bounded (a division by a term that can be 0): not judged
    excess = _beyond(worst)
    names = ranges.names(t_worst, stated)
    calls = ranges.calls(formula, t_worst)
    pushing: list[tuple[float, Input]] = []
    for item in ranges.inputs(formula, stated):
        if item.is_name:
            pinned_names = {**names, item.text: item.pinned}
            span = bound(formula, pinned_names, calls, MAX_SPLITS)
        else:
            span = bound(formula, names, {**calls, item.node_key: item.pinned}, MAX_SPLITS)
        if _beyond(span) < excess:
            pushing.append((excess - _beyond(span), item))
    pushing.sort(key=lambda pair: -pair[0])
    return Excess(worst, first, tuple(item for _, item in pushing))


def _beyond(span: Span) -> float:
    """How far a range reaches outside [0, 1]."""
    return max(0.0, -span.low, span.high - 1.0)


@dataclass(frozen=True)
class Saturation:
    """A clamp of a probability to at most `limit` whose argument, with the parameters at their
    medians, reaches `reach`: it binds over most of its argument's range."""

    node: ast.Call
    limit: float
    reach: float
    parameters: tuple[str, ...]  # the parameters inside it whose median is above the limit


SATURATION = 10.0  # a clamp to 1 is the rule, not the tail, when its argument reaches 10


def saturated_clamps(formula: Formula, ranges: Ranges) -> list[Saturation]:
    """The clamps of a formula (`min(1, X)`, `min(X, c)`, `clip(X, a, c)` with a constant c in
    (0, 1]) whose argument X reaches SATURATION times c with every parameter at its median and
    every other term over its range: the clamp then decides the value wherever X is not near 0,
    and what X says (a rate written as a percentage, `70 to 95`) is lost."""
    names = {
        **ranges.names(None),
        **{n: Span.point(v) for n, v in ranges.central.items()},
    }
    calls = ranges.calls(formula, None)
    out: list[Saturation] = []
    for node in ast.walk(formula.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        args = node.args
        if node.func.id == "min" and len(args) == 2:
            pairs = [(args[0], _constant(args[1])), (args[1], _constant(args[0]))]
        elif node.func.id == "clip" and len(args) == 3:
            pairs = [(args[0], _constant(args[2]))]
        else:
            continue
        for inner, limit in pairs:
            if limit is None or not 0.0 < limit <= 1.0:
                continue
            reach = Bounds(names, calls).span(inner).high
            if SATURATION * limit <= reach < INF:
                used = sorted(
                    n.id
                    for n in ast.walk(inner)
                    if isinstance(n, ast.Name)
                    and n.id in ranges.central
                    and ranges.central[n.id] > limit
                )
                out.append(Saturation(node, limit, reach, tuple(dict.fromkeys(used))))
    return out


def unguarded_since(formula: Formula, ranges: Ranges) -> list[ast.Call]:
    """The calls since(e) whose value 10,000 (e has not happened) the formula reads without
    saying what it means: it never names happened(e) or count(e), and since(e) is not compared so
    that the comparison is false at 10,000 (`since(e) < 3`, `since(e) == 0`)."""
    said: set[str] = set()
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(formula.tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("happened", "count")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            said.add(str(node.args[0].value))
    bounds = Bounds(ranges.names(None), ranges.calls(formula, None))
    found: list[ast.Call] = []
    for node in ast.walk(formula.tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "since"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            continue
        if str(node.args[0].value) in said:
            continue
        parent = parents.get(id(node))
        if isinstance(parent, ast.Compare) and _false_when_never(parent, node, bounds):
            continue
        found.append(node)
    return found


def _false_when_never(compare: ast.Compare, since: ast.Call, bounds: Bounds) -> bool:
    """Whether a comparison chain that reads since(e) is false when since(e) is 10,000."""
    terms = [compare.left, *compare.comparators]
    never = Span.point(float(NEVER))
    for n, op in enumerate(compare.ops):
        left, right = terms[n], terms[n + 1]
        if since not in (left, right):
            continue
        a = never if left is since else bounds.span(left)
        b = never if right is since else bounds.span(right)
        if compare_spans(op, a, b).high == 0.0:
            return True
    return False


__all__ = [
    "Bounds",
    "Excess",
    "Input",
    "Ranges",
    "Saturation",
    "Span",
    "bound",
    "probability_excess",
    "rounds_read",
    "saturated_clamps",
    "truth_atoms",
    "unguarded_since",
    "written",
]
