"""The odds factor: one global correction of how often a crisis's events happen.

Case authors write each event's chance per round as a formula over their own rates. Scored on the
library of history (docs/validation.md), such rates come out too low as a class: events that
happened were given too little. `crisis.odds_factor` multiplies the odds of every event's chance
in every round, inside the simulation,

    p' = f p / (1 - p + f p),

so that every scenario, question and timeline is computed from the same corrected histories and
they stay coherent with one another (a correction applied to the questions' probabilities
afterwards would set them apart from the scenarios read from the same events). A chance of 0 or 1
is left as it is: a gate that is shut stays shut. f = 1 leaves every chance as written.

A case that states no odds factor gets `DEFAULT_ODDS_FACTOR`, chosen leave-one-case-out on the
library (`standoff library tune`); it is never set to make one case come out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

DEFAULT_ODDS_FACTOR = 3.0  # chosen leave one case out on the library: docs/validation.md
LOWEST, HIGHEST = 0.01, 100.0  # the factors a case may state


def scale_odds(p: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    """Each probability with its odds multiplied by `factor` (0 and 1 stay as they are).

    >>> scale_odds(np.array([0.0, 0.2, 0.5, 1.0]), 4.0).round(3).tolist()
    [0.0, 0.5, 0.8, 1.0]
    """
    if factor == 1.0:
        return p
    scaled = factor * p
    return np.asarray(scaled / (1.0 - p + scaled))
