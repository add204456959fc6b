"""What each uncertain input of a case is: a stable key, structured fields, and a reader's label
made from the case's own names. The sampler, the drivers and the report all name inputs this way;
nothing downstream parses a key back into its parts."""

from __future__ import annotations

from dataclasses import dataclass

from .numbers import Dist, Quantity


@dataclass(frozen=True)
class InputRef:
    """One input of a case.

    key: stable identifier, written to JSON (e.g. "capability[trump]", "beliefs.b.prior").
    label: what a reader calls it (e.g. "capability of Donald Trump").
    attribute: capability | risk | position | salience | prior | parameter | an effect's amount
    (by, to, fraction, add, scale, set, ratio).
    The rest say where it belongs, where that applies: the actor (or the belief's holder), the
    actor it is about (perceptions and beliefs), the issue, the belief, the event or calendar
    entry and the index of the effect, the crisis parameter.
    """

    key: str
    label: str
    attribute: str
    actor: str | None = None
    about: str | None = None
    issue: str | None = None
    belief: str | None = None
    event: str | None = None
    calendar: str | None = None
    effect: int | None = None
    parameter: str | None = None


@dataclass(frozen=True)
class Parameter:
    """A sampled number of the crisis layer (a rate, a belief's prior, an effect's amount)."""

    ref: InputRef
    dist: Dist
    quantity: Quantity
