"""The arguments of the compiled EUM round (`kernel.round_kernel` and its ahead-of-time build,
`native.py`): plain named tuples, importable without numba."""

from __future__ import annotations

from typing import NamedTuple

from ..base import FloatArray


class KernelInputs(NamedTuple):
    """One issue's arrays for a block of D draws, all float64 and C-contiguous.

    Shared world: offset, seen_weight, seen_salience are unused (pass empty (0, 0, 0) arrays).
    Perceived: (D, i, j) beliefs of i about j (diagonal: the truth), offset the perceived minus
    true position.
    """

    x: FloatArray  # (D, N) true positions now
    offset: FloatArray  # (D, i, j) perceived minus true position of j, as i sees it
    seen_weight: FloatArray  # (D, i, j) capability x salience of j, as i sees it
    seen_salience: FloatArray  # (D, i, j) salience of j, as i sees it
    weight: FloatArray  # (D, N) true capability x salience
    salience: FloatArray  # (D, N) true salience
    mu_view: FloatArray  # (D, N) weighted median as each i sees it (used only when Q < 1)
    mu_true: FloatArray  # (D, N) the true weighted median (used only when Q < 1)
    r_given: FloatArray  # (D, N) risk exponents, when the risk is not recomputed


class KernelOptions(NamedTuple):
    """The issue's scale and the engine's readings, as plain scalars.

    SAME_POSITION travels here rather than as a global: numba freezes a global into the code it
    caches on disk, and does not see a change to it in another module (constants.py).
    """

    low: float
    high: float
    scale: float
    same_position: float  # constants.SAME_POSITION (see above)
    Q: float
    T: float
    recompute_risk: bool  # risk="recompute"
    neutral: bool  # risk="off"
    vote_risk: bool
    pairwise: bool  # probability="pairwise"
    nearest: bool  # choice="nearest"
    perceived: bool  # the actors have beliefs (seen_weight, seen_salience are given)
    has_offset: bool  # the actors misjudge positions (offset is given)
