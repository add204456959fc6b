"""Compile a case's crisis section into plain arrays and checked formulas (`compile_crisis`).

Every id a formula or an effect names is checked, with the line it came from (`compiling.py`
checks each formula and effect); the sections are compiled in the order of the file (parameters
and games, dyads, ladder, beliefs, events, calendar, scenarios, questions, pace), so that the
problems are reported in that order.
"""

from __future__ import annotations

import ast
import datetime as dt

from ..case.inputs import InputRef
from ..case.numbers import Quantity, is_share
from ..case.schema import CAPABILITY, SALIENCE, Case, reader_name
from ..case.source import SourceMap
from ..errors import Problem
from .crisis_parts import CrisisCompiler
from .dates import MAX_ROUNDS, round_count, round_dates
from .expr import Formula
from .plan import (
    BUILTIN_NAMES,
    SIGNATURES,
    BeliefPlan,
    CompiledCrisis,
    EffectPlan,
    EventPlan,
    Rule,
)

# where the crisis section's problems are reported
CRISIS: tuple[str | int, ...] = ("crisis",)


def _constant_value(formula: Formula) -> float | None:
    """The value of a formula that is a plain number (possibly signed), or None."""
    node = formula.tree.body
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return sign * float(node.value)
    return None


def compile_crisis(case: Case, source: SourceMap) -> tuple[CompiledCrisis | None, list[Problem]]:
    """The case's crisis section compiled, or the problems found (each at its line)."""
    crisis = case.crisis
    if crisis is None:
        return None, []
    c = CrisisCompiler(case, crisis, source)
    dates = _dates(c)
    if dates is None:
        return None, c.problems
    assert case.as_of is not None  # `_dates` checked it
    names = _parameters(c)
    dyads = _dyads(c)
    ladder = tuple(crisis.ladder)
    for i, ident in enumerate(ladder):
        if ident not in c.event_ids:
            c.problem((*CRISIS, "ladder", i), f"unknown event {ident!r}")
    beliefs = _beliefs(c)
    events = _events(c, names, ladder)
    calendar = _calendar(c, dates)
    scenarios = _scenarios(c, names)
    questions = _questions(c, names, dates)

    from .calibration import DEFAULT_ODDS_FACTOR
    from .pace import DEFAULT_PACE, PaceError, inertia, pace_shares

    pace = DEFAULT_PACE if crisis.pace is None else str(crisis.pace)
    cost = None
    try:
        moved = pace_shares(case.as_of, tuple(dates), pace)
        cost = inertia(pace)
    except PaceError as e:
        c.problem(("crisis", "pace"), str(e))
        moved = ()

    if c.problems:
        return None, c.problems
    return CompiledCrisis(
        dates=tuple(dates),
        dyads=tuple(dyads),
        events=tuple(events),
        beliefs=tuple(beliefs),
        calendar=tuple(calendar),
        scenarios=tuple(scenarios),
        questions=tuple(questions),
        parameters=c.parameters,
        replicates=crisis.replicates,
        ladder=ladder,
        engine=crisis.engine,
        shares=moved,
        pace=pace,
        pace_stated=crisis.pace is not None,
        inertia=cost or 0.0,
        odds_factor=DEFAULT_ODDS_FACTOR if crisis.odds_factor is None else crisis.odds_factor,
        odds_stated=crisis.odds_factor is not None,
    ), []


def _dates(c: CrisisCompiler) -> list[dt.date] | None:
    """The date at the end of each round; None (with the problem) where the case has no as_of or
    horizon, or too many rounds."""
    case, crisis = c.case, c.crisis
    if case.as_of is None or case.horizon is None:
        c.problem((), "a case with a crisis section needs as_of and horizon dates")
        return None
    count = round_count(case.as_of, case.horizon, crisis.step)
    if count > MAX_ROUNDS:
        c.problem(
            ("horizon",),
            f"{case.as_of} to {case.horizon} in steps of a {crisis.step} is {count:,} rounds; "
            f"a crisis may have at most {MAX_ROUNDS:,} (a nearer horizon, or a longer step)",
        )
        return None
    return round_dates(case.as_of, case.horizon, crisis.step)


