"""Stokman's exchange model: actors trade voting positions across the issues of one negotiation.

Stokman, F. N. & Van Oosten, R. (1994), "The exchange of voting positions: an object-oriented
model of policy networks", in B. Bueno de Mesquita & F. N. Stokman (eds.), *European Community
Decision Making*, Yale University Press, 105-127; as compared on EU legislation by Arregui, J.,
Stokman, F. N. & Thomson, R. (2006), "Compromise, exchange and challenge in the European Union",
in Thomson et al. (eds.), *The European Union Decides*, Cambridge University Press. Equations and
ambiguities: docs/model-exchange.md.

Weights W_ik = c_i s_ik; each issue's expected outcome is the weighted mean
O_k = sum_i W_ik x_ik / sum_i W_ik (the compromise model). Two actors i, j can exchange on issues
k, l when they sit on opposite sides of O on both issues and i cares relatively more about k,
j about l: s_ik s_jl > s_il s_jk. Then j moves on k towards i (O_k moves towards i by
a = W_jk |dx_jk| / sum W_k) and i moves on l towards j (O_l moves towards j by b). With the linear
utilities of the expected outcome (an actor gains s times the distance the outcome comes towards
it), i gains s_ik a - s_il b and j gains s_jl b - s_jk a; the exchange rate makes the gains equal,
b = a (s_ik + s_jk) / (s_il + s_jl), and each then gains

    G = a (s_ik s_jl - s_il s_jk) / (s_il + s_jl) > 0.

The exchange is as large as it can be without either actor passing the other's position: one of
the two moves all the way. Each round the possible exchanges are computed at the round's expected
outcomes and made in order of gain, largest first, each actor's position on an issue taking part
in at most one exchange a round. Rounds repeat with the new positions (option `max_rounds`,
1 by default: the model's one pass of exchanges) until no exchange gains more than `tolerance`
of the scale. The settlement is the weighted mean of the final positions. A single issue leaves
nothing to trade: the exchange model then is the compromise model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .base import BargainingInputs, Engine, FloatArray, Trajectory
from .one_step import scale

IntArray = NDArray[np.intp]


def pairs(n_actors: int, n_issues: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Every possible exchange (i, j, k, l), i < j, k != l: j moves on k, i moves on l."""
    i, j = np.triu_indices(n_actors, k=1)
    k, m = np.nonzero(~np.eye(n_issues, dtype=bool))
    ii = np.repeat(i, k.size)
    jj = np.repeat(j, k.size)
    kk = np.tile(k, i.size)
    ll = np.tile(m, i.size)
    return ii.astype(np.intp), jj.astype(np.intp), kk.astype(np.intp), ll.astype(np.intp)


