"""Bueno de Mesquita's expected utility model (EUM), as Scholz, Calbert & Smith (2011) state it.

Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's group
decision model. Journal of Theoretical Politics 23(4): 510-531 (also ICAART 2011, pp. 18-30).
Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In Stokman &
Bueno de Mesquita (eds.), European Community Decision Making. Yale University Press.

Each round, on each issue, every actor i computes, with its own beliefs, for every other actor j:

    P^i(i:j)   the probability that i beats j, from everyone's votes (eq. P);
    E^i(U_ij)  what i expects to gain by challenging j (eq. EU);
    E^i(U_ji)  what i expects j to gain by challenging i.

The pair falls in an octant of (E^i(U_ij), E^i(U_ji)) (`Interaction`): conflict, compromise,
compel/capitulation or stalemate. Where j has the upper hand, j's offer to i is a new position for
i; each actor takes one of the offers made to it. `docs/model-eum.md` gives every equation, each
ambiguity of the paper, and the named readings (`READINGS`): "forecast" (the default: the paper's
pairwise P, run to rest, cycles detected) and "scholz-table2" (the choices that reproduce Scholz et
al.'s Table 2), with the scores and tables each gives.

Vectorized over draws: Python loops run over issues, rounds and fixed-size blocks of draws (run
on threads; numpy and the compiled kernel release the GIL), never over single draws or actor
pairs. The package:

    constants.py  SAME_POSITION, the block sizes, `Interaction` (the codes of the octants);
    equations.py  the equations in numpy: the reference implementation (`kernel="numpy"`);
    kernel.py     one round compiled with numba, looping over draws (the default);
    readings.py   the options' choices and the named readings (`READINGS`);
    issue_run.py  one issue's run for a block of draws: its rounds into `DyadicRounds`, cycles;
    engine.py     `ExpectedUtility`: options, blocks of draws on threads, `DyadicRounds`.

docs/model-eum.md, "Speed", gives the figures.
"""

from __future__ import annotations

from .constants import SAME_POSITION, Interaction
from .engine import ExpectedUtility
from .readings import (
    CHOICE_MODES,
    CYCLE_RULES,
    DEFAULT_READING,
    KERNELS,
    PROBABILITY_MODES,
    READINGS,
    RISK_MODES,
    STOP_RULES,
    Reading,
)

__all__ = [
    "CHOICE_MODES",
    "CYCLE_RULES",
    "DEFAULT_READING",
    "KERNELS",
    "PROBABILITY_MODES",
    "READINGS",
    "RISK_MODES",
    "SAME_POSITION",
    "STOP_RULES",
    "ExpectedUtility",
    "Interaction",
    "Reading",
]
