"""A crisis section being compiled (`CrisisCompiler`): the case's ids, the parameters declared
so far, the problems found (each at its line), and the checks of a formula (its ids, its dates,
the parameters it uses as probabilities) and of an effect (its fields, ids and amounts)."""

from __future__ import annotations

import ast
import datetime as dt
from typing import TYPE_CHECKING

from ..case.crisis_schema import EFFECT_FIELDS, Crisis, Effect
from ..case.inputs import InputRef, Parameter
from ..case.numbers import Dist, Quantity
from ..case.schema import CAPABILITY, SALIENCE, Case
from ..case.source import SourceMap
from ..case.yamlread import dotted
from ..errors import Problem
from .expr import Formula, FormulaError, compile_formula
from .formula_text import fault_line, text_lines, written_as_truth
from .plan import AMOUNT_WORDS, INTERACTION_CODES, SIGNATURES, EffectPlan

if TYPE_CHECKING:
    from .games import CaseGame


class CrisisCompiler:
    """A crisis section being compiled: the case's ids, the parameters declared so far, the
    problems found (each at its line), and the checks of a formula and of an effect."""

    def __init__(self, case: Case, crisis: Crisis, source: SourceMap):
        self.case, self.crisis, self.source = case, crisis, source
        self.problems: list[Problem] = []
        self.actors = {a.id: n for n, a in enumerate(case.actors)}
        self.issues = {i.id: k for k, i in enumerate(case.issues)}
        self.actor_names = {a.id: a.name or a.id for a in case.actors}
        self.issue_names = {i.id: i.label or i.id for i in case.issues}
        self.event_ids = [e.id for e in crisis.events]
        self.belief_ids = [b.id for b in crisis.beliefs]
        self.parameters: dict[str, Parameter] = {}
        self.ids = {
            "actor": set(self.actors),
            "issue": set(self.issues),
            "event": set(self.event_ids),
            "belief": set(self.belief_ids),
            "interaction": set(INTERACTION_CODES),
            "date": None,
            "game": set(),
            "outcome": None,  # checked when game() is compiled (standoff.compile.games)
        }
        self.games: dict[str, CaseGame] = {}  # fitted games the formulas read

    def problem(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(self.source.problem(path, message))

    def add_parameter(self, ref: InputRef, dist: Dist, quantity: Quantity) -> None:
        self.parameters[ref.key] = Parameter(ref, dist, quantity)

    def effect_ref(self, effect: Effect, path: tuple[str | int, ...], amount: str) -> InputRef:
        """The input behind one amount of an effect, labelled by its event or calendar entry."""
        key = _label(path) + f".{amount}"
        actor = self.actor_names.get(effect.actor or "", effect.actor)
        issue = self.issue_names.get(effect.issue or "", effect.issue)
        beliefs = {b.id: b.label or b.id for b in self.crisis.beliefs}
        what = {
            "shift": f"{actor}'s position on {issue}",
            "salience": f"{actor}'s salience of {issue}",
            "capability": f"{actor}'s capability",
            "belief": f"the belief '{beliefs.get(effect.belief or '', effect.belief)}'",
        }.get(effect.do, effect.do)
        if path[0] == "calendar" and isinstance(path[1], int):
            entry = self.case.calendar[path[1]]
            owner = entry.label or entry.id
            where = {"calendar": entry.id}
        else:
            spec = self.crisis.events[int(path[2])]
            owner = spec.label or spec.id
            where = {"event": spec.id}
        return InputRef(
            key=key,
            label=f"effect of '{owner}' on {what}: {AMOUNT_WORDS.get(amount, amount)}",
            attribute=amount,
            actor=effect.actor,
            issue=effect.issue,
            belief=effect.belief,
            effect=int(path[-1]),
            **where,
        )

    def formula(
        self, text: str | float, path: tuple[str | int, ...], names: set[str]
    ) -> Formula | None:
        if isinstance(text, bool) or (
            isinstance(text, float) and written_as_truth(self.source, path)
        ):
            self.problem(path, "a truth value (true/false) is not a number or a formula")
            return None
        try:
            formula = compile_formula(text, names, SIGNATURES, self.ids)
            if self.games:
                from .games import expand

                expand(formula, self.games)
        except FormulaError as err:
            line = fault_line(self.source, path, str(text), err)
            self.problems.append(Problem(self.source.file, line, dotted(path), str(err)))
            return None
        formula.origin = (self.source.file, self.source.line(path), dotted(path))
        formula.lines = tuple(text_lines(self.source, path, formula.text))
        as_of, horizon = self.case.as_of, self.case.horizon
        for node in _date_args(formula):
            try:
                day = dt.date.fromisoformat(node)
            except ValueError:
                self.problem(path, f"{node!r} is not a date (YYYY-MM-DD)")
                continue
            if as_of is not None and horizon is not None and not as_of <= day <= horizon:
                self.problem(
                    path,
                    f"the date {node} is outside the case ({as_of} to {horizon}): "
                    "after() and before() of it would never change",
                )
        return formula

    def probability_parameters(
        self, formula: Formula, path: tuple[str | int, ...], parameters: dict[str, Dist]
    ) -> None:
        """A parameter used as a whole probability or as a direct factor of one is a probability:
        its interval must lie in [0, 1] (else a problem), and it is drawn on [0, 1] (its quantity
        becomes a probability, so that its draws are clipped to [0, 1] as a salience's are, and
        `A to B` is normal rather than lognormal: docs/cases.md, "Uncertain numbers")."""
        for name in _factors(formula.tree.body):
            dist = parameters.get(name)
            if dist is None:
                continue
            low, high = dist.support()
            if low < 0 or high > 1:
                self.problem(
                    path,
                    f"parameter {name} ({dist}) is used as a probability, or as a factor of one, "
                    f"but its values leave [0, 1] (from {low:g} to {high:g})",
                )
            elif name in self.parameters:
                ref = self.parameters[name].ref
                self.parameters[name] = Parameter(ref, dist, Quantity("a probability", 0.0, 1.0))

    def effect(self, effect: Effect, path: tuple[str | int, ...]) -> EffectPlan | None:
        required, optional = EFFECT_FIELDS[effect.do]
        given = {
            name
            for name in Effect.model_fields
            if name != "do" and getattr(effect, name) is not None
        }
        missing = required - given
        extra = given - required - optional
        if missing:
            self.problem(path, f"'do: {effect.do}' needs {', '.join(sorted(missing))}")
            return None
        if extra:
            self.problem(path, f"'do: {effect.do}' does not take {', '.join(sorted(extra))}")
            return None
        amounts_given = given & optional
        if effect.do in ("salience", "capability") and len(amounts_given) != 1:
            self.problem(path, f"'do: {effect.do}' needs exactly one of add, scale, set")
            return None
        if effect.do == "shift":
            ok = amounts_given in ({"by"}, {"to"}, {"toward", "fraction"})
            if not ok:
                self.problem(
                    path, "'do: shift' needs `by`, or `to`, or both `toward` and `fraction`"
                )
                return None
        plan_kwargs: dict[str, object] = {}
        for name, ids, key in (
            ("actor", self.actors, "actor"),
            ("toward", self.actors, "toward"),
            ("issue", self.issues, "issue"),
        ):
            value = getattr(effect, name)
            if value is not None:
                if value not in ids:
                    self.problem(
                        (*path, name), f"unknown {'actor' if key != 'issue' else 'issue'} {value!r}"
                    )
                    return None
                plan_kwargs[key] = ids[value]
        if effect.belief is not None:
            if effect.belief not in self.belief_ids:
                self.problem((*path, "belief"), f"unknown belief {effect.belief!r}")
                return None
            plan_kwargs["belief"] = self.belief_ids.index(effect.belief)
        amounts: dict[str, str] = {}
        for name in ("by", "to", "fraction", "add", "scale", "set", "ratio"):
            dist = getattr(effect, name)
            if dist is None:
                continue
            quantity = self._amount_quantity(effect, name)
            if (msg := dist.check(quantity)) is not None:
                self.problem((*path, name), msg)
                return None
            ref = self.effect_ref(effect, path, name)
            self.add_parameter(ref, dist, quantity)
            amounts[name] = ref.key
        return EffectPlan(kind=effect.do, amounts=amounts, **plan_kwargs)  # type: ignore[arg-type]

    def _amount_quantity(self, effect: Effect, name: str) -> Quantity:
        if name == "fraction":
            return Quantity("a fraction", 0.0, 1.0)
        if name in ("ratio", "scale"):
            return Quantity(name, 0.0, None)
        if effect.do == "shift" and name == "to" and effect.issue in self.issues:
            return self.case.issues[self.issues[effect.issue]].quantity()
        if effect.do == "shift":
            issue = (
                self.case.issues[self.issues[effect.issue]] if effect.issue in self.issues else None
            )
            width = issue.range[1] - issue.range[0] if issue else 100.0
            return Quantity("a shift", -width, width, signed=True)
        if effect.do == "salience":
            change = Quantity("a salience change", -1.0, 1.0, signed=True)
            return SALIENCE if name == "set" else change
        change = Quantity("a capability change", -1e12, None, signed=True)
        return CAPABILITY if name == "set" else change


def _label(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _factors(node: ast.AST) -> list[str]:
    """The parameter names that are a formula's whole value or direct factors of its product."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return []


def _date_args(formula: Formula) -> list[str]:
    out: list[str] = []
    for node in ast.walk(formula.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("after", "before")
        ):
            out.extend(
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return out
