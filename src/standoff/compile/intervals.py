"""Interval arithmetic over a formula's syntax tree (`Span`, `Bounds`, `bound`): the range of
its value given the range of each parameter and of each call of a context function.

A number written in the formula is itself; a name ranges as `names` says; arithmetic,
comparisons, `and`/`or`/`not`, `a if c else b` and the maths functions follow the rules of
interval arithmetic, numpy's `+` and `*` of two truth values being their `or` and `and`.
Interval arithmetic over-estimates a range where a term is used twice (`x - x` is not 0 there);
a truth value used more than once is therefore taken as 0 and as 1 in turn (`bound`), so that
`r * happened('a') + s * (not happened('a'))` is bounded by the larger of r and s, not by their
sum. A range that cannot be bounded (a division by a term that can be 0) is `UNBOUNDED`.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .expr import MATH, Formula, _constant

INF = math.inf
TRUTHS = ("happened", "now", "last", "after", "before")  # functions with truth values


@dataclass(frozen=True)
class Span:
    """The interval [low, high] a value lies in; `truth` when it is a truth value (0 or 1)."""

    low: float
    high: float
    truth: bool = False

    @staticmethod
    def point(value: float) -> Span:
        return Span(value, value)

    def within(self, low: float, high: float) -> bool:
        return low <= self.low and self.high <= high

    def hull(self, other: Span) -> Span:
        return Span(
            min(self.low, other.low), max(self.high, other.high), self.truth and other.truth
        )


UNBOUNDED = Span(-INF, INF)
TRUTH = Span(0.0, 1.0, True)


def _truth(span: Span) -> Span:
    """Whether a value is not 0, as a truth value."""
    if span.truth:
        return span
    zero = span.low <= 0.0 <= span.high
    other = not (span.low == 0.0 and span.high == 0.0)
    return Span(0.0 if zero else 1.0, 1.0 if other else 0.0, True)


def _mul(a: float, b: float) -> float:
    return 0.0 if a == 0.0 or b == 0.0 else a * b


def _spread(values: list[float]) -> Span:
    values = [v for v in values if not math.isnan(v)]
    return Span(min(values), max(values)) if values else UNBOUNDED


def _apply(f: Callable[[float], float], x: float) -> float:
    try:
        return f(x)
    except OverflowError:
        return INF
    except (ValueError, ZeroDivisionError):
        return math.nan


def _power(base: Span, exponent: float) -> Span:
    if exponent == 0:
        return Span.point(1.0)
    whole = float(exponent).is_integer()
    low, high = base.low, base.high
    if not whole:  # defined for base >= 0 only (elsewhere an undefined number: an error)
        if high < 0:
            return UNBOUNDED
        low = max(low, 0.0)
    if exponent < 0 and low <= 0.0 <= high:  # 1 / 0 where the base is 0
        return Span(0.0, INF) if not whole or exponent % 2 == 0 else UNBOUNDED
    points = [low, high] + ([0.0] if low < 0.0 < high else [])
    return _spread([_apply(lambda v: math.pow(v, exponent), v) for v in points])


def _mod(a: Span, b: Span) -> Span:
    if b.low > 0:
        return a if 0.0 <= a.low and a.high < b.low else Span(0.0, b.high)
    if b.high < 0:
        return Span(b.low, 0.0)
    return UNBOUNDED  # a division by zero where b is 0


def compare_spans(op: ast.cmpop, a: Span, b: Span) -> Span:
    """A comparison of two ranges: certainly true, certainly false, or either."""
    if isinstance(op, ast.Gt | ast.GtE):
        a, b = b, a
        op = ast.Lt() if isinstance(op, ast.Gt) else ast.LtE()
    if isinstance(op, ast.Lt):
        true, false = a.high < b.low, a.low >= b.high
    elif isinstance(op, ast.LtE):
        true, false = a.high <= b.low, a.low > b.high
    else:
        true = a.low == a.high == b.low == b.high
        false = a.high < b.low or b.high < a.low
        if isinstance(op, ast.NotEq):
            true, false = false, true
    return Span(1.0 if true else 0.0, 0.0 if false else 1.0, True)


def _maths(name: str, args: list[Span]) -> Span:
    if name in ("min", "max"):
        pick = min if name == "min" else max
        a, b = args
        return Span(pick(a.low, b.low), pick(a.high, b.high), a.truth and b.truth)
    if name == "clip":
        x, lo, hi = args
        return Span(min(max(x.low, lo.low), hi.low), min(max(x.high, lo.high), hi.high))
    (x,) = args
    if name == "abs":
        if x.low >= 0:
            return Span(x.low, x.high)
        if x.high <= 0:
            return Span(-x.high, -x.low)
        return Span(0.0, max(-x.low, x.high))
    if name == "log":
        if x.high <= 0:
            return UNBOUNDED
        return Span(-INF if x.low <= 0 else math.log(x.low), math.log(x.high))
    if name == "sqrt":
        return Span(math.sqrt(max(x.low, 0.0)), math.sqrt(max(x.high, 0.0)))
    if name == "exp":
        return Span(_apply(math.exp, x.low), _apply(math.exp, x.high))
    return Span(_logistic(x.low), _logistic(x.high))


def _logistic(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


def key(node: ast.AST) -> str:
    """What identifies a term of a formula: its syntax tree, without its place in the text."""
    return ast.dump(node)


@dataclass
class Bounds:
    """Interval arithmetic over one formula's tree, given the range of each parameter (`names`)
    and of each call of a context function (`calls`, by `key`); `assume` fixes truth values."""

    names: Mapping[str, Span]
    calls: Mapping[str, Span]
    assume: Mapping[str, bool] = field(default_factory=dict)

    def span(self, node: ast.AST) -> Span:
        if self.assume and (fixed := self.assume.get(key(node))) is not None:
            return Span(float(fixed), float(fixed), True)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return Span(float(node.value), float(node.value), True)
            if isinstance(node.value, int | float):
                return Span.point(float(node.value))
            return UNBOUNDED  # (a quoted id is only ever a function's argument)
        if isinstance(node, ast.Name):
            return self.names.get(node.id, UNBOUNDED)
        if isinstance(node, ast.UnaryOp):
            value = self.span(node.operand)
            if isinstance(node.op, ast.Not):
                t = _truth(value)
                return Span(1.0 - t.high, 1.0 - t.low, True)
            if isinstance(node.op, ast.USub):
                return Span(-value.high, -value.low)
            return value
        if isinstance(node, ast.BoolOp):
            parts = [_truth(self.span(v)) for v in node.values]
            pick = min if isinstance(node.op, ast.And) else max
            return Span(pick(p.low for p in parts), pick(p.high for p in parts), True)
        if isinstance(node, ast.Compare):
            out = Span(1.0, 1.0, True)
            left = self.span(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.span(comparator)
                step = compare_spans(op, left, right)
                out = Span(min(out.low, step.low), min(out.high, step.high), True)
                left = right
            return out
        if isinstance(node, ast.IfExp):
            test = _truth(self.span(node.test))
            if test.low == 1.0:
                return self.span(node.body)
            if test.high == 0.0:
                return self.span(node.orelse)
            return self.span(node.body).hull(self.span(node.orelse))
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in MATH:
                return _maths(node.func.id, [self.span(a) for a in node.args])
            return self.calls.get(key(node), UNBOUNDED)
        return UNBOUNDED

    def _binop(self, node: ast.BinOp) -> Span:
        a, b = self.span(node.left), self.span(node.right)
        if a.truth and b.truth and isinstance(node.op, ast.Add | ast.Mult):
            pick = max if isinstance(node.op, ast.Add) else min  # `or`, `and`
            return Span(pick(a.low, b.low), pick(a.high, b.high), True)
        if isinstance(node.op, ast.Add):
            return _spread([a.low + b.low, a.high + b.high])
        if isinstance(node.op, ast.Sub):
            return _spread([a.low - b.high, a.high - b.low])
        if isinstance(node.op, ast.Mult):
            return _spread([_mul(x, y) for x in (a.low, a.high) for y in (b.low, b.high)])
        if isinstance(node.op, ast.Div):
            if a.low == a.high == 0.0:
                return Span.point(0.0)
            if b.low <= 0.0 <= b.high:
                return UNBOUNDED  # a division by zero where b is 0
            return _spread([_mul(x, 1.0 / y) for x in (a.low, a.high) for y in (b.low, b.high)])
        if isinstance(node.op, ast.Pow):
            exponent = _constant(node.right)
            return UNBOUNDED if exponent is None else _power(a, exponent)
        if isinstance(node.op, ast.Mod):
            return _mod(a, b)
        return UNBOUNDED


def truth_atoms(tree: ast.AST) -> list[ast.AST]:
    """The truth values a formula uses more than once (one node of each, most used first):
    calls of happened, now, last, after, before and comparisons."""
    nodes: dict[str, ast.AST] = {}
    counts: Counter[str] = Counter()
    for node in ast.walk(tree):
        is_call = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in TRUTHS
        )
        if is_call or isinstance(node, ast.Compare):
            k = key(node)
            nodes.setdefault(k, node)
            counts[k] += 1
    return [nodes[k] for k, n in counts.most_common() if n > 1]


def bound(
    formula: Formula, names: Mapping[str, Span], calls: Mapping[str, Span], splits: int
) -> Span:
    """The range of a formula's value: the hull over every way of fixing (at most `splits` of)
    the truth values it uses more than once and does not already know."""
    plain = Bounds(names, calls)
    open_atoms = [
        atom
        for atom, span in ((a, plain.span(a)) for a in truth_atoms(formula.tree.body))
        if span.low != span.high
    ][:splits]
    out: Span | None = None
    for values in itertools.product((False, True), repeat=len(open_atoms)):
        assume = {key(atom): v for atom, v in zip(open_atoms, values, strict=True)}
        span = Bounds(names, calls, assume).span(formula.tree.body)
        out = span if out is None else out.hull(span)
    assert out is not None
    return out
