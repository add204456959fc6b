"""What-if changes to a case: the knobs a case offers and a case with some of them moved.

A knob is one uncertain number of the case: a crisis parameter, a belief's prior, an actor's
capability, or an actor's position or salience on an issue. Its value is the centre of the number
as written (the midpoint of `40 to 60`, the value of a fixed number). Moving a knob to `v` moves
the whole number by `v - centre`, so its uncertainty is kept: `40 to 60` moved to 70 becomes
`60 to 80`. Ends are clipped to the quantity's valid range (a collapsed interval becomes the fixed
number), and kinds with no simple shift (`beta(...)`) become the fixed number `v`.

The changed case is the case's own YAML mapping with the moved numbers written in, compiled again
through the loader, so it passes every check a case file does.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from ..case.numbers import Dist, Quantity
from ..case.types import CAPABILITY, SALIENCE
from ..case.yamlread import read_yaml
from ..compile import CompiledCase, load_yaml
from ..errors import CaseError, Problem

MAX_OVERRIDES = 500


@dataclass(frozen=True)
class Knob:
    """One number the what-if page can move.

    key: `param:NAME`, `belief:ID`, `actor:ID:capability`, `actor:ID:ISSUE:position` or
    `actor:ID:ISSUE:salience`; group: the heading it is shown under; label: a reader's name;
    written: the number as the case writes it; value: its centre; low, high: the slider's ends;
    step: the slider's step."""

    key: str
    group: str
    label: str
    written: str
    value: float
    low: float
    high: float
    step: float


def centre(dist: Dist) -> float:
    """The middle of a number as written: the midpoint of its interval, a normal's mean, a
    triangular's mode."""
    if dist.kind == "fixed":
        return dist.params[0]
    if dist.kind == "normal":
        return dist.params[0]
    if dist.kind == "triangular":
        return dist.params[1]
    low, high = dist.support()
    return (low + high) / 2


def _slider(dist: Dist, quantity: Quantity) -> tuple[float, float, float]:
    """The slider's ends and step for a number of `quantity`: the quantity's range, on the side
    of zero its author wrote it (`Dist.limits`: a rate `0.1 to 0.3` never goes below 0); where
    that range is unbounded, up to twice the largest of the number's ends (and 1)."""
    low, high = dist.limits(quantity)
    if not (math.isfinite(high) and high - low < 1e6):
        top = max(abs(v) for v in (*dist.support(), centre(dist), 1.0))
        low, high = (low if low >= -1e11 else -2 * top), min(high, 2 * top)
    span = high - low
    step = 10 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01
    return low, high, step


SEARCH_STEPS = 40  # halvings of the bracket where a parameter's accepted range ends


class _Probabilities:
    """Whether the events' probabilities stay within [0, 1] with one parameter moved: every
    event probability formula that reads the parameter, bounded by interval arithmetic
    (`pipeline.bounds`) over the moved number's draws (as far as the one-in-a-million tails) and
    every other input's whole range. Where that holds, no draw of a forecast is refused for a
    probability out of [0, 1]; a formula whose range cannot be bounded is not judged."""

    def __init__(self, compiled: CompiledCase):
        from ..pipeline.bounds import Ranges
        from ..pipeline.lint import formulas

        self.ranges = Ranges(compiled)
        self.events = [f for path, f in formulas(compiled) if path[:2] == ("crisis", "events")]

    def reading(self, name: str) -> list[Any]:
        return [f for f in self.events if name in f.names]

    def stay(self, name: str, dist: Dist, quantity: Quantity, value: float) -> bool:
        from ..case.numbers import parse_uncertain
        from ..pipeline.bounds import Span, probability_excess

        shifted = parse_uncertain(moved(dist, value, quantity))
        kept = self.ranges.params[name]
        self.ranges.params[name] = Span(*shifted.extent(quantity))
        try:
            return all(probability_excess(f, self.ranges) is None for f in self.reading(name))
        finally:
            self.ranges.params[name] = kept


