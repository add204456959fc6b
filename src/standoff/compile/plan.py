"""A compiled crisis: plain arrays and checked formulas, and the names its formulas may use.

The compiled crisis (`CompiledCrisis`) knows the rounds and their dates, the dyads, every event's
probability formula and effects, the beliefs, the calendar's effects, and the scenario and
question rules. `compiler.py` compiles a case's crisis section into it, checking every id a
formula or an effect names at the line it came from; `dates.py` counts the rounds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..bargaining.interactions import Interaction
from ..case.inputs import Parameter
from .dates import MAX_ROUNDS, STEP_DAYS, STEP_MONTHS, add_months, round_count, round_dates
from .expr import Formula, Signature

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
    # a fitted crisis game's probability of an outcome (standoff.compile.games, docs/games.md)
    "game": Signature(("game", "actor", "actor", "outcome")),
}
BUILTIN_NAMES = {"round", "rounds", "rung"}
# an effect's amounts in a reader's words (its inputs' labels)
AMOUNT_WORDS = {"by": "shift", "to": "new position", "fraction": "share of the way",
                "add": "amount added", "scale": "factor", "set": "new value",
                "ratio": "likelihood ratio"}  # fmt: skip
NEVER = 10_000  # rounds since an event that never happened


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
    # `inertia C`: a move under C of the scale times the actor's salience is not taken (pace.py)
    inertia: float = 0.0
    odds_factor: float = 1.0  # every event's odds per round multiplied by this (calibration.py)
    odds_stated: bool = False  # whether the case states its odds factor

    @property
    def rounds(self) -> int:
        return len(self.dates)


__all__ = [
    "AMOUNT_WORDS",
    "BUILTIN_NAMES",
    "INTERACTION_CODES",
    "MAX_ROUNDS",
    "NEVER",
    "SIGNATURES",
    "STEP_DAYS",
    "STEP_MONTHS",
    "BeliefPlan",
    "CompiledCrisis",
    "EffectPlan",
    "EventPlan",
    "Rule",
    "add_months",
    "round_count",
    "round_dates",
]
