"""Warnings a case's author needs and a schema cannot give: a model-derived term of a formula
(`sees`, `eu`, `threat`, `prevails`, `gap`, `position`, `game`) that is constant across a pilot
run of draws is dead — the model does not move that formula — and one that stops changing after
the first rounds in most draws is at rest — an event's formula gets from it only what the first
rounds give — and the author should know. A fitted game is watched for rest when its covariates
read the bargaining model's terms (it is then meant to follow the bargaining); one whose
covariates are parameters, numbers and the like is fixed in each draw by design.

Before any draw, each formula is read for what it says that its author may not mean
(`formula_warnings`, with `bounds`): an event's probability whose range leaves [0, 1], within its
inputs' ranges as written or only in the tails of its parameters' draws, a clamp (`min(1, ...)`)
that decides a probability over most of its range, and `since(e)` read where e has not happened
(10,000) by a formula that never says what that means. These are warnings: the range is an upper
bound, which interval arithmetic can overstate; the pilot run and the forecast refuse a value that
does leave [0, 1].
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..case.yamlread import Path as KeyPath
from ..compile import CompiledCase
from ..compile.expr import Formula, _constant
from ..compile.plan import NEVER
from ..errors import Problem
from ..run.executor import Block
from ..simulate.crisis import MODEL_TERMS, Probe, term_key, term_text
from .bounds import (
    Excess,
    Ranges,
    Saturation,
    probability_excess,
    saturated_clamps,
    unguarded_since,
    written,
)
from .tasks import SimulateCrisis

PILOT_DRAWS = 256
PILOT_SEED = 0
CONSTANT = 1e-9
# A term is at rest in a draw from round r when, from round r on while the draw's crisis runs,
# its value changes from one round to the next by less than REST of its range in the pilot.
REST = 1e-6
# An event's term at rest from one of the first FIRST_ROUNDS rounds in at least MOST of the pilot
# draws still running after them is named: the calendar's later rounds get nothing new from it.
# Three rounds leave the bargaining time to settle from its start; nine draws in ten is most.
FIRST_ROUNDS = 3
MOST = 0.9

Key = tuple[str, ...]


class RoundProbe(Probe):
    """A `Probe` that also keeps each term's value in every draw at its first evaluation in each
    round (by round index): the value the round's first formula to read it got."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[Key, dict[int, NDArray[np.float64]]] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        recorded, upto = super().wrap(name, fn), self.round

        def kept(*args: Any) -> Any:
            value = recorded(*args)
            by_round = self.first.setdefault(term_key(name, args), {})
            if upto not in by_round:
                by_round[upto] = np.array(value, dtype=np.float64)  # a copy: positions move
            return value

        return kept


def formulas(compiled: CompiledCase) -> list[tuple[KeyPath, Formula]]:
    """Every compiled formula of the crisis with the path of the field it was written in."""
    plan, case = compiled.crisis, compiled.case
    if plan is None or case.crisis is None:
        return []
    event_index = {e.id: n for n, e in enumerate(case.crisis.events)}
    out: list[tuple[KeyPath, Formula]] = []
    for event in plan.events:
        out.append((("crisis", "events", event_index[event.id], "probability"), event.probability))
    scenario_index = {s.id: n for n, s in enumerate(case.scenarios)}
    for rule in plan.scenarios:
        if rule.formula is not None:
            out.append((("scenarios", scenario_index[rule.id], "when"), rule.formula))
    question_index = {q.id: n for n, q in enumerate(case.questions)}
    for rule, _ in plan.questions:
        if rule.formula is not None:
            out.append((("questions", question_index[rule.id], "when"), rule.formula))
    return out