def _accepted(
    probabilities: _Probabilities,
    name: str,
    dist: Dist,
    quantity: Quantity,
    ends: tuple[float, float, float],
) -> tuple[float, float]:
    """The slider's ends of parameter `name` narrowed to the values a what-if can run: those at
    which the events' probabilities stay within [0, 1] (`_Probabilities`), found by halving the
    bracket between the number's centre and each end, then rounded inward to the step. Unchanged
    where no event reads the parameter, or where the case as written already leaves [0, 1] (its
    check warns of that)."""
    low, high, step = ends
    middle = centre(dist)
    if not probabilities.reading(name) or not probabilities.stay(name, dist, quantity, middle):
        return low, high

    def edge(end: float) -> float:
        if probabilities.stay(name, dist, quantity, end):
            return end
        good, bad = middle, end
        for _ in range(SEARCH_STEPS):
            half = (good + bad) / 2
            if probabilities.stay(name, dist, quantity, half):
                good = half
            else:
                bad = half
        return good

    lowest, highest = edge(low), edge(high)
    if lowest != low:
        lowest = min(math.ceil(lowest / step - 1e-9) * step, middle)
    if highest != high:
        highest = max(math.floor(highest / step + 1e-9) * step, middle)
    return round(lowest, 12), round(highest, 12)


def knobs(compiled: CompiledCase) -> list[Knob]:
    """Every knob of a case, in the order the page shows them."""
    case = compiled.case
    out: list[Knob] = []

    def add(key: str, group: str, label: str, dist: Dist, quantity: Quantity,
            ends: tuple[float, float] | None = None) -> None:  # fmt: skip
        low, high, step = _slider(dist, quantity)
        if ends is not None:
            low, high = ends
        out.append(Knob(key, group, label, str(dist), round(centre(dist), 9), low, high, step))

    plan = compiled.crisis
    if plan is not None and case.crisis is not None:
        probabilities = _Probabilities(compiled)
        for name, dist in case.crisis.parameters.items():
            quantity = _parameter_quantity(compiled, name)
            ends = _accepted(probabilities, name, dist, quantity, _slider(dist, quantity))
            add(f"param:{name}", "Parameters", case.crisis.parameter_label(name) or name, dist,
                quantity, ends)  # fmt: skip
        for belief in case.crisis.beliefs:
            label = f"{belief.holder}: {belief.label or belief.id}"
            add(f"belief:{belief.id}", "Beliefs (prior)", label, belief.prior,
                Quantity("a probability", 0.0, 1.0))  # fmt: skip
    issues = {issue.id: issue for issue in case.issues}
    for actor in case.actors:
        group = f"Actor: {actor.name or actor.id}"
        add(f"actor:{actor.id}:capability", group, "capability", actor.capability, CAPABILITY)
        for issue_id, stance in actor.stances.items():
            issue = issues.get(issue_id)
            if issue is None:
                continue
            name = issue.label or issue.id
            add(f"actor:{actor.id}:{issue_id}:position", group, f"{name}: position",
                stance.position, issue.quantity())  # fmt: skip
            add(f"actor:{actor.id}:{issue_id}:salience", group, f"{name}: salience",
                stance.salience, SALIENCE)  # fmt: skip
    return out


def _parameter_quantity(compiled: CompiledCase, name: str) -> Quantity:
    """The quantity a crisis parameter is drawn as (a probability, or any number)."""
    plan = compiled.crisis
    if plan is not None and name in plan.parameters:
        return plan.parameters[name].quantity
    return Quantity(name, -1e12, None)


def _fmt(v: float) -> float | int:
    v = round(v, 6)
    return int(v) if v == int(v) and abs(v) < 1e15 else v


def moved(dist: Dist, value: float, quantity: Quantity) -> float | str:
    """`dist` moved so that its centre is `value` (see the module's docstring), as YAML writes
    it: a number or an uncertain-number string."""
    lo, hi = dist.limits(quantity)  # the quantity's range, on the side of zero written
    value = min(max(value, lo), hi)
    shift = value - centre(dist)
    p = dist.params
    if dist.kind == "range":
        a, b = max(p[0] + shift, lo), min(p[1] + shift, hi)
        return f"{_fmt(a)} to {_fmt(b)}" if a < b else _fmt(value)
    if dist.kind == "normal":
        return f"normal({_fmt(value)}, {_fmt(p[1])})"
    if dist.kind == "uniform":
        a, b = max(p[0] + shift, lo), min(p[1] + shift, hi)
        return f"uniform({_fmt(a)}, {_fmt(b)})" if a < b else _fmt(value)
    if dist.kind == "triangular":
        a, b = max(p[0] + shift, lo), min(p[2] + shift, hi)
        if a < value < b:
            return f"triangular({_fmt(a)}, {_fmt(value)}, {_fmt(b)})"
    return _fmt(value)


