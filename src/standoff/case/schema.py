"""The case format (v1), validated with pydantic.

Structure and types are checked here; cross-references and ranges (a position inside its issue's
scale, a perception about a known actor) are checked in `checks.py`, which knows every line.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, FiniteFloat

from .crisis_schema import Crisis, Effect, Formula
from .numbers import Quantity
from .types import CAPABILITY, RISK, SALIENCE, Strict, Uncertain

if TYPE_CHECKING:
    from .inputs import InputRef

__all__ = ["CAPABILITY", "RISK", "SALIENCE", "Strict", "Uncertain", "case_note", "reader_name"]

FORMAT_VERSION = 1


class Issue(Strict):
    id: str = Field(min_length=1)
    label: str = ""
    range: tuple[FiniteFloat, FiniteFloat] = (0.0, 100.0)
    low_means: str = ""
    high_means: str = ""

    def quantity(self) -> Quantity:
        return Quantity(f"a position on {self.id}", self.range[0], self.range[1])


class Stance(Strict):
    position: Uncertain
    salience: Uncertain


class Actor(Strict):
    id: str = Field(min_length=1)
    name: str = ""
    capability: Uncertain
    risk: Uncertain | None = None
    stances: dict[str, Stance]
    note: str = ""


class PerceivedStance(Strict):
    position: Uncertain | None = None
    salience: Uncertain | None = None


class Belief(Strict):
    """What one actor believes about another. Omitted attributes are believed truly."""

    capability: Uncertain | None = None
    stances: dict[str, PerceivedStance] = Field(default_factory=dict)
    note: str = ""


class Scenario(Strict):
    """A named outcome of the case; `when` is its rule over simulated histories (crisis cases)."""

    id: str = Field(min_length=1)
    label: str = ""
    description: str = ""
    when: Formula | None = None


class Question(Strict):
    """A forecasting question with mutually exclusive, exhaustive outcomes and a resolution date."""

    id: str = Field(min_length=1)
    text: str
    resolves: dt.date | None = None
    criteria: str = ""
    outcomes: list[str] = Field(default_factory=lambda: ["yes", "no"], min_length=2)
    when: Formula | None = None


class CalendarEntry(Strict):
    """A scheduled event: something known to happen on a date (an election, a UN session)."""

    id: str = Field(min_length=1)
    date: dt.date
    label: str = ""
    description: str = ""
    effects: list[Effect] = Field(default_factory=list)


class Case(Strict):
    standoff: int = FORMAT_VERSION
    id: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    as_of: dt.date | None = None
    horizon: dt.date | None = None
    issues: list[Issue] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=1)
    perceptions: dict[str, dict[str, Belief]] = Field(default_factory=dict)
    calendar: list[CalendarEntry] = Field(default_factory=list)
    scenarios: list[Scenario] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    crisis: Crisis | None = None
    # the outside view's filters and comparisons, checked by standoff.case.reference_class
    reference_class: dict[str, Any] | None = None
    source: str = ""

    @property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.actors)

    @property
    def issue_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.issues)


def reader_name(label: str, ident: str) -> str:
    """What a reader calls something the case names by an id: its label, or, where the case
    gives none (or repeats the id), the id in words ("deal_rate" reads "deal rate").

    >>> reader_name("", "deal_rate"), reader_name("The deal", "deal")
    ('deal rate', 'The deal')
    """
    if label and label != ident:
        return label
    return " ".join(re.sub(r"[_\-.]+", " ", ident).split()) or ident


def case_note(case: Case, ref: InputRef) -> str:
    """The case's note on the thing an input belongs to ("" where it gives none): a crisis
    parameter's, a belief's (its prior and perceived world), an event's (its effects), a
    perception's (under `perceptions`) or an actor's (its capability, risk and stances)."""
    crisis = case.crisis
    if ref.parameter is not None and crisis is not None:
        return crisis.parameter_note(ref.parameter)
    if ref.belief is not None and crisis is not None:
        return next((b.note for b in crisis.beliefs if b.id == ref.belief), "")
    if ref.event is not None and crisis is not None:
        return next((e.note for e in crisis.events if e.id == ref.event), "")
    if ref.actor is not None and ref.about is not None:
        belief = case.perceptions.get(ref.actor, {}).get(ref.about)
        return belief.note if belief is not None else ""
    if ref.actor is not None and ref.calendar is None:
        return next((a.note for a in case.actors if a.id == ref.actor), "")
    return ""