def _model_calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    """The calls of model-derived terms in a syntax tree, with the function's name."""
    return [
        (node.func.id, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in MODEL_TERMS
    ]


def _terms(formula: Formula) -> list[tuple[str, tuple[str, ...], bool]]:
    """The model-derived calls the formula writes: (text as written, key as the probe records
    it, whether it is watched for rest: a bargaining term always, a game when its covariates read
    a bargaining term). The terms of a game's covariates are the game's: it stands for them."""
    calls = _model_calls(formula.tree)
    covariates = {id(node): _model_calls(node.args[-1]) for name, node in calls if name == "game"}
    inside = {id(node) for terms in covariates.values() for _, node in terms}
    found: list[tuple[str, tuple[str, ...], bool]] = []
    for name, node in calls:
        if id(node) in inside:
            continue
        ids = [a.value for a in node.args if isinstance(a, ast.Constant)]
        key = term_key(name, tuple(ids))
        found.append((term_text(key), key, bool(covariates.get(id(node), True))))
    return found


def dead_terms(
    compiled: CompiledCase, draws: int = PILOT_DRAWS, seed: int = PILOT_SEED
) -> list[Problem]:
    """The warnings of `standoff check` on a crisis case, in the file's order: those of
    `formula_warnings`, and one for each model-derived term that is constant across a pilot run
    or at rest after its first rounds.

    The pilot is a simulation like any other: a formula whose value leaves its range in it (an
    event's probability outside [0, 1], a division by zero) raises CaseError with the problem at
    the formula's line, which `standoff check` reports as an error (exit 2)."""
    plan = compiled.crisis
    if plan is None:
        return []
    probe = RoundProbe()  # the pilot is the forecast's own block task, on one block
    ended = SimulateCrisis(compiled, seed).simulate(Block(0, draws), probe).ended
    problems = formula_warnings(compiled)
    for path, formula in formulas(compiled):
        for text, key, moves in _terms(formula):
            if key not in probe.ranges:
                continue
            low, high = probe.ranges[key]
            if high - low <= CONSTANT:
                why = (
                    "neither its covariates nor its coefficients vary, so the game is a constant "
                    "(give it covariates that vary, draw its coefficients with uncertainty: true, "
                    "or write the number)"
                    if key[0] == "game"
                    else "the bargaining model does not move this term (check the actors' "
                    "positions, saliences and capabilities, or drop it)"
                )
                problems.append(
                    compiled.source.problem(
                        path,
                        f"warning: {text} is {low:.3g} in every round of a pilot run of {draws} "
                        f"draws: {why}",
                    )
                )
                continue
            rest = at_rest(probe.first[key], ended, plan.rounds, high - low) if moves else None
            if rest is not None and path[:2] == ("crisis", "events"):
                since, share, judged = rest
                problems.append(
                    compiled.source.problem(
                        path,
                        f"warning: {text} is at rest from round {since} in {share:.0%} of the "
                        f"{judged} pilot draws still running after round {FIRST_ROUNDS}: the "
                        "formulas that read it act only in the first rounds (from then on it "
                        f"changes by less than {REST:g} of its range from one round to the next)",
                    )
                )
    return sorted(problems, key=lambda problem: problem.line)  # in the file's order


def at_rest(
    values: dict[int, NDArray[np.float64]],
    ended: NDArray[np.int64],
    rounds: int,
    spread: float,
) -> tuple[int, float, int] | None:
    """Whether a term stops changing after the first rounds in most draws: (r, share, draws),
    the earliest round r up to FIRST_ROUNDS from which it is at rest (REST of `spread`, its
    range) in at least MOST of the draws still running after round FIRST_ROUNDS, that share and
    the number of those draws; None when it is not, or when it cannot be judged (a calendar of
    FIRST_ROUNDS rounds or fewer, a term not read every round, no draw running that long).

    `values`: per round index, the term's value in each draw; `ended`: per draw, the round index
    in which its crisis ended (the calendar's length when it ran to the end)."""
    if rounds <= FIRST_ROUNDS or len(values) < rounds:
        return None
    series = np.stack([values[t] for t in range(rounds)])  # (T, D)
    running = np.arange(rounds)[:, None] <= ended[None, :]  # (T, D)
    # moved[s]: the value changed from round s + 1 to round s + 2 (1-based), the draw running
    moved = (np.abs(np.diff(series, axis=0)) >= REST * spread) & running[1:]
    steps = np.arange(1, rounds)[:, None]  # moved[s] brings the value to rest at round s + 2
    since = np.where(moved, steps + 1, 1).max(axis=0)  # (D,): at rest from this round on
    judged = ended >= FIRST_ROUNDS  # still running in round FIRST_ROUNDS + 1
    count = int(judged.sum())
    if count == 0:
        return None
    for r in range(1, FIRST_ROUNDS + 1):
        share = float(np.mean(since[judged] <= r))
        if share >= MOST:
            return r, share, count
    return None


def formula_warnings(compiled: CompiledCase) -> list[Problem]:
    """What the formulas of a crisis say that their author may not mean, found before any draw
    (`bounds`), each at the line of the formula, or of the term at fault."""
    if compiled.crisis is None or compiled.case.crisis is None:
        return []
    ranges = Ranges(compiled)
    events = compiled.case.crisis.events
    warnings: list[Problem] = []
    for path, formula in formulas(compiled):
        file, line, name = formula.origin or (compiled.source.file, 1, "formula")
        if path[:2] == ("crisis", "events"):
            event = events[int(path[2])].id
            excess = probability_excess(formula, ranges, stated=True)
            stated = excess is not None
            if excess is None:
                excess = probability_excess(formula, ranges)
            if excess is not None:
                message = _excess(event, excess, ranges, stated)
                warnings.append(Problem(file, line, name, message))
            for clamp in saturated_clamps(formula, ranges):
                at = formula.line_of(clamp.node)
                warnings.append(Problem(file, at, name, _saturation(clamp, ranges)))
        for call in unguarded_since(formula, ranges):
            warnings.append(Problem(file, formula.line_of(call), name, _since(call, formula)))
    return warnings


def _excess(event: str, excess: Excess, ranges: Ranges, stated: bool) -> str:
    span = excess.span
    value = span.high if span.high - 1.0 >= -span.low else span.low
    when = ""
    if excess.round is not None:
        when = f" in round {excess.round + 1} (ending {ranges.plan.dates[excess.round]})"
    inputs = "; ".join(item.describe for item in excess.inputs)
    cause = f": {inputs}" if inputs else ": its terms together take it there"
    head = f"warning: the probability of event {event!r} can be {value:.3g}{when}, outside 0 to 1"
    if stated:
        return (
            f"{head}, with its parameters within their intervals as written, and a forecast stops "
            f"with an error wherever it is{cause}; say what happens there (min(1, ...), "
            "max(0, ...)) or narrow those inputs"
        )
    return (
        f"{head}, in the tails of its parameters' draws (as far as one in a million at each "
        f"end), and a long forecast stops with an error there{cause}; say what happens there "
        "(min(1, ...), max(0, ...)), or give a rate a form that stays in [0, 1] "
        "(an interval inside [0, 1] such as 0.4 to 0.8, beta(a, b), uniform(a, b))"
    )


def _saturation(clamp: Saturation, ranges: Ranges) -> str:
    node = clamp.node
    assert isinstance(node.func, ast.Name)
    shown = ", ".join(
        f"{value:g}" if (value := _constant(arg)) is not None else "..." for arg in node.args
    )
    text = f"{node.func.id}({shown})"
    message = (
        f"warning: {text} is {clamp.limit:g} over most of its range: with its parameters at their "
        f"medians what it clamps reaches {clamp.reach:.3g}, so the clamp, not the inputs inside "
        "it, decides this probability"
    )
    for name in clamp.parameters:
        dist = ranges.plan.parameters[name].dist
        message += f"; parameter {name} ({ranges.written[name]}) is above {clamp.limit:g}"
        if dist.kind in ("fixed", "range") and all(1 < v <= 100 for v in dist.params):
            scaled = " to ".join(f"{v / 100:g}" for v in dist.params)
            message += f": written as a percentage? did you mean {scaled}?"
    return message + " (a rate is written from 0 to 1)"


def _since(call: ast.Call, formula: Formula) -> str:
    event = call.args[0].value if isinstance(call.args[0], ast.Constant) else "?"
    text = written(formula, call)
    reads = f"the formula reads {NEVER:,} before any {event!r}"
    test = text
    for node in ast.walk(formula.tree):
        if isinstance(node, ast.Compare) and any(
            part is call for part in (node.left, *node.comparators)
        ):
            test = written(formula, node)
            reads = f"{test} holds before any {event!r}"
    return (
        f"warning: {text} is {NEVER:,} while {event!r} has not happened, so {reads}; say which "
        f"is meant: happened({event!r}) * ({test}) if {event!r} must come first, "
        f"((not happened({event!r})) or {test}) if none at all counts"
    )
