"""The crisis part of the case format: the calendar step, dyads, parameters, beliefs, events.

Formulas (event probabilities, scenario and question rules) are kept as text here and compiled by
`standoff.crisis.compile`, which checks every name and id they use.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .types import Strict, Uncertain

Formula = Annotated[str, StringConstraints(min_length=1)] | float

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


class Crisis(Strict):
    step: Literal["week", "month", "quarter"] = "month"
    # how far positions move per step: `engine` or a half-life such as `6 months`
    # (crisis/pace.py); None: the default pace
    pace: str | None = None
    # every event's odds per round multiplied by this (crisis/calibration.py); None: the default
    odds_factor: float | None = Field(default=None, ge=0.01, le=100.0, allow_inf_nan=False)
    dyads: list[tuple[str, str]] = Field(min_length=1)
    parameters: dict[str, Uncertain] = Field(default_factory=dict)
    beliefs: list[BeliefSpec] = Field(default_factory=list)
    events: list[EventType] = Field(min_length=1)
    ladder: list[str] = Field(default_factory=list)
    replicates: int = Field(default=50, ge=1, le=1000)
    engine: Literal["eum"] = "eum"
