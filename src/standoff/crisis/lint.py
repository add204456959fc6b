"""Warnings a case's author needs and a schema cannot give: a model-derived term of a formula
(`sees`, `eu`, `threat`, `prevails`, `gap`, `position`) that is constant across a pilot run
of draws is dead — the bargaining model does not move that formula — and the author should know.
"""

from __future__ import annotations

import ast

from ..case.yamlread import Path as KeyPath
from ..compile import CompiledCase
from ..errors import Problem
from ..run.executor import Block
from ..run.tasks import RecordTerms
from .expr import Formula
from .simulate import MODEL_TERMS

PILOT_DRAWS = 256
PILOT_SEED = 0
CONSTANT = 1e-9


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


def _terms(formula: Formula) -> list[tuple[str, tuple[str, ...]]]:
    """The model-derived calls of a formula: (text as written, key as the probe records it)."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for node in ast.walk(formula.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in MODEL_TERMS
            and all(isinstance(a, ast.Constant) for a in node.args)
        ):
            args = tuple(str(a.value) for a in node.args if isinstance(a, ast.Constant))
            found.append((ast.unparse(node), (node.func.id, *args)))
    return found


def dead_terms(
    compiled: CompiledCase, draws: int = PILOT_DRAWS, seed: int = PILOT_SEED
) -> list[Problem]:
    """A warning for each model-derived term that is constant across a pilot run.

    The pilot is a simulation like any other: a formula whose value leaves its range in it (an
    event's probability outside [0, 1], a division by zero) raises CaseError with the problem at
    the formula's line, which `standoff check` reports as an error (exit 2)."""
    plan = compiled.crisis
    if plan is None:
        return []
    ranges = {  # the pilot is the forecast's own block task, on one block
        key: (low, high)
        for key, (_, _, low, high) in RecordTerms(compiled, seed)(Block(0, draws)).items()
    }
    problems: list[Problem] = []
    for path, formula in formulas(compiled):
        for text, key in _terms(formula):
            if key not in ranges:
                continue
            low, high = ranges[key]
            if high - low <= CONSTANT:
                problems.append(
                    compiled.source.problem(
                        path,
                        f"warning: {text} is {low:.3g} in every round of a pilot run of {draws} "
                        "draws: the bargaining model does not move this term (check the actors' "
                        "positions, saliences and capabilities, or drop it)",
                    )
                )
    return problems
