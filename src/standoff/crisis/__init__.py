"""The crisis layer: calendar, dyads, events, beliefs, wild cards, scenarios and questions."""

from .compiler import compile_crisis
from .histories import CrisisHistories
from .model import CompiledCrisis
from .summary import probability

__all__ = ["CompiledCrisis", "CrisisHistories", "compile_crisis", "probability"]