def _parameters(c: CrisisCompiler) -> set[str]:
    """Check the events' and beliefs' ids and the parameters' names, declare each parameter
    (a share drawn on [0, 1]) and load the fitted games; the names a formula may read."""
    crisis = c.crisis
    base = CRISIS
    for section, ids in (("events", c.event_ids), ("beliefs", c.belief_ids)):
        seen: set[str] = set()
        for i, ident in enumerate(ids):
            if ident in seen:
                c.problem((*base, section, i, "id"), f"duplicate id {ident!r}")
            seen.add(ident)
    for name in crisis.parameters:
        if name in BUILTIN_NAMES or name in SIGNATURES or not name.isidentifier():
            c.problem(
                (*base, "parameters", name),
                f"{name!r} cannot be a parameter name (a built-in, or not an identifier)",
            )
    names = set(crisis.parameters) | BUILTIN_NAMES
    for name, dist in crisis.parameters.items():
        # a parameter is any number; written beta(a, b), or as an interval inside [0, 1], it is a
        # share, drawn on [0, 1] (docs/cases.md, "Uncertain numbers")
        quantity = (
            Quantity(f"parameter {name}", 0.0, 1.0)
            if is_share(dist)
            else Quantity(f"parameter {name}", -1e12, None, signed=True)
        )
        label = crisis.parameter_label(name) or reader_name("", name)  # the case's words
        ref = InputRef(key=name, label=label, attribute="parameter", parameter=name)
        c.add_parameter(ref, dist, quantity)

    if crisis.games:
        from .games import load_games

        c.games = load_games(c, names)
        c.ids["game"] = set(c.games)
    return names


def _dyads(c: CrisisCompiler) -> list[tuple[int, int]]:
    """The dyads, as pairs of actor indices."""
    crisis, base = c.crisis, CRISIS
    dyads: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(crisis.dyads):
        for who in (a, b):
            if who not in c.actors:
                c.problem((*base, "dyads", i), f"unknown actor {who!r}")
        if a == b:
            c.problem((*base, "dyads", i), "a dyad needs two different actors")
        if a in c.actors and b in c.actors:
            dyads.append((c.actors[a], c.actors[b]))
    return dyads


def _beliefs(c: CrisisCompiler) -> list[BeliefPlan]:
    """Each belief: its holder, its prior, and what it changes in how its holder sees the others
    (each a parameter drawn under the belief)."""
    case, crisis, base = c.case, c.crisis, CRISIS
    beliefs: list[BeliefPlan] = []
    for position, belief in enumerate(crisis.beliefs):
        path = (*base, "beliefs", position)
        if belief.holder not in c.actors:
            c.problem((*path, "holder"), f"unknown actor {belief.holder!r}")
            continue
        prior_label = f"beliefs.{belief.id}.prior"
        unit = Quantity("a probability", 0.0, 1.0)
        if (msg := belief.prior.check(unit)) is not None:
            c.problem((*path, "prior"), msg)
        holder_name = c.actor_names[belief.holder]
        belief_name = belief.label or belief.id
        prior_ref = InputRef(
            key=prior_label,
            label=f"{holder_name}'s initial belief: {belief_name}",
            attribute="prior",
            actor=belief.holder,
            belief=belief.id,
        )
        c.add_parameter(prior_ref, belief.prior, unit)
        shifts: list[tuple[int, str, int, str]] = []
        for about, attrs in belief.perception.items():
            if about not in c.actors:
                c.problem((*path, "perception", about), f"unknown actor {about!r}")
                continue
            if about == belief.holder:
                c.problem(
                    (*path, "perception", about),
                    "a belief cannot change how the holder sees itself",
                )
                continue
            j = c.actors[about]
            if attrs.capability is not None:
                label = f"beliefs.{belief.id}.{about}.capability"
                if (msg := attrs.capability.check(CAPABILITY)) is not None:
                    c.problem((*path, "perception", about, "capability"), msg)
                ref = InputRef(
                    key=label,
                    label=f"if {belief_name}: {c.actor_names[about]}'s capability "
                    f"as {holder_name} sees it",
                    attribute="capability",
                    actor=belief.holder,
                    about=about,
                    belief=belief.id,
                )
                c.add_parameter(ref, attrs.capability, CAPABILITY)
                shifts.append((j, "capability", -1, label))
            for issue_id, values in attrs.stances.items():
                if issue_id not in c.issues:
                    c.problem(
                        (*path, "perception", about, "stances", issue_id),
                        f"unknown issue {issue_id!r}",
                    )
                    continue
                k = c.issues[issue_id]
                for attr, dist in values.items():
                    quantity = case.issues[k].quantity() if attr == "position" else SALIENCE
                    if (msg := dist.check(quantity)) is not None:
                        c.problem((*path, "perception", about, "stances", issue_id, attr), msg)
                    label = f"beliefs.{belief.id}.{about}.{issue_id}.{attr}"
                    ref = InputRef(
                        key=label,
                        label=f"if {belief_name}: {c.actor_names[about]}'s {attr} on "
                        f"{c.issue_names[issue_id]} as {holder_name} sees it",
                        attribute=attr,
                        actor=belief.holder,
                        about=about,
                        issue=issue_id,
                        belief=belief.id,
                    )
                    c.add_parameter(ref, dist, quantity)
                    shifts.append((j, attr, k, label))
        beliefs.append(BeliefPlan(belief.id, c.actors[belief.holder], prior_label, tuple(shifts)))
    return beliefs


