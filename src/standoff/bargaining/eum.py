"""Bueno de Mesquita's expected utility model (EUM), as Scholz, Calbert & Smith (2011) state it.

Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's group
decision model. Journal of Theoretical Politics 23(4): 510-531 (also ICAART 2011, pp. 18-30).
Bueno de Mesquita, B. (1994). Political forecasting: an expected utility method. In Stokman &
Bueno de Mesquita (eds.), European Community Decision Making. Yale University Press.

Each round, on each issue, every actor i computes, with its own beliefs, for every other actor j:

    P^i(i:j)   the probability that i beats j, from everyone's votes (eq. P);
    E^i(U_ij)  what i expects to gain by challenging j (eq. EU);
    E^i(U_ji)  what i expects j to gain by challenging i.

The pair falls in an octant of (E^i(U_ij), E^i(U_ji)): conflict, compromise, compel/capitulation or
stalemate. Where j has the upper hand, j's offer to i is a new position for i; each actor takes
one of the offers made to it. `docs/model-eum.md` gives every equation, each ambiguity of the
paper, the readings tried with the table each produces, and the reading kept.

Vectorized over draws: Python loops run over issues, rounds and fixed-size blocks of draws (run
on threads; numpy and the compiled kernel release the GIL), never over single draws or actor
pairs. By default each round runs in the compiled kernel of `eum_kernel.py` (numba), which loops
over draws in compiled code; the numpy implementation here is the reference it is tested against
(`kernel="numpy"`). docs/model-eum.md, "Speed", gives the figures.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .base import BargainingInputs, Engine, FloatArray, Trajectory, weighted_median

IntArray = NDArray[np.int8]

# Interaction codes, from the first actor's (i's) perspective of the ordered pair (i, j);
# a = E^i(U_ij), b = E^i(U_ji).
NONE = 0  # i == j, or both at the same position (nothing to contest)
CONFLICT_WIN = 1  # a > b > 0: both would challenge; i expects to win, j to yield fully
CONFLICT_LOSS = 2  # b > a > 0: both would challenge; i expects to lose and yield fully
COMPROMISE_UPPER = 3  # a > 0 > b, a > |b|: i has the upper hand; j moves part way towards i
COMPROMISE_LOWER = 4  # b > 0 > a, b > |a|: j has the upper hand; i moves part way towards j
COMPEL = 5  # a > 0 > b, |b| >= a: i compels j; j moves fully to i
CAPITULATE = 6  # b > 0 > a, |a| >= b: i capitulates; i moves fully to j
STALEMATE = 7  # a < 0 and b < 0: neither challenges; nobody moves

INTERACTIONS: dict[int, str] = {
    NONE: "none",
    CONFLICT_WIN: "conflict, i expects to win",
    CONFLICT_LOSS: "conflict, i expects to lose",
    COMPROMISE_UPPER: "compromise, i has the upper hand",
    COMPROMISE_LOWER: "compromise, j has the upper hand",
    COMPEL: "compel: i compels j",
    CAPITULATE: "capitulation: i capitulates to j",
    STALEMATE: "stalemate",
}

RISK_MODES = ("recompute", "off", "given")
PROBABILITY_MODES = ("all-triples", "pairwise")
CHOICE_MODES = ("scholz", "nearest")
STOP_RULES = ("fixed", "converged")
KERNELS = ("compiled", "numpy")
BLOCK = 256  # draws per block (numpy): keeps the (block, N, N, N) vote tensors in cache
SAME_POSITION = 1e-9  # share of the scale below which two positions count as one
COMPILED_BLOCK = 2048  # draws per block (compiled kernel): fewer calls, the same results


class ExpectedUtility(Engine):
    """The EUM engine. Options (keywords; `-o KEY=VALUE` on the command line):

    Q: probability that the status quo holds if i does not challenge j (default 1.0).
    T: probability that, if the status quo does not hold, things get better for i (default 1.0;
        no effect when Q = 1).
    risk: "recompute" each round from the actors' security (default, Scholz et al.), "off"
        (everyone risk neutral, r = 1), or "given" (R_i = the case's risk attitude in [-1, 1]).
    stop: "fixed" (run the rounds asked for) or "converged" (a draw stops once no position moves
        more than `tolerance` x the issue's range in a round; at most the rounds asked for).
    probability, choice, vote_risk: readings of the paper's ambiguous points (docs/model-eum.md);
        the defaults are the readings that reproduce Scholz et al.'s Table 2.
    diagnostics: keep the per-round dyadic arrays in `Trajectory.diagnostics` (default True).
    threads: worker threads over blocks of draws (default: the CPU count).
    kernel: "compiled" (default: the numba kernel of `eum_kernel.py`) or "numpy" (the vectorized
        numpy implementation below, kept as the reference the kernel is tested against). The
        two agree up to float rounding; neither changes the model.
    """

    name: ClassVar[str] = "eum"
    citation: ClassVar[str] = (
        "Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's "
        "group decision model. Journal of Theoretical Politics 23(4): 510-531."
    )
    default_rounds: ClassVar[int | None] = 8

    def __init__(
        self,
        Q: float = 1.0,
        T: float = 1.0,
        risk: str = "recompute",
        stop: str = "fixed",
        tolerance: float = 1e-6,
        probability: str = "all-triples",
        choice: str = "scholz",
        vote_risk: bool = True,
        diagnostics: bool = True,
        threads: int | None = None,
        kernel: str = "compiled",
    ) -> None:
        if not 0.0 <= float(Q) <= 1.0:
            raise ValueError(f"Q must be in [0, 1], got {Q}")
        if not 0.0 <= float(T) <= 1.0:
            raise ValueError(f"T must be in [0, 1], got {T}")
        for label, value, allowed in (
            ("risk", risk, RISK_MODES),
            ("stop", stop, STOP_RULES),
            ("probability", probability, PROBABILITY_MODES),
            ("choice", choice, CHOICE_MODES),
            ("kernel", kernel, KERNELS),
        ):
            if value not in allowed:
                raise ValueError(f"{label} must be one of {', '.join(allowed)}; got {value!r}")
        if not float(tolerance) >= 0.0:
            raise ValueError("tolerance must be >= 0")
        self.Q = float(Q)
        self.T = float(T)
        self.risk = risk
        self.stop = stop
        self.tolerance = float(tolerance)
        self.probability = probability
        self.choice = choice
        self.vote_risk = bool(vote_risk)
        self.diagnostics = bool(diagnostics)
        self.threads = max(1, int(threads if threads is not None else (os.cpu_count() or 1)))
        self.kernel = kernel

    def options(self) -> dict[str, Any]:
        return {
            "Q": self.Q,
            "T": self.T,
            "risk": self.risk,
            "stop": self.stop,
            "tolerance": self.tolerance,
            "probability": self.probability,
            "choice": self.choice,
            "vote_risk": self.vote_risk,
        }

    def settlement(self, inputs: BargainingInputs, trajectory: Trajectory) -> FloatArray:
        """(D, K): the capability x salience weighted (Condorcet) median of the final positions."""
        return weighted_median(trajectory.final, inputs.capability, inputs.salience)

    # ------------------------------------------------------------------------------------------
    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        steps = self.default_rounds if rounds is None else rounds
        if steps is None or steps < 0:
            raise ValueError("rounds must be a non-negative integer")
        n_draws, n_actors, n_issues = inputs.position.shape
        positions = np.empty((n_draws, steps + 1, n_actors, n_issues))
        positions[:, 0] = inputs.position
        rounds_run = np.zeros(n_draws, dtype=np.int64)
        diag = _Diagnostics(n_draws, steps, n_actors, n_issues) if self.diagnostics else None
        size = BLOCK
        if self.kernel == "compiled":  # one block per thread, if that makes blocks small enough
            size = min(COMPILED_BLOCK, max(1, -(-n_draws // self.threads)))
        blocks = [slice(a, min(n_draws, a + size)) for a in range(0, n_draws, size)]

        def one_block(block: slice) -> None:
            part = inputs.take(block)
            for k in range(n_issues):  # issues run one by one
                self._run_issue(
                    part,
                    k,
                    steps,
                    positions[block],
                    rounds_run[block],
                    None if diag is None else diag.view(block),
                )

        if self.threads > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=self.threads) as pool:
                list(pool.map(one_block, blocks))
        else:
            for block in blocks:
                one_block(block)

        if self.stop == "converged" and n_draws:
            positions = positions[:, : int(rounds_run.max()) + 1]
        diagnostics = diag.as_dict(positions.shape[1] - 1) if diag is not None else {}
        return Trajectory(positions=positions, rounds_run=rounds_run, diagnostics=diagnostics)

    def _run_issue(
        self,
        inputs: BargainingInputs,
        k: int,
        steps: int,
        positions: FloatArray,
        rounds_run: NDArray[np.int64],
        diag: _Diagnostics | None,
    ) -> None:
        """Run issue k for a block of draws, writing into views of the output arrays."""
        n_draws = inputs.draws
        low, high = float(inputs.low[k]), float(inputs.high[k])
        scale = high - low if high > low else 1.0
        beliefs = _Beliefs.of(inputs, k)
        x = inputs.position[:, :, k].copy()
        active = np.ones(n_draws, dtype=bool)
        for t in range(steps):
            step = self._round(x, inputs, k, beliefs, low, high, scale)
            new_x = step.new_position
            if self.stop == "converged":
                moved = np.abs(new_x - x).max(axis=1) > self.tolerance * scale
                active &= moved
                new_x = np.where(active[:, None], new_x, x)
                rounds_run[:] = np.maximum(rounds_run, np.where(active, t + 1, 0))
            else:
                rounds_run[:] = steps
            x = new_x
            positions[:, t + 1, :, k] = x
            if diag is not None:
                diag.store(t, k, step)
            if self.stop == "converged" and not active.any():
                positions[:, t + 2 :, :, k] = x[:, None, :]
                break

    # ------------------------------------------------------------------------------------------
    def _round(
        self,
        x: FloatArray,
        inputs: BargainingInputs,
        k: int,
        beliefs: _Beliefs,
        low: float,
        high: float,
        scale: float,
    ) -> _Step:
        """One round on issue k for a block of draws. x: (D, N) true positions now."""
        if self.kernel == "compiled":
            return self._round_compiled(x, inputs, beliefs, low, high, scale)
        n_draws, n_actors = x.shape
        view = beliefs.world(x, low, high, scale)
        ones = np.ones((n_draws, n_actors))
        if self.risk == "off":
            r = ones
        elif self.risk == "given":
            given = inputs.risk if inputs.risk is not None else np.zeros((n_draws, n_actors))
            r = _risk_exponent(np.clip(given, -1.0, 1.0))
        else:
            # Security (Scholz et al., from BDM 1985): everyone risk neutral (r = 1),
            # security_i = sum_{j != i} E^j(U_ji); R_i = (2 sec_i - max - min) / (max - min);
            # r_i = (1 - R_i / 3) / (1 + R_i / 3), so R in [-1, 1] gives r in [0.5, 2].
            eu_neutral, _ = self._expected_utilities(view, ones, None, neutral=True)
            security = eu_neutral.sum(axis=1)  # column i: sum over challengers j of E^j(U_ji)
            top = security.max(axis=1, keepdims=True)
            bottom = security.min(axis=1, keepdims=True)
            spread = top - bottom
            safe = np.where(spread > 0, spread, 1.0)
            r = _risk_exponent(np.where(spread > 0, (2 * security - top - bottom) / safe, 0.0))
        voters = r if self.vote_risk else None
        neutral = self.risk == "off"
        eu_self, eu_other = self._expected_utilities(view, r, voters, neutral=neutral)
        code = _classify(eu_self, eu_other)

        if beliefs.perceived:
            # contests are decided on true values: a conflict i perceives is fought, and its
            # outcome is i's same calculation made with the true attributes (computed only for
            # the draws that have a perceived conflict)
            conflict = (code == CONFLICT_WIN) | (code == CONFLICT_LOSS)
            lose = np.zeros_like(conflict)
            fought = np.flatnonzero(conflict.any(axis=(1, 2)))
            if fought.size:
                truth = beliefs.truth(x[fought], scale, fought)
                true_self, true_other = self._expected_utilities(
                    truth, r[fought], None if voters is None else voters[fought], neutral=neutral
                )
                lose[fought] = conflict[fought] & (true_other > true_self)
        else:
            lose = code == CONFLICT_LOSS
        offers, taken = self._offers(x, eu_self, eu_other, code, lose)
        chosen = np.take_along_axis(
            offers, np.maximum(taken, 0)[:, :, None].astype(np.intp), axis=2
        )[:, :, 0]
        new_x = np.where(taken >= 0, chosen, x)
        return _Step(
            new_position=np.clip(new_x, low, high),
            eu_self=eu_self,
            eu_other=eu_other,
            code=code,
            offers=offers,
            taken=taken,
            risk_exponent=r,
        )

    def _round_compiled(
        self,
        x: FloatArray,
        inputs: BargainingInputs,
        beliefs: _Beliefs,
        low: float,
        high: float,
        scale: float,
    ) -> _Step:
        """`_round` through the compiled kernel (eum_kernel.py): the same equations."""
        from .eum_kernel import round_kernel

        n_draws, n_actors = x.shape
        pair = (n_draws, n_actors, n_actors)
        empty = np.empty((0, 0, 0))
        if self.risk == "given" and inputs.risk is not None:
            r_given = _risk_exponent(np.clip(inputs.risk, -1.0, 1.0))
        elif self.risk == "given":
            r_given = _risk_exponent(np.zeros((n_draws, n_actors)))
        else:
            r_given = np.ones((n_draws, n_actors))
        mu_view = mu_true = np.zeros((n_draws, n_actors))
        if self.Q < 1.0:
            truth = beliefs.truth(x, scale)
            mu_true = truth.median()
            mu_view = beliefs.world(x, low, high, scale).median() if beliefs.perceived else mu_true
        perceived = beliefs.perceived
        offset = beliefs.position_offset
        step = _Step(
            new_position=np.empty((n_draws, n_actors)),
            eu_self=np.empty(pair),
            eu_other=np.empty(pair),
            code=np.empty(pair, dtype=np.int8),
            offers=np.empty(pair),
            taken=np.empty((n_draws, n_actors), dtype=np.int8),
            risk_exponent=np.empty((n_draws, n_actors)),
        )

        def contiguous(a: FloatArray | None) -> FloatArray:
            return empty if a is None else np.ascontiguousarray(a, dtype=np.float64)

        round_kernel(
            np.ascontiguousarray(x, dtype=np.float64),
            contiguous(offset),
            contiguous(beliefs.seen_weight),
            contiguous(beliefs.seen_salience),
            np.ascontiguousarray(beliefs.capability * beliefs.salience, dtype=np.float64),
            np.ascontiguousarray(beliefs.salience, dtype=np.float64),
            np.ascontiguousarray(mu_view, dtype=np.float64),
            np.ascontiguousarray(mu_true, dtype=np.float64),
            np.ascontiguousarray(r_given, dtype=np.float64),
            low,
            high,
            float(scale),
            self.Q,
            self.T,
            self.risk == "recompute",
            self.risk == "off",
            self.vote_risk,
            self.probability == "pairwise",
            self.choice == "nearest",
            perceived,
            offset is not None,
            step.new_position,
            step.eu_self,
            step.eu_other,
            step.code,
            step.offers,
            step.taken,
            step.risk_exponent,
        )
        return step

    def _expected_utilities(
        self, view: _World, r: FloatArray, vote_exponent: FloatArray | None, neutral: bool = False
    ) -> tuple[FloatArray, FloatArray]:
        """(E^i(U_ij), E^i(U_ji)), each (D, i, j), with i's exponent r_i for both."""
        p_win, p_lose = view.probabilities(vote_exponent, self.probability)
        r_i = r[:, :, None]
        d = view.distance
        # eq. U: U_s = 2 - 4 (0.5 - 0.5 |x_i - x_j| / R)^r, U_f = 2 - 4 (0.5 + 0.5 |..| / R)^r,
        # U_sq = 2 - 4 (0.5)^r; at r = 1 these are 2d, -2d and 0
        if neutral:
            u_success, u_failure, u_status_quo = 2.0 * d, -2.0 * d, np.zeros_like(r_i)
        else:
            u_success = 2.0 - 4.0 * np.exp(r_i * view.log_closer)
            u_failure = 2.0 - 4.0 * np.exp(r_i * view.log_farther)
            u_status_quo = 2.0 - 4.0 * 0.5**r_i
        s_j = view.seen_salience  # the target's resolve: its salience, as i sees it
        s_i = view.own_salience[:, :, None]
        # eq. EU: E(U_ij) = s_j (P U_s + (1 - P) U_f) + (1 - s_j) U_s
        #                   - Q U_sq - (1 - Q) (T U_b + (1 - T) U_w)
        eu_self = s_j * (p_win * u_success + (1 - p_win) * u_failure) + (1 - s_j) * u_success
        eu_other = s_i * (p_lose * u_success + (1 - p_lose) * u_failure) + (1 - s_i) * u_success
        eu_self = eu_self - self.Q * u_status_quo
        eu_other = eu_other - self.Q * u_status_quo
        if self.Q < 1.0:
            mu = view.median()  # (D, i): the weighted median as i sees it
            for out, gap in (
                (0, np.abs(view.own_x - mu)[:, :, None]),
                (1, np.abs(view.seen_x - mu[:, :, None])),
            ):
                # U_b, U_w: 2 - 4 (0.5 -/+ 0.25 (|x_a - mu| + |x_i - x_j|) / R)^r
                spread = 0.25 * (gap / view.scale + d)
                u_better = 2.0 - 4.0 * np.clip(0.5 - spread, 0.0, None) ** r_i
                u_worse = 2.0 - 4.0 * (0.5 + spread) ** r_i
                term = (1.0 - self.Q) * (self.T * u_better + (1.0 - self.T) * u_worse)
                if out == 0:
                    eu_self = eu_self - term
                else:
                    eu_other = eu_other - term
        # nothing to contest with an actor at one's own position; positions closer than
        # SAME_POSITION of the scale are the same (else rounding decides the sign of a ~1e-15 EU)
        same = d <= SAME_POSITION
        return np.where(same, 0.0, eu_self), np.where(same, 0.0, eu_other)

    def _offers(
        self,
        x: FloatArray,
        eu_self: FloatArray,
        eu_other: FloatArray,
        code: IntArray,
        lose: NDArray[np.bool_],
    ) -> tuple[FloatArray, IntArray]:
        """Offers made to each actor i by each j (offers[d, i, j], NaN where none) and the index
        of the one i takes (-1 where none)."""
        xi = x[:, :, None]
        xj = x[:, None, :]
        a, b = np.abs(eu_self), np.abs(eu_other)
        compromise = code == COMPROMISE_LOWER
        capitulate = code == CAPITULATE
        with np.errstate(divide="ignore", invalid="ignore"):
            # compromise: i moves towards j by the share |E^i(U_ij)| / E^i(U_ji) of the gap
            share = np.where(compromise, a / np.where(b > 0, b, 1.0), 0.0)
            # the key Scholz et al.'s code ranks compromises by: the EU-weighted point between
            # the two positions, lowest first (see docs/model-eum.md, "offer choice")
            midpoint = (a * xi + b * xj) / np.where(a + b > 0, a + b, 1.0)
        target = np.where(compromise, xi + (xj - xi) * share, xj)
        any_offer = lose | compromise | capitulate
        offers = np.where(any_offer, target, np.nan)
        move = np.abs(target - xi)
        if self.choice == "nearest":
            taken = _lexicographic_argmin(any_offer, move, target)
        else:
            # conflicts lost first (the nearest), else compromises (lowest EU-weighted point),
            # else capitulations (the nearest)
            by_conflict = _lexicographic_argmin(lose, move, target)
            by_compromise = _lexicographic_argmin(compromise, midpoint, target)
            by_capitulation = _lexicographic_argmin(capitulate, move, target)
            taken = np.where(
                by_conflict >= 0,
                by_conflict,
                np.where(by_compromise >= 0, by_compromise, by_capitulation),
            )
        return offers, taken.astype(np.int8)


def _power(base: FloatArray, exponent: FloatArray) -> FloatArray:
    """base ** exponent for base >= 0 and exponent > 0, as exp(exponent log base)."""
    with np.errstate(divide="ignore"):
        return np.exp(exponent * np.log(base))


def _risk_exponent(big_r: FloatArray) -> FloatArray:
    """r_i = (1 - R_i / 3) / (1 + R_i / 3)."""
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)


def _lexicographic_argmin(
    mask: NDArray[np.bool_], key: FloatArray, tie_break: FloatArray
) -> NDArray[np.intp]:
    """Over the last axis, the index with the smallest key among `mask`, ties to the smallest
    tie_break (then the lowest index); -1 where the mask is empty. Order-free up to exact ties."""
    primary = np.where(mask, key, np.inf)
    best = primary.min(axis=-1, keepdims=True)
    tied = mask & (primary <= best + 1e-12 * np.abs(best))
    index = np.argmin(np.where(tied, tie_break, np.inf), axis=-1)
    return np.where(mask.any(axis=-1), index, -1)


def _classify(eu_self: FloatArray, eu_other: FloatArray) -> IntArray:
    """The octant of (E^i(U_ij), E^i(U_ji)) for each ordered pair, from i's perspective."""
    a, b = eu_self, eu_other
    code = np.full(a.shape, NONE, dtype=np.int8)
    code[(a > 0) & (b > 0) & (a > b)] = CONFLICT_WIN
    code[(a > 0) & (b > 0) & (b > a)] = CONFLICT_LOSS
    code[(a > 0) & (b < 0) & (a > -b)] = COMPROMISE_UPPER
    code[(a > 0) & (b < 0) & (a <= -b)] = COMPEL
    code[(b > 0) & (a < 0) & (b > -a)] = COMPROMISE_LOWER
    code[(b > 0) & (a < 0) & (b <= -a)] = CAPITULATE
    code[(a < 0) & (b < 0)] = STALEMATE
    return code


@dataclass(frozen=True)
class _Beliefs:
    """What each actor believes of the others on one issue, for a block of draws."""

    capability: FloatArray  # (D, N) true
    salience: FloatArray  # (D, N) true
    seen_weight: FloatArray | None  # (D, i, j) c x s of j as i sees it; None: the truth
    seen_salience: FloatArray | None  # (D, i, j)
    position_offset: FloatArray | None  # (D, i, j) perceived minus true starting position

    @property
    def perceived(self) -> bool:
        return self.seen_weight is not None

    @classmethod
    def of(cls, inputs: BargainingInputs, k: int) -> _Beliefs:
        salience = inputs.salience[:, :, k]
        if not inputs.has_perceptions:
            return cls(inputs.capability, salience, None, None, None)
        seen_s = np.array(inputs.seen_salience()[:, :, :, k])
        offset = None
        if inputs.perceived_position is not None:
            # a belief about a position is held as an offset from the truth, so that it follows
            # the actor as it moves (docs/model-eum.md, "perceptions")
            offset = inputs.perceived_position[:, :, :, k] - inputs.position[:, None, :, k]
            eye = np.eye(inputs.n_actors, dtype=bool)[None]
            offset = np.where(eye, 0.0, offset)
        eye = np.eye(inputs.n_actors, dtype=bool)[None]
        seen_s = np.where(eye, salience[:, None, :], seen_s)
        seen_c = np.where(eye, inputs.capability[:, None, :], inputs.seen_capability())
        return cls(inputs.capability, salience, seen_c * seen_s, seen_s, offset)

    def world(self, x: FloatArray, low: float, high: float, scale: float) -> _World:
        if not self.perceived:
            return self.truth(x, scale)
        n = x.shape[1]
        seen_x = np.broadcast_to(x[:, None, :], (x.shape[0], n, n))
        if self.position_offset is not None:
            seen_x = np.clip(seen_x + self.position_offset, low, high)
        assert self.seen_weight is not None and self.seen_salience is not None
        return _World(
            np.ascontiguousarray(seen_x),
            self.seen_weight,
            self.seen_salience,
            np.diagonal(self.seen_salience, axis1=1, axis2=2),
            scale,
            shared=False,
        )

    def truth(self, x: FloatArray, scale: float, draws: NDArray[np.intp] | None = None) -> _World:
        """The true world for all draws, or for the given draws (x is then theirs only)."""
        n = x.shape[1]
        capability = self.capability if draws is None else self.capability[draws]
        salience = self.salience if draws is None else self.salience[draws]
        seen_s = np.broadcast_to(salience[:, None, :], (x.shape[0], n, n))
        return _World(x, capability * salience, seen_s, salience, scale, shared=True)


class _World:
    """One view of the world per actor. shared=True: everyone sees the truth and x, weight are
    (D, N); otherwise row i of x and weight, (D, i, j), is what i believes of j."""

    def __init__(
        self,
        x: FloatArray,
        weight: FloatArray,
        seen_salience: FloatArray,
        own_salience: FloatArray,
        scale: float,
        shared: bool,
    ) -> None:
        self.shared = shared
        self.x = x
        self.weight = weight
        self.scale = scale
        self.seen_salience = seen_salience
        self.own_salience = own_salience
        if shared:
            self.own_x = x
            self.seen_x = np.broadcast_to(x[:, None, :], (*x.shape, x.shape[1]))
        else:
            self.own_x = np.diagonal(x, axis1=1, axis2=2)
            self.seen_x = x
        self.distance = np.abs(self.own_x[:, :, None] - self.seen_x) / scale  # |x_i - x_j| / R
        self._logs: tuple[FloatArray, FloatArray] | None = None

    @property
    def log_closer(self) -> FloatArray:
        """log(0.5 - 0.5 |x_i - x_j| / R), for U_s = 2 - 4 exp(r log(...))."""
        return self._log_pair()[0]

    @property
    def log_farther(self) -> FloatArray:
        """log(0.5 + 0.5 |x_i - x_j| / R), for U_f."""
        return self._log_pair()[1]

    def _log_pair(self) -> tuple[FloatArray, FloatArray]:
        if self._logs is None:
            with np.errstate(divide="ignore"):
                self._logs = (np.log(0.5 - 0.5 * self.distance), np.log(0.5 + 0.5 * self.distance))
        return self._logs

    def median(self) -> FloatArray:
        """(D, i): the weighted median of positions as each i sees them."""
        n_draws, n = self.own_x.shape
        seen_x = self.seen_x.reshape(n_draws * n, n, 1)
        weight = np.broadcast_to(
            self.weight if not self.shared else self.weight[:, None, :], (n_draws, n, n)
        ).reshape(n_draws * n, n)
        return weighted_median(seen_x, weight, np.ones_like(seen_x)).reshape(n_draws, n)

    def probabilities(
        self, exponent: FloatArray | None, mode: str
    ) -> tuple[FloatArray, FloatArray]:
        """(P^i(i:j), P^i(j:i)), each (D, i, j).

        Votes (eq. v): k's vote for x_a over x_b is w_k (d_kb - d_ka), d_ka = (|x_k - x_a| / R)^r_k
        (r_k = 1 without `exponent`). P(i:j) = sum_k max(0, vote_k(i over j)) / denominator:
        "pairwise" sum_k |vote_k(i over j)|; "all-triples" sum over k, a, b of |vote_k(a over b)|.
        """
        if self.shared:
            # d[d, k, a]; weighted wd[d, k, a] = w_k d_ka (w >= 0, so w max(0, .) = max(0, w .))
            d = np.abs(self.x[:, :, None] - self.x[:, None, :]) / self.scale
            if exponent is not None:
                d = _power(d, exponent[:, :, None])
            w = self.weight[:, :, None]
            wd = w * d
            # votes[d, k, i, j] = w_k (d_kj - d_ki): for i over j
            votes = wd[:, :, None, :] - wd[:, :, :, None]
            k_axis = 1
            column = wd.sum(axis=1)  # (D, a): sum_k w_k d_ka
            net = column[:, None, :] - column[:, :, None]  # sum_k vote_k(i over j)
        else:
            # d[d, i, k, a] from i's view
            d = np.abs(self.x[:, :, :, None] - self.x[:, :, None, :]) / self.scale
            if exponent is not None:
                d = _power(d, exponent[:, None, :, None])
            w = self.weight[:, :, :, None]
            wd = w * d
            to_self = np.diagonal(wd, axis1=1, axis2=3).transpose(0, 2, 1)  # (D, i, k): w d_ki
            votes = wd - to_self[:, :, :, None]  # (D, i, k, j)
            k_axis = 2
            column = wd.sum(axis=2)  # (D, i, a)
            net = column - np.diagonal(column, axis1=1, axis2=2)[:, :, None]
        if mode == "pairwise":
            np.abs(votes, out=votes)
            total = votes.sum(axis=k_axis)
            win = 0.5 * (total + net)
            lose = 0.5 * (total - net)
            den = total
        else:
            np.maximum(votes, 0.0, out=votes)
            win = votes.sum(axis=k_axis)
            lose = win - net
            # sum over ordered pairs (a, b) of |d_ka - d_kb| = 2 sum_m d_(m) (2m - N + 1), sorted
            n = d.shape[-1]
            ranked = np.sort(d, axis=-1)
            pairs = 2.0 * (ranked @ (2.0 * np.arange(n) - n + 1))
            den = (
                (self.weight * pairs).sum(axis=-1)[:, None, None]
                if self.shared
                else ((self.weight * pairs).sum(axis=-1)[:, :, None])
            )
        safe = np.where(den > 0, den, 1.0)
        return np.where(den > 0, win / safe, 0.0), np.where(den > 0, lose / safe, 0.0)


@dataclass(frozen=True)
class _Step:
    new_position: FloatArray  # (D, N)
    eu_self: FloatArray  # (D, i, j) E^i(U_ij)
    eu_other: FloatArray  # (D, i, j) E^i(U_ji)
    code: IntArray  # (D, i, j)
    offers: FloatArray  # (D, i, j): offered to i by j
    taken: IntArray  # (D, i): j whose offer i took, -1 none
    risk_exponent: FloatArray  # (D, N)


class _Diagnostics:
    """Per-round arrays, draw axis first: [d, round, issue, i, j] (float32 / int8)."""

    def __init__(
        self,
        n_draws: int,
        rounds: int,
        n_actors: int,
        n_issues: int,
        arrays: dict[str, NDArray[Any]] | None = None,
    ) -> None:
        if arrays is not None:
            self.arrays = arrays
            return
        pair = (n_draws, rounds, n_issues, n_actors, n_actors)
        single = (n_draws, rounds, n_issues, n_actors)
        self.arrays = {
            "eu": np.zeros(pair, dtype=np.float32),
            "eu_of_other": np.zeros(pair, dtype=np.float32),
            "interaction": np.zeros(pair, dtype=np.int8),
            "offer": np.full(pair, np.nan, dtype=np.float32),
            "taken": np.full(single, -1, dtype=np.int8),
            "risk_exponent": np.ones(single, dtype=np.float32),
        }

    def view(self, block: slice) -> _Diagnostics:
        return _Diagnostics(0, 0, 0, 0, {name: a[block] for name, a in self.arrays.items()})

    def store(self, t: int, k: int, step: _Step) -> None:
        a = self.arrays
        a["eu"][:, t, k] = step.eu_self
        a["eu_of_other"][:, t, k] = step.eu_other
        a["interaction"][:, t, k] = step.code
        a["offer"][:, t, k] = np.swapaxes(step.offers, 1, 2)  # offer[.., j, i]: made by j to i
        a["taken"][:, t, k] = step.taken
        a["risk_exponent"][:, t, k] = step.risk_exponent

    def as_dict(self, rounds: int) -> dict[str, Any]:
        out: dict[str, Any] = {name: a[:, :rounds] for name, a in self.arrays.items()}
        out["interaction_codes"] = dict(INTERACTIONS)
        return out
