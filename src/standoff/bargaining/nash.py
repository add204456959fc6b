"""The weighted Nash bargaining solution with the status quo as the disagreement point.

Each issue settles at the point x that maximizes the weighted Nash product

    prod_i (u_i(x) - u_i(d))^(w_i)     over the x with u_i(x) > u_i(d) for every actor with w_i > 0

(Nash 1950; the asymmetric form of Kalai 1977), where d is the issue's reference point (the
status quo, what the actors keep if they fail to agree), w_i = c_i s_i (capability x salience, the
weights of Achen 2006 and of Schneider, Finke & Bailer 2010's saliency model; option `weights`)
and u_i(x) = -((x - p_i) / R)^2 (quadratic loss, Achen's assumption; option `utility=linear` takes
-|x - p_i| / R). docs/model-nash.md gives the derivation, the cases and the ambiguities.

On one dimension every actor gains only between d and the mirror image of d in its own position,
2 p_i - d, so an agreement better than d for everyone exists only where every weighted actor sits
on the same side of d. There the log of the product is strictly concave and its derivative falls
from +inf to -inf, so the solution is its one root, found by bisection to the last bits of the
scale (vectorized over draws and issues). Elsewhere (an actor at d, or actors on both sides) the
status quo stands: x = d. Where an issue has no reference point, the limit of a disagreement point
far from everyone is taken: every gain then grows alike, and the solution is the capability x
salience weighted mean (Achen 2006), the compromise model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import BargainingInputs, FloatArray, weighted_mean
from .one_step import OneStep, reference

UTILITIES = ("quadratic", "linear")
WEIGHTS = ("capability-salience", "salience", "capability", "equal")
DISAGREEMENT = ("reference", "worst")
BISECTIONS = 64  # halvings of the bracket: past the last bit of any double on the scale


def bargaining_weights(inputs: BargainingInputs, kind: str) -> FloatArray:
    """(D, N, K) each actor's weight in the product."""
    cap = inputs.capability[:, :, None]
    sal = inputs.salience
    if kind == "capability-salience":
        return cap * sal
    if kind == "salience":
        return np.array(sal, dtype=float)
    if kind == "capability":
        return np.broadcast_to(cap, sal.shape).astype(float)
    return np.ones(sal.shape)


class NashBargaining(OneStep):
    name: ClassVar[str] = "nash"
    citation: ClassVar[str] = (
        "Nash, J. F. (1950). The bargaining problem. Econometrica 18(2): 155-162; Achen, C. H. "
        "(2006). Institutional realism and bargaining models. In R. Thomson, F. N. Stokman, C. H. "
        "Achen & T. Koenig (eds.), The European Union Decides. Cambridge University Press; "
        "Schneider, G., Finke, D. & Bailer, S. (2010). Bargaining power in the European Union: "
        "an evaluation of competing game-theoretic models. Political Studies 58(1): 85-103."
    )

    def __init__(
        self,
        utility: str = "quadratic",
        weights: str = "capability-salience",
        disagreement: str = "reference",
    ):
        if utility not in UTILITIES:
            raise ValueError(f"utility must be one of {', '.join(UTILITIES)}, not {utility!r}")
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {', '.join(WEIGHTS)}, not {weights!r}")
        if disagreement not in DISAGREEMENT:
            raise ValueError(
                f"disagreement must be one of {', '.join(DISAGREEMENT)}, not {disagreement!r}"
            )
        self.utility = utility
        self.weights = weights
        self.disagreement = disagreement

    def options(self) -> dict[str, Any]:
        return {"utility": self.utility, "weights": self.weights, "disagreement": self.disagreement}

    def solve(self, inputs: BargainingInputs) -> FloatArray:
        x = inputs.position  # (D, N, K)
        w = bargaining_weights(inputs, self.weights)
        active = w > 0
        mean = weighted_mean(x, np.ones(inputs.capability.shape), w)
        if self.disagreement == "reference":
            d = reference(inputs)  # (D, K)
            reach = np.abs(d[:, None, :] - x)  # each actor gains within this distance of p_i
        else:  # each actor's worst point on the scale
            d = np.full((inputs.draws, inputs.n_issues), np.nan)
            reach = np.maximum(x - inputs.low, inputs.high - x)
        known = ~np.isnan(reach).any(axis=1) if self.disagreement == "reference" else None
        reach = np.where(np.isnan(reach), 0.0, reach)
        big = np.inf
        left = np.where(active, x - reach, -big).max(axis=1)  # the open set where all gain
        right = np.where(active, x + reach, big).min(axis=1)
        lo = np.maximum(left, np.where(active, x, big).min(axis=1))  # the solution lies between
        hi = np.minimum(right, np.where(active, x, -big).max(axis=1))  # the actors, where all gain
        agree = active.any(axis=1) & (left < right)
        lo = np.where(agree, lo, 0.0)
        hi = np.where(agree, np.maximum(hi, lo), 0.0)
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo + hi)
            up = self._slope(mid, x, w, reach) > 0
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        solved = 0.5 * (lo + hi)
        if known is not None:  # no reference point: the limit of a far one, the weighted mean
            out = np.where(~known, mean, np.where(agree, solved, d))
        else:
            out = np.where(agree, solved, mean)
        return np.clip(out, inputs.low, inputs.high)

    def _slope(self, at: FloatArray, x: FloatArray, w: FloatArray, reach: FloatArray) -> FloatArray:
        """(D, K) the derivative at `at` of sum_i w_i log(u_i(x) - u_i(d)), up to a positive
        factor: the gains are reach_i^2 - (x - p_i)^2 (quadratic) or reach_i - |x - p_i|."""
        t = at[:, None, :] - x
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.utility == "quadratic":
                terms = -2 * t / (reach**2 - t**2)
            else:
                terms = -np.sign(t) / (reach - np.abs(t))
            terms = np.where(w > 0, w * terms, 0.0)
        return np.asarray(terms.sum(axis=1), dtype=float)