def _events(c: CrisisCompiler, names: set[str], ladder: tuple[str, ...]) -> list[EventPlan]:
    """Each event: its probability formula (a probability, its parameters drawn on [0, 1]), its
    effects, and its rung on the escalation ladder."""
    crisis, base = c.crisis, CRISIS
    events: list[EventPlan] = []
    for e, spec in enumerate(crisis.events):
        path = (*base, "events", e)
        formula = c.formula(spec.probability, (*path, "probability"), names)
        if formula is not None:
            c.probability_parameters(formula, (*path, "probability"), dict(crisis.parameters))
            value = _constant_value(formula)
            if value is not None and not 0.0 <= value <= 1.0:
                c.problem((*path, "probability"), f"{value:g} is not a probability (0 to 1)")
        effects = [c.effect(eff, (*path, "effects", x)) for x, eff in enumerate(spec.effects)]
        if formula is None or any(x is None for x in effects):
            continue
        rung = ladder.index(spec.id) + 1 if spec.id in ladder else 0
        events.append(
            EventPlan(
                spec.id,
                spec.label,
                formula,
                spec.wildcard,
                spec.once,
                tuple(x for x in effects if x is not None),
                rung,
            )
        )
    return events


def _calendar(c: CrisisCompiler, dates: list[dt.date]) -> list[tuple[int, tuple[EffectPlan, ...]]]:
    """The calendar's effects, each at the round its date falls in."""
    case = c.case
    assert case.as_of is not None
    calendar: list[tuple[int, tuple[EffectPlan, ...]]] = []
    for n, entry in enumerate(case.calendar):
        if not entry.effects:
            continue
        index = next((t for t, day in enumerate(dates) if day >= entry.date), None)
        if index is None or entry.date <= case.as_of:
            c.problem(
                ("calendar", n, "date"),
                f"{entry.date} is outside the case's rounds ({case.as_of} to {case.horizon})",
            )
            continue
        effects = [
            c.effect(eff, ("calendar", n, "effects", x)) for x, eff in enumerate(entry.effects)
        ]
        calendar.append((index, tuple(x for x in effects if x is not None)))
    return calendar


def _scenarios(c: CrisisCompiler, names: set[str]) -> list[Rule]:
    """The scenarios' rules, the last one 'otherwise', so that the scenarios are exhaustive."""
    case = c.case
    scenarios: list[Rule] = []
    for s, scenario in enumerate(case.scenarios):
        path = ("scenarios", s, "when")
        if scenario.when is None:
            c.problem(("scenarios", s), "a scenario of a crisis case needs a `when` rule")
            continue
        if str(scenario.when).strip() == "otherwise":
            if s != len(case.scenarios) - 1:
                c.problem(path, "'otherwise' must be the last scenario's rule")
            scenarios.append(Rule(scenario.id, None))
            continue
        formula = c.formula(scenario.when, path, names)
        if formula is not None:
            scenarios.append(Rule(scenario.id, formula))
    if case.scenarios and (
        case.scenarios[-1].when is None or str(case.scenarios[-1].when).strip() != "otherwise"
    ):
        c.problem(
            ("scenarios", len(case.scenarios) - 1, "when"),
            "the last scenario's rule must be 'otherwise', so that the scenarios are exhaustive",
        )
    return scenarios


def _questions(c: CrisisCompiler, names: set[str], dates: list[dt.date]) -> list[tuple[Rule, int]]:
    """The questions' rules (binary), each with the round it resolves at."""
    case = c.case
    assert case.as_of is not None and case.horizon is not None
    questions: list[tuple[Rule, int]] = []
    for q, question in enumerate(case.questions):
        path = ("questions", q, "when")
        if question.when is None:
            c.problem(
                ("questions", q), "a question of a crisis case needs a `when` rule (true means yes)"
            )
            continue
        if question.outcomes != ["yes", "no"]:
            c.problem(
                ("questions", q, "outcomes"), "crisis questions are binary: outcomes [yes, no]"
            )
            continue
        resolves = question.resolves or case.horizon
        if not case.as_of < resolves <= case.horizon:
            c.problem(
                ("questions", q, "resolves"),
                f"{resolves} is outside the case ({case.as_of} to {case.horizon})",
            )
            continue
        index = next(t for t, day in enumerate(dates) if day >= resolves)
        formula = c.formula(question.when, path, names)
        if formula is not None:
            questions.append((Rule(question.id, formula), index))
    return questions
