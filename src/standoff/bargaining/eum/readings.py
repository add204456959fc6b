"""The EUM engine's options: the choices each option allows, and the named readings of the
paper's ambiguous points (docs/model-eum.md, "Readings")."""

from __future__ import annotations

from dataclasses import dataclass

RISK_MODES = ("recompute", "off", "given")
PROBABILITY_MODES = ("all-triples", "pairwise")
CHOICE_MODES = ("scholz", "nearest")
STOP_RULES = ("fixed", "converged")
CYCLE_RULES = ("average", "off")
KERNELS = ("compiled", "numpy")
DYADIC_FIELDS = ("all", "crisis")


@dataclass(frozen=True)
class Reading:
    """A named set of choices among the paper's ambiguous points (docs/model-eum.md, "Readings").

    probability, choice, vote_risk, risk: the equations' readings (see `ExpectedUtility`).
    stop, max_rounds, tolerance, cycles: when a run stops, and what it reports for a cycle.
    """

    probability: str
    choice: str
    vote_risk: bool
    risk: str
    stop: str
    max_rounds: int
    tolerance: float
    cycles: str


READINGS: dict[str, Reading] = {
    # the forecasting reading (the default): the paper's eq. P (votes on the pair), run until
    # the positions stop moving or return to an earlier state (docs/model-eum.md)
    "forecast": Reading(
        probability="pairwise",
        choice="scholz",
        vote_risk=True,
        risk="recompute",
        stop="converged",
        max_rounds=100,
        tolerance=1e-6,
        cycles="average",
    ),
    # every choice that reproduces Scholz et al.'s Table 2 on the emissions case
    "scholz-table2": Reading(
        probability="all-triples",
        choice="scholz",
        vote_risk=True,
        risk="recompute",
        stop="fixed",
        max_rounds=8,
        tolerance=1e-6,
        cycles="off",
    ),
}


DEFAULT_READING = "forecast"
