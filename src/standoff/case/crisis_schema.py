"""The crisis part of the case format: the calendar step, dyads, parameters, beliefs, events.

Formulas (event probabilities, scenario and question rules) are kept as text here and compiled by
`standoff.compile.crisis`, which checks every name and id they use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from .game_spec import GameUse
from .types import Strict, Uncertain

Formula = Annotated[str, StringConstraints(min_length=1)] | float

#: The keys of a crisis parameter written as a mapping: its number, and the reader's words for it.
PARAMETER_KEYS = ("value", "label", "note")


def _parameter_text(value: object) -> tuple[object, str, str] | None:
    """(value, label, note) of a parameter written `{value: ..., label: ..., note: ...}`; None
    for any other form (a number or interval, or a mapping written wrong)."""
    if (
        not isinstance(value, Mapping)
        or "value" not in value
        or not set(value) <= set(PARAMETER_KEYS)
    ):
        return None
    label, note = value.get("label", ""), value.get("note", "")
    if not isinstance(label, str) or not isinstance(note, str):
        return None
    return value["value"], label, note


def _parameter_mapping(value: object) -> object:
    """A parameter mapping `_parameter_text` did not accept, explained: its keys or its text."""
    if not isinstance(value, Mapping):
        return value
    extra = [str(k) for k in value if k not in PARAMETER_KEYS]
    if extra:
        raise ValueError(
            f"unknown key {extra[0]!r}: a parameter is a number, an uncertain number such as "
            "'0.2 to 0.5', or a mapping with value (the number) and optional label and note"
        )
    if "value" not in value:
        raise ValueError("a parameter written as a mapping needs value: its number")
    bad = next(k for k in ("label", "note") if not isinstance(value.get(k, ""), str))
    raise ValueError(f"a parameter's {bad} is text; got {value[bad]!r}")


#: A crisis parameter's number; written as a mapping, `Crisis` keeps its label and note.
ParameterValue = Annotated[Uncertain, BeforeValidator(_parameter_mapping)]

EFFECT_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required fields, optional fields), besides `do`
    "shift": ({"actor", "issue"}, {"by", "to", "toward", "fraction"}),
    "salience": ({"actor", "issue"}, {"add", "scale", "set"}),
    "capability": ({"actor"}, {"add", "scale", "set"}),
    "belief": ({"belief", "ratio"}, set()),
    "end": (set(), set()),
}


class Effect(Strict):
    """One change an event makes where it happens.

    do: shift       move an actor's position: `by` (signed, on the issue's scale), `to` a value,
                    or `toward` another actor's current position by a `fraction` (0-1)
    do: salience    change an actor's salience on an issue: `add`, `scale` or `set` (clipped to 0-1)
    do: capability  change an actor's capability: `add`, `scale` or `set` (kept >= 0)
    do: belief      Bayesian update of a belief by a likelihood ratio
                    P(event | H) / P(event | not H)
    do: end         the crisis ends: nothing more happens and positions stay where they are
    """

    do: Literal["shift", "salience", "capability", "belief", "end"]
    actor: str | None = None
    issue: str | None = None
    belief: str | None = None
    toward: str | None = None
    by: Uncertain | None = None
    to: Uncertain | None = None
    fraction: Uncertain | None = None
    add: Uncertain | None = None
    scale: Uncertain | None = None
    set: Uncertain | None = None
    ratio: Uncertain | None = None


class EventType(Strict):
    id: str = Field(min_length=1)
    label: str = ""
    description: str = ""
    probability: Formula
    wildcard: bool = False
    once: bool = False
    effects: list[Effect] = Field(default_factory=list)
    note: str = ""  # the analyst's reasoning behind its probability, shown where it is used


class PerceivedAttributes(Strict):
    capability: Uncertain | None = None
    stances: dict[str, dict[Literal["position", "salience"], Uncertain]] = Field(
        default_factory=dict
    )


class BeliefSpec(Strict):
    """A hypothesis an actor holds with some probability, and the world it sees if it is true.

    The holder's perceived value of each attribute named under `perception` is the mixture
    truth + p x (value under the hypothesis - truth), where p is the holder's current probability.
    """

    id: str = Field(min_length=1)
    holder: str
    label: str = ""
    prior: Uncertain
    truth: bool | None = None  # whether the hypothesis actually holds (for the record)
    perception: dict[str, PerceivedAttributes] = Field(default_factory=dict)
    note: str = ""  # the analyst's reasoning behind the prior and the perceived world


class Crisis(Strict):
    step: Literal["week", "month", "quarter"] = "month"
    # how far positions move per step: `engine` or a half-life such as `6 months`
    # (compile/pace.py); None: the default pace
    pace: str | None = None
    # every event's odds per round multiplied by this (compile/calibration.py); None: the default
    odds_factor: float | None = Field(default=None, ge=0.01, le=100.0, allow_inf_nan=False)
    dyads: list[tuple[str, str]] = Field(min_length=1)
    # a number, or {value, label, note}: the label names it for a reader (the report, the
    # drivers), the note gives the reasoning behind it
    parameters: dict[str, ParameterValue] = Field(default_factory=dict)
    beliefs: list[BeliefSpec] = Field(default_factory=list)
    events: list[EventType] = Field(min_length=1)
    # fitted crisis games the formulas read with game() (standoff.games, docs/games.md)
    games: dict[str, GameUse] = Field(default_factory=dict)
    ladder: list[str] = Field(default_factory=list)
    replicates: int = Field(default=50, ge=1, le=1000)
    engine: Literal["eum"] = "eum"
    _labels: dict[str, str] = PrivateAttr(default_factory=dict)
    _notes: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _parameter_texts(cls, data: Any, handler: ModelWrapValidatorHandler[Crisis]) -> Crisis:
        """Each parameter written `{value, label, note}` validated as its value, its label and
        note kept beside it (a mapping written wrong is explained at its own line)."""
        labels: dict[str, str] = {}
        notes: dict[str, str] = {}
        if isinstance(data, Mapping) and isinstance(data.get("parameters"), Mapping):
            values: dict[Any, object] = {}
            for name, value in data["parameters"].items():
                text = _parameter_text(value)
                if text is None:
                    values[name] = value
                    continue
                values[name], label, note = text
                if label.strip():
                    labels[str(name)] = label.strip()
                if note.strip():
                    notes[str(name)] = note.strip()
            data = {**data, "parameters": values}
        crisis = handler(data)
        crisis._labels, crisis._notes = labels, notes
        return crisis

    def parameter_label(self, name: str) -> str:
        """The case's label for parameter `name` ("" when it gives none)."""
        return self._labels.get(name, "")

    def parameter_note(self, name: str) -> str:
        """The case's note on parameter `name` ("" when it gives none)."""
        return self._notes.get(name, "")
