"""Compile a case's crisis section into plain arrays and checked formulas.

The compiled crisis knows the rounds and their dates, the dyads, every event's probability formula
and effects, the beliefs, the calendar's effects, and the scenario and question rules. Every id a
formula or an effect names is checked here, with the line it came from.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..bargaining.interactions import Interaction
from ..case.crisis_schema import EFFECT_FIELDS, Crisis, Effect
from ..case.inputs import InputRef, Parameter
from ..case.numbers import Dist, Quantity, is_share
from ..case.schema import CAPABILITY, SALIENCE, Case, reader_name
from ..case.source import SourceMap
from ..case.yamlread import dotted
from ..errors import Problem
from .expr import Formula, FormulaError, Signature, compile_formula, offset_of

if TYPE_CHECKING:
    from ..games.incase import CaseGame

STEP_DAYS = {"week": 7}
STEP_MONTHS = {"month": 1, "quarter": 3}

# Interaction names a formula may ask about with sees(i, j, NAME), and the EUM codes behind each
# (standoff.bargaining.interactions: codes from i's perspective of the ordered pair (i, j)).
INTERACTION_CODES: dict[str, tuple[Interaction, ...]] = {
    "conflict": (Interaction.CONFLICT_WIN, Interaction.CONFLICT_LOSS),
    "conflict_win": (Interaction.CONFLICT_WIN,),
    "conflict_loss": (Interaction.CONFLICT_LOSS,),
    "compromise": (Interaction.COMPROMISE_UPPER, Interaction.COMPROMISE_LOWER),
    "compromise_upper": (Interaction.COMPROMISE_UPPER,),
    "compromise_lower": (Interaction.COMPROMISE_LOWER,),
    "compel": (Interaction.COMPEL,),
    "capitulation": (Interaction.CAPITULATE,),
    "stalemate": (Interaction.STALEMATE,),
    "agreement": (Interaction.NONE,),  # the two hold the same position: nothing to contest
}

SIGNATURES: dict[str, Signature] = {
    "happened": Signature(("event",)),
    "count": Signature(("event",)),
    "since": Signature(("event",)),
    "now": Signature(("event",)),
    "last": Signature(("event",)),
    # the bargaining model's view of a dyad, over i's issues weighted by i's salience, or on one
    # issue when it is named (docs/model.md, "Formulas")
    "sees": Signature(("actor", "actor", "interaction", "issue"), optional=1),
    "eu": Signature(("actor", "actor", "issue"), optional=1),
    "threat": Signature(("actor", "actor", "issue"), optional=1),
    "prevails": Signature(("actor", "actor", "issue"), optional=1),
    "gap": Signature(("actor", "actor", "issue"), optional=1),
    "position": Signature(("actor", "issue")),
    "salience": Signature(("actor", "issue")),
    "capability": Signature(("actor",)),
    "belief": Signature(("belief",)),
    "after": Signature(("date",)),
    "before": Signature(("date",)),
    # a fitted crisis game's probability of an outcome (standoff.games.incase, docs/games.md)
    "game": Signature(("game", "actor", "actor", "outcome")),
}
BUILTIN_NAMES = {"round", "rounds", "rung"}
# an effect's amounts in a reader's words (its inputs' labels)
AMOUNT_WORDS = {"by": "shift", "to": "new position", "fraction": "share of the way",
                "add": "amount added", "scale": "factor", "set": "new value",
                "ratio": "likelihood ratio"}  # fmt: skip
NEVER = 10_000  # rounds since an event that never happened
MAX_ROUNDS = 1_000  # the most rounds a crisis may have (as_of to horizon in steps)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months; a day past the target month's end becomes its last.

    >>> add_months(dt.date(2018, 8, 15), 3)
    datetime.date(2018, 11, 15)
    >>> add_months(dt.date(2019, 1, 31), 1), add_months(dt.date(2020, 1, 31), 1)
    (datetime.date(2019, 2, 28), datetime.date(2020, 2, 29))
    >>> add_months(dt.date(2018, 11, 30), 3)
    datetime.date(2019, 2, 28)
    """
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError(f"{day} + {months} months is past the last date, 9999-12-31")
    for d in range(day.day, 0, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(f"no day of {year}-{month:02d}")  # pragma: no cover (day 1 always exists)


def round_count(as_of: dt.date, horizon: dt.date, step: str) -> int:
    """How many rounds as_of to horizon makes, without listing them (a bound on the work).

    >>> round_count(dt.date(2018, 8, 15), dt.date(2018, 12, 31), "month")
    5
    >>> round_count(dt.date(2018, 1, 1), dt.date(9999, 12, 31), "week")
    416481
    """
    if horizon <= as_of:
        return 1
    if step in STEP_DAYS:
        return -(-(horizon - as_of).days // STEP_DAYS[step])
    months = (horizon.year - as_of.year) * 12 + horizon.month - as_of.month
    months += 1 if horizon.day > as_of.day else 0
    return max(1, -(-months // STEP_MONTHS[step]))


def round_dates(as_of: dt.date, horizon: dt.date, step: str) -> list[dt.date]:
    """The date at the end of each round: as_of + t steps, up to and including the horizon.

    A horizon between two steps ends a last, shorter round:

    >>> round_dates(dt.date(2018, 8, 15), dt.date(2018, 12, 31), "month")
    [datetime.date(2018, 9, 15), datetime.date(2018, 10, 15), datetime.date(2018, 11, 15),
     datetime.date(2018, 12, 15), datetime.date(2018, 12, 31)]
    >>> round_dates(dt.date(2018, 1, 31), dt.date(2018, 7, 31), "quarter")
    [datetime.date(2018, 4, 30), datetime.date(2018, 7, 31)]
    >>> round_dates(dt.date(2018, 1, 1), dt.date(2018, 1, 15), "week")
    [datetime.date(2018, 1, 8), datetime.date(2018, 1, 15)]
    """
    dates: list[dt.date] = []
    t = 1
    while True:
        try:
            if step in STEP_DAYS:
                day = as_of + dt.timedelta(days=STEP_DAYS[step] * t)
            else:
                day = add_months(as_of, STEP_MONTHS[step] * t)
        except OverflowError:  # past 9999-12-31: past any horizon
            day = dt.date.max
        if day > horizon or day == dt.date.max:
            if not dates or dates[-1] < horizon:
                dates.append(horizon)
            return dates
        dates.append(day)
        t += 1


@dataclass(frozen=True)
class EffectPlan:
    """An effect with its ids resolved to indices and its amounts named as draw parameters."""

    kind: str
    actor: int = -1
    issue: int = -1
    belief: int = -1
    toward: int = -1
    amounts: dict[str, str] = field(default_factory=dict)  # field -> parameter name


@dataclass(frozen=True)
class EventPlan:
    id: str
    label: str
    probability: Formula
    wildcard: bool
    once: bool
    effects: tuple[EffectPlan, ...]
    rung: int  # position on the escalation ladder, 0 when not on it


@dataclass(frozen=True)
class BeliefPlan:
    id: str
    holder: int
    prior: str  # parameter name
    # (target actor, attribute, issue or -1, parameter name of the value under the hypothesis)
    shifts: tuple[tuple[int, str, int, str], ...]


@dataclass(frozen=True)
class Rule:
    id: str
    formula: Formula | None  # None: "otherwise"


@dataclass(frozen=True)
class CompiledCrisis:
    dates: tuple[dt.date, ...]
    dyads: tuple[tuple[int, int], ...]
    events: tuple[EventPlan, ...]
    beliefs: tuple[BeliefPlan, ...]
    calendar: tuple[tuple[int, tuple[EffectPlan, ...]], ...]  # (round index, effects)
    scenarios: tuple[Rule, ...]
    questions: tuple[tuple[Rule, int], ...]  # (rule, resolution round: history up to it)
    parameters: dict[str, Parameter]  # every sampled number the crisis needs, by key
    replicates: int
    ladder: tuple[str, ...]
    engine: str = "eum"  # the bargaining engine that drives the dyads
    # per round, the share of the way to the engine's new positions the actors move (pace.py)
    shares: tuple[float, ...] = ()
    pace: str = "engine"  # the pace as read (the case's, or the default)
    pace_stated: bool = False  # whether the case states its pace
    odds_factor: float = 1.0  # every event's odds per round multiplied by this (calibration.py)
    odds_stated: bool = False  # whether the case states its odds factor

    @property
    def rounds(self) -> int:
        return len(self.dates)


class _Compiler:
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
            "outcome": None,  # checked when game() is compiled (standoff.games.incase)
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
            isinstance(text, float) and _written_as_truth(self.source, path)
        ):
            self.problem(path, "a truth value (true/false) is not a number or a formula")
            return None
        try:
            formula = compile_formula(text, names, SIGNATURES, self.ids)
            if self.games:
                from ..games.incase import expand

                expand(formula, self.games)
        except FormulaError as err:
            line = _fault_line(self.source, path, str(text), err)
            self.problems.append(Problem(self.source.file, line, dotted(path), str(err)))
            return None
        formula.origin = (self.source.file, self.source.line(path), dotted(path))
        formula.lines = tuple(_text_lines(self.source, path, formula.text))
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


def _written_as_truth(source: SourceMap, path: tuple[str | int, ...]) -> bool:
    """Whether the field's value is written as a YAML truth value (true, false, yes, no, on, off),
    which the schema would read as the number 1 or 0."""
    if source.raw is None or not path:
        return False
    try:
        row = source.raw.decode().splitlines()[source.line(path) - 1]
    except (UnicodeDecodeError, IndexError):
        return False
    key = re.escape(str(path[-1]))
    return (
        re.search(rf"\b{key}\s*:\s*(true|false|yes|no|on|off)\s*(?:[,}}#]|$)", row, re.I)
        is not None
    )


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


def _factors(node: ast.AST) -> list[str]:
    """The parameter names that are a formula's whole value or direct factors of its product."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _factors(node.left) + _factors(node.right)
    return []


def _fault_line(
    source: SourceMap, path: tuple[str | int, ...], text: str, err: FormulaError
) -> int:
    """The line of the file where a formula's fault is (see `_text_lines`)."""
    line = source.line(path)
    offset = offset_of(str(text).strip(), err.node)
    if offset is None:
        return line
    found = line
    for start, number in _text_lines(source, path, str(text).strip()):
        if start > offset:
            break
        found = number
    return found


def _text_lines(
    source: SourceMap, path: tuple[str | int, ...], formula: str
) -> list[tuple[int, int]]:
    """Where each line of the file that holds part of a formula starts in the formula's text:
    (offset, line). The field's own line, and when the formula runs over several lines (a YAML
    block or a long quoted scalar) each line of the file after the field, matched in turn to the
    part of the formula text it holds (folding joins them with spaces)."""
    line = source.line(path)
    out = [(0, line)]
    if source.raw is None:
        return out
    try:
        lines = source.raw.decode().splitlines()
    except UnicodeDecodeError:
        return out
    if not 1 <= line <= len(lines):
        return out
    first = lines[line - 1]
    indent = len(first) - len(first.lstrip())
    _key, sep, rest = first.partition(":")
    candidates = [(line, rest if sep else first)]
    for n in range(line, min(len(lines), line + 200)):
        row = lines[n]
        if row.strip() and len(row) - len(row.lstrip()) <= indent:
            break
        candidates.append((n + 1, row))
    position = 0
    for number, row in candidates:
        piece = row.strip().strip("'\">|-+").strip()
        if not piece:
            continue
        at = formula.find(piece, position)
        if at < 0:
            continue
        out.append((at, number))
        position = at + len(piece)
    return out


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


def compile_crisis(case: Case, source: SourceMap) -> tuple[CompiledCrisis | None, list[Problem]]:
    """The case's crisis section compiled, or the problems found (each at its line)."""
    crisis = case.crisis
    if crisis is None:
        return None, []
    c = _Compiler(case, crisis, source)
    base: tuple[str | int, ...] = ("crisis",)
    if case.as_of is None or case.horizon is None:
        c.problem((), "a case with a crisis section needs as_of and horizon dates")
        return None, c.problems
    count = round_count(case.as_of, case.horizon, crisis.step)
    if count > MAX_ROUNDS:
        c.problem(
            ("horizon",),
            f"{case.as_of} to {case.horizon} in steps of a {crisis.step} is {count:,} rounds; "
            f"a crisis may have at most {MAX_ROUNDS:,} (a nearer horizon, or a longer step)",
        )
        return None, c.problems
    dates = round_dates(case.as_of, case.horizon, crisis.step)

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
        from ..games.incase import load_games

        c.games = load_games(c, names)
        c.ids["game"] = set(c.games)

    dyads: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(crisis.dyads):
        for who in (a, b):
            if who not in c.actors:
                c.problem((*base, "dyads", i), f"unknown actor {who!r}")
        if a == b:
            c.problem((*base, "dyads", i), "a dyad needs two different actors")
        if a in c.actors and b in c.actors:
            dyads.append((c.actors[a], c.actors[b]))

    ladder = tuple(crisis.ladder)
    for i, ident in enumerate(ladder):
        if ident not in c.event_ids:
            c.problem((*base, "ladder", i), f"unknown event {ident!r}")

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

    from .calibration import DEFAULT_ODDS_FACTOR
    from .pace import DEFAULT_PACE, PaceError, pace_shares

    pace = DEFAULT_PACE if crisis.pace is None else str(crisis.pace)
    try:
        moved = pace_shares(case.as_of, tuple(dates), pace)
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
        odds_factor=DEFAULT_ODDS_FACTOR if crisis.odds_factor is None else crisis.odds_factor,
        odds_stated=crisis.odds_factor is not None,
    ), []
