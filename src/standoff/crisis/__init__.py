"""The crisis layer: calendar, dyads, events, beliefs, wild cards, scenarios and questions."""

from .histories import CrisisHistories
from .model import CompiledCrisis, compile_crisis
from .summary import probability

__all__ = ["CompiledCrisis", "CrisisHistories", "compile_crisis", "probability"]
