"""Cases: the schema, the loaders (YAML with line numbers, KTAB CSV, BDM CSV), uncertain numbers."""

from .loader import builtin_cases, load_case
from .numbers import Dist, Quantity, parse_uncertain
from .schema import Actor, Belief, Case, Issue, Question, Scenario, Stance

__all__ = [
    "Actor",
    "Belief",
    "Case",
    "Dist",
    "Issue",
    "Quantity",
    "Question",
    "Scenario",
    "Stance",
    "builtin_cases",
    "load_case",
    "parse_uncertain",
]
