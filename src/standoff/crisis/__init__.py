"""The crisis layer: calendar, dyads, events, beliefs, wild cards, scenarios and questions."""

from .forecast import CrisisResult, probability_interval, run_crisis, summarize
from .model import CompiledCrisis, compile_crisis

__all__ = [
    "CompiledCrisis",
    "CrisisResult",
    "compile_crisis",
    "probability_interval",
    "run_crisis",
    "summarize",
]
