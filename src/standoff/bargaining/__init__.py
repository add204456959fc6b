"""Bargaining engines: one published model per module, one interface (`base.Engine`)."""

from __future__ import annotations

from typing import Any

from .base import (
    BargainingInputs,
    DyadicEngine,
    DyadicRounds,
    Engine,
    Trajectory,
    weighted_mean,
    weighted_median,
)
from .compromise import Compromise
from .condorcet import Condorcet
from .eum import ExpectedUtility
from .exchange import Exchange
from .interactions import Interaction
from .nash import NashBargaining
from .procedural import Procedural
from .smp import SpatialModel

ENGINES: dict[str, type[Engine]] = {
    Compromise.name: Compromise,
    Condorcet.name: Condorcet,
    ExpectedUtility.name: ExpectedUtility,
    Exchange.name: Exchange,
    NashBargaining.name: NashBargaining,
    Procedural.name: Procedural,
    SpatialModel.name: SpatialModel,
}


def register(engine: type[Engine]) -> type[Engine]:
    ENGINES[engine.name] = engine
    return engine


def make_engine(name: str, **options: Any) -> Engine:
    """An engine by name, with its options."""
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; choose from {', '.join(sorted(ENGINES))}"
        ) from None
    return cls(**options)


__all__ = [
    "ENGINES",
    "BargainingInputs",
    "Compromise",
    "Condorcet",
    "DyadicEngine",
    "DyadicRounds",
    "Engine",
    "Exchange",
    "ExpectedUtility",
    "Interaction",
    "NashBargaining",
    "Procedural",
    "SpatialModel",
    "Trajectory",
    "make_engine",
    "register",
    "weighted_mean",
    "weighted_median",
]