class Exchange(Engine):
    name: ClassVar[str] = "exchange"
    citation: ClassVar[str] = (
        "Stokman, F. N. & Van Oosten, R. (1994). The exchange of voting positions: an "
        "object-oriented model of policy networks. In B. Bueno de Mesquita & F. N. Stokman (eds.), "
        "European Community Decision Making. Yale University Press; Arregui, J., Stokman, F. N. & "
        "Thomson, R. (2006). Compromise, exchange and challenge in the European Union. In "
        "R. Thomson et al. (eds.), The European Union Decides. Cambridge University Press."
    )
    default_rounds: ClassVar[int | None] = None

    def __init__(self, max_rounds: int = 1, tolerance: float = 1e-9):
        if isinstance(max_rounds, bool) or int(max_rounds) != max_rounds or max_rounds < 0:
            raise ValueError(f"max_rounds must be a non-negative whole number, not {max_rounds}")
        if not 0 <= float(tolerance) < 1:
            raise ValueError(f"tolerance must be in [0, 1), not {tolerance}")
        self.max_rounds = int(max_rounds)
        self.tolerance = float(tolerance)

    def options(self) -> dict[str, Any]:
        return {"max_rounds": self.max_rounds, "tolerance": self.tolerance}

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        steps = self.max_rounds if rounds is None else rounds
        if steps is None or steps < 0:
            raise ValueError("rounds must be a non-negative integer")
        x = np.array(inputs.position, dtype=float)
        d, n, k = x.shape
        states = [x.copy()]
        rounds_run = np.zeros(d, dtype=np.int64)
        gains = np.zeros((d, 0))
        candidates = pairs(n, k)
        if candidates[0].size:
            weight = inputs.capability[:, :, None] * inputs.salience
            for r in range(steps):
                x, moved, gain = self._round(x, weight, inputs.salience, candidates, scale(inputs))
                if not moved.any():
                    break
                rounds_run[moved] = r + 1
                states.append(x.copy())
                gains = np.concatenate([gains, gain[:, None]], axis=1)
        positions = np.stack(states, axis=1)
        return Trajectory(positions, rounds_run, diagnostics={"gain": gains})

    def _round(
        self,
        x: FloatArray,
        weight: FloatArray,
        salience: FloatArray,
        candidates: tuple[IntArray, IntArray, IntArray, IntArray],
        length: FloatArray,
    ) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
        """One round of exchanges: the new positions, which draws exchanged, the total gain."""
        i, j, k, m = candidates
        d = x.shape[0]
        total = weight.sum(axis=1)  # (D, K)
        safe = np.where(total > 0, total, 1.0)
        outcome = (weight * x).sum(axis=1) / safe
        tie = 1e-12 * length
        side = np.sign(np.where(np.abs(x - outcome[:, None]) > tie, x - outcome[:, None], 0.0))
        s_ik, s_jk = salience[:, i, k], salience[:, j, k]
        s_il, s_jl = salience[:, i, m], salience[:, j, m]
        w_jk, w_il = weight[:, j, k], weight[:, i, m]
        advantage = s_ik * s_jl - s_il * s_jk
        valid = (
            (side[:, i, k] * side[:, j, k] < 0)
            & (side[:, i, m] * side[:, j, m] < 0)
            & (advantage > 0)
            & (w_jk > 0)
            & (w_il > 0)
        )
        t_k, t_l = safe[:, k], safe[:, m]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = (s_ik + s_jk) / (s_il + s_jl)  # b / a
            gap_k = np.abs(x[:, i, k] - x[:, j, k])
            gap_l = np.abs(x[:, i, m] - x[:, j, m])
            shift = np.minimum(w_jk * gap_k / t_k, w_il * gap_l / (t_l * rate))  # a
            gain = shift * advantage / (s_il + s_jl)
        enough = shift > self.tolerance * length[k]
        gain = np.where(valid & enough, gain, -np.inf)
        new = x.copy()
        used = np.zeros(x.shape, dtype=bool)
        moved = np.zeros(d, dtype=bool)
        total_gain = np.zeros(d)
        rows = np.arange(d)
        while True:
            busy = used[:, i, k] | used[:, j, k] | used[:, i, m] | used[:, j, m]
            open_gain = np.where(busy, -np.inf, gain)
            best = np.argmax(open_gain, axis=1) if open_gain.shape[1] else np.zeros(d, np.intp)
            top = open_gain[rows, best]
            go = np.isfinite(top)
            if not go.any():
                break
            g, b = rows[go], best[go]
            bi, bj, bk, bl = i[b], j[b], k[b], m[b]
            a = shift[g, b]
            step_k = a * t_k[g, b] / w_jk[g, b]  # j's move on k
            step_l = a * rate[g, b] * t_l[g, b] / w_il[g, b]  # i's move on l
            toward_i = np.sign(x[g, bi, bk] - x[g, bj, bk])
            toward_j = np.sign(x[g, bj, bl] - x[g, bi, bl])
            # one of the two reaches the other's position: land exactly on it
            reach_k = np.minimum(step_k, np.abs(x[g, bi, bk] - x[g, bj, bk]))
            reach_l = np.minimum(step_l, np.abs(x[g, bj, bl] - x[g, bi, bl]))
            new[g, bj, bk] = x[g, bj, bk] + toward_i * reach_k
            new[g, bi, bl] = x[g, bi, bl] + toward_j * reach_l
            for actor, issue in ((bi, bk), (bj, bk), (bi, bl), (bj, bl)):
                used[g, actor, issue] = True
            moved[g] = True
            total_gain[g] += top[go]
        return new, moved, total_gain