def _find(items: Any, ident: str) -> dict[str, Any] | None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and str(item.get("id")) == ident:
                return item
    return None


def apply(
    text: str, compiled: CompiledCase, overrides: Mapping[str, float], file: str
) -> tuple[CompiledCase, str]:
    """The case of `text` (already compiled as `compiled`) with each knob in `overrides` moved to
    its value, and its YAML text. Raises CaseError naming an unknown knob, or any problem the
    changed case has."""
    if len(overrides) > MAX_OVERRIDES:
        raise CaseError([Problem(file, 1, "(what if)", f"more than {MAX_OVERRIDES} changes")])
    if not overrides:
        return compiled, text
    by_key, data = _prepared(text, compiled, file)
    case = compiled.case
    problems: list[Problem] = []
    for key, value in overrides.items():
        knob = by_key.get(key)
        if knob is None or not math.isfinite(value):
            why = "not a number this case has" if knob is None else "not a finite number"
            problems.append(Problem(file, 1, "(what if)", f"{key}: {why}"))
            continue
        parts = key.split(":")
        if parts[0] == "param" and case.crisis is not None:
            name = parts[1]
            quantity = _parameter_quantity(compiled, name)
            value_moved = moved(case.crisis.parameters[name], value, quantity)
            written = data["crisis"]["parameters"]
            if isinstance(written[name], dict):  # {value, label, note}: the words stay
                written[name] = {**written[name], "value": value_moved}
            else:
                written[name] = value_moved
        elif parts[0] == "belief" and case.crisis is not None:
            spec = next(b for b in case.crisis.beliefs if b.id == parts[1])
            entry = _find(data["crisis"].get("beliefs"), parts[1])
            if entry is not None:
                entry["prior"] = moved(spec.prior, value, Quantity("a probability", 0.0, 1.0))
        elif parts[0] == "actor":
            actor = next(a for a in case.actors if a.id == parts[1])
            entry = _find(data.get("actors"), parts[1])
            if entry is None:
                continue
            if parts[2] == "capability":
                entry["capability"] = moved(actor.capability, value, CAPABILITY)
            else:
                issue = next(i for i in case.issues if i.id == parts[2])
                stance = actor.stances[parts[2]]
                target = entry["stances"][parts[2]]
                if parts[3] == "position":
                    target["position"] = moved(stance.position, value, issue.quantity())
                else:
                    target["salience"] = moved(stance.salience, value, SALIENCE)
    if problems:
        raise CaseError(problems)
    changed = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=10_000)
    return load_yaml(changed, file), changed


# libyaml's emitter where PyYAML was built with it (the same output, several times faster)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_PREPARED: OrderedDict[tuple[str, str], tuple[dict[str, Knob], Any]] = OrderedDict()
_PREPARED_LOCK = threading.Lock()
PREPARED_KEPT = 16  # cases whose knobs and YAML mapping are kept between what-ifs


def _prepared(text: str, compiled: CompiledCase, file: str) -> tuple[dict[str, Knob], Any]:
    """The knobs of the case of `text` by key, and a fresh copy of its YAML mapping to change.
    Both depend on the text alone (`compiled` is its compiled case), so a slider moved again on
    the same case reuses them: the knobs' accepted ranges take a search over the formulas'
    bounds, and the mapping a parse of the file."""
    key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), file)
    with _PREPARED_LOCK:
        found = _PREPARED.get(key)
        if found is not None:
            _PREPARED.move_to_end(key)
    if found is None:
        found = ({k.key: k for k in knobs(compiled)}, read_yaml(text, file)[0])
        with _PREPARED_LOCK:
            _PREPARED[key] = found
            while len(_PREPARED) > PREPARED_KEPT:
                _PREPARED.popitem(last=False)
    return found[0], copy.deepcopy(found[1])
