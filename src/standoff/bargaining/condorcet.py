"""The probabilistic Condorcet election: each actor's position as a candidate, won with the
probability that it survives pairwise contests decided by weighted votes.

KTAB's settlement of a one-dimensional spatial game (Wise, Lester, Efird et al., KAPSARC
discussion papers on KTAB, 2015-2017; `Model::probCE2`, the same election the `smp` engine holds
each turn, `smp_kernels.condorcet`), taken here as a model of its own, without the SMP's
challenges and bargains. On each issue, for candidate positions a, b (the actors' positions):

    v_k(a:b) = w_k (u_k(a) - u_k(b)),   w_k = c_k s_k,   u_k(x) = 1 - |x - p_k| / R
    C_ab = 1e-8 + sum_k max(0, v_k(a:b))                     the coalition for a against b
    P(a > b) = f(C_ab) / (f(C_ab) + f(C_ba)),   f(C) = C (option `victory`: C^2, C^4, ...)

and the election gives each candidate a probability (option `pce`): `conditional` (KTAB's
default), p_a proportional to prod_b P(a > b); `markov_uniform`, the stationary state of random
uniform challenges; `markov_incentive`, challenges in proportion to the incentive. The settlement
(option `settle`) is the expected outcome sum_a p_a x_a (`expected`, the default; the forecast a
probabilistic model makes under absolute error is its median, but the expectation is what KTAB
and other implementations report), the median of that distribution (`median`) or the most
probable position (`mode`). docs/model-condorcet.md
has the ambiguities.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import smp_kernels as kt
from .base import BargainingInputs, FloatArray
from .one_step import OneStep, scale

SETTLE = ("expected", "mode", "median")


class Condorcet(OneStep):
    name: ClassVar[str] = "condorcet"
    citation: ClassVar[str] = (
        "Wise, B., Lester, L., Efird, B. et al. (2015-2017). The KAPSARC Toolkit for Behavioral "
        "Analysis (KTAB): the probabilistic Condorcet election. KAPSARC discussion papers."
    )

    def __init__(self, victory: str = "linear", pce: str = "conditional", settle: str = "expected"):
        if victory not in kt.VICTORY_MODELS:
            raise ValueError(f"victory must be one of {', '.join(kt.VICTORY_MODELS)}")
        if pce not in kt.PCE_MODELS:
            raise ValueError(f"pce must be one of {', '.join(kt.PCE_MODELS)}")
        if settle not in SETTLE:
            raise ValueError(f"settle must be one of {', '.join(SETTLE)}")
        self.victory = victory
        self.pce = pce
        self.settle = settle

    def options(self) -> dict[str, Any]:
        return {"victory": self.victory, "pce": self.pce, "settle": self.settle}

    def probabilities(self, inputs: BargainingInputs) -> FloatArray:
        """(D, K, N) the probability that each actor's position wins the election on each issue."""
        x = np.moveaxis(inputs.position, 2, 1)  # (D, K, N)
        w = np.moveaxis(inputs.capability[:, :, None] * inputs.salience, 2, 1)  # (D, K, N)
        length = scale(inputs)[None, :, None, None]
        # u_k(a) for candidate a and voter k: (D, K, A, k)
        u = 1.0 - np.abs(x[:, :, :, None] - x[:, :, None, :]) / length
        du = u[:, :, :, None, :] - u[:, :, None, :, :]  # (D, K, A, B, k)
        votes = kt.vote("proportional", w[:, :, None, None, :], du)
        return kt.condorcet(self.victory, self.pce, kt.coalitions(votes))

    def solve(self, inputs: BargainingInputs) -> FloatArray:
        p = self.probabilities(inputs)  # (D, K, N)
        x = np.moveaxis(inputs.position, 2, 1)
        if self.settle == "expected":
            return np.asarray((p * x).sum(axis=-1), dtype=float)
        if self.settle == "mode":
            return np.take_along_axis(x, p.argmax(axis=-1)[..., None], axis=-1)[..., 0]
        order = np.argsort(x, axis=-1, kind="stable")
        cum = np.cumsum(np.take_along_axis(p, order, axis=-1), axis=-1)
        index = np.argmax(cum >= 0.5 * (1 - 1e-12), axis=-1)
        return np.take_along_axis(np.take_along_axis(x, order, axis=-1), index[..., None], -1)[
            ..., 0
        ]
