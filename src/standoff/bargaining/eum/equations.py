"""The EUM's equations in numpy, vectorized over a block of draws: the reference implementation
that the compiled kernel (`kernel.py`) is tested against, and the engine's `kernel="numpy"` path.

One round on one issue (`numpy_round`): each actor's world (`Beliefs`, `World`), the votes and
probabilities (eq. v, P), the risk exponents (`risk_exponent`), the expected utilities (eq. U, EU),
the octant of each ordered pair (`classify`), the truth that decides perceived conflicts, and the
offers and the one each actor takes (`offers`). docs/model-eum.md gives every equation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..base import BargainingInputs, FloatArray, Int8Array, weighted_median
from .constants import SAME_POSITION, Interaction


@dataclass(frozen=True)
class Readings:
    """The engine's options that the equations read (see `ExpectedUtility`)."""

    Q: float
    T: float
    risk: str  # "recompute", "off" or "given"
    probability: str  # "all-triples" or "pairwise"
    choice: str  # "scholz" or "nearest"
    vote_risk: bool


class Step(NamedTuple):
    """One round on one issue for a block of draws. Also the compiled kernel's output arrays."""

    new_position: FloatArray  # (D, N)
    eu_self: FloatArray  # (D, i, j) E^i(U_ij)
    eu_other: FloatArray  # (D, i, j) E^i(U_ji)
    code: Int8Array  # (D, i, j) Interaction codes
    offers: FloatArray  # (D, i, j): offered to i by j
    taken: Int8Array  # (D, i): j whose offer i took, -1 none
    risk_exponent: FloatArray  # (D, N)
    p_win: FloatArray  # (D, i, j) P^i(i:j), 0 at the same position


def numpy_round(
    x: FloatArray,
    given_risk: FloatArray | None,
    beliefs: Beliefs,
    low: float,
    high: float,
    scale: float,
    readings: Readings,
) -> Step:
    """One round on one issue for a block of draws. x: (D, N) true positions now; given_risk:
    (D, N) the case's risk attitudes (used with risk="given"; None: everyone neutral)."""
    n_draws, n_actors = x.shape
    view = beliefs.world(x, low, high, scale)
    ones = np.ones((n_draws, n_actors))
    if readings.risk == "off":
        r = ones
    elif readings.risk == "given":
        given = given_risk if given_risk is not None else np.zeros((n_draws, n_actors))
        r = risk_exponent(np.clip(given, -1.0, 1.0))
    else:
        # Security (Scholz et al., from BDM 1985): everyone risk neutral (r = 1),
        # security_i = sum_{j != i} E^j(U_ji); R_i = (2 sec_i - max - min) / (max - min);
        # r_i = (1 - R_i / 3) / (1 + R_i / 3), so R in [-1, 1] gives r in [0.5, 2].
        eu_neutral, _, _ = expected_utilities(view, ones, None, readings, neutral=True)
        security = eu_neutral.sum(axis=1)  # column i: sum over challengers j of E^j(U_ji)
        top = security.max(axis=1, keepdims=True)
        bottom = security.min(axis=1, keepdims=True)
        spread = top - bottom
        safe = np.where(spread > 0, spread, 1.0)
        r = risk_exponent(np.where(spread > 0, (2 * security - top - bottom) / safe, 0.0))
    voters = r if readings.vote_risk else None
    neutral = readings.risk == "off"
    eu_self, eu_other, p_win = expected_utilities(view, r, voters, readings, neutral=neutral)
    code = classify(eu_self, eu_other)

    if beliefs.perceived:
        # contests are decided on true values: a conflict i perceives is fought, and its
        # outcome is i's same calculation made with the true attributes (computed only for
        # the draws that have a perceived conflict)
        conflict = (code == Interaction.CONFLICT_WIN) | (code == Interaction.CONFLICT_LOSS)
        lose = np.zeros_like(conflict)
        fought = np.flatnonzero(conflict.any(axis=(1, 2)))
        if fought.size:
            truth = beliefs.truth(x[fought], scale, fought)
            true_self, true_other, _ = expected_utilities(
                truth,
                r[fought],
                None if voters is None else voters[fought],
                readings,
                neutral=neutral,
            )
            lose[fought] = conflict[fought] & (true_other > true_self)
    else:
        lose = code == Interaction.CONFLICT_LOSS
    made, taken = offers(x, eu_self, eu_other, code, lose, readings.choice)
    chosen = np.take_along_axis(made, np.maximum(taken, 0)[:, :, None].astype(np.intp), axis=2)[
        :, :, 0
    ]
    new_x = np.where(taken >= 0, chosen, x)
    return Step(
        new_position=np.clip(new_x, low, high),
        eu_self=eu_self,
        eu_other=eu_other,
        code=code,
        offers=made,
        taken=taken,
        risk_exponent=r,
        p_win=p_win,
    )


def expected_utilities(
    view: World,
    r: FloatArray,
    vote_exponent: FloatArray | None,
    readings: Readings,
    neutral: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(E^i(U_ij), E^i(U_ji), P^i(i:j)), each (D, i, j), with i's exponent r_i for both EUs."""
    Q, T = readings.Q, readings.T
    p_win, p_lose = view.probabilities(vote_exponent, readings.probability)
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
    eu_self = eu_self - Q * u_status_quo
    eu_other = eu_other - Q * u_status_quo
    if Q < 1.0:
        mu = view.median()  # (D, i): the weighted median as i sees it
        for out, gap in (
            (0, np.abs(view.own_x - mu)[:, :, None]),
            (1, np.abs(view.seen_x - mu[:, :, None])),
        ):
            # U_b, U_w: 2 - 4 (0.5 -/+ 0.25 (|x_a - mu| + |x_i - x_j|) / R)^r
            spread = 0.25 * (gap / view.scale + d)
            u_better = 2.0 - 4.0 * np.clip(0.5 - spread, 0.0, None) ** r_i
            u_worse = 2.0 - 4.0 * (0.5 + spread) ** r_i
            term = (1.0 - Q) * (T * u_better + (1.0 - T) * u_worse)
            if out == 0:
                eu_self = eu_self - term
            else:
                eu_other = eu_other - term
    # nothing to contest with an actor at one's own position; positions closer than
    # SAME_POSITION of the scale are the same (else rounding decides the sign of a ~1e-15 EU)
    same = d <= SAME_POSITION
    return (
        np.where(same, 0.0, eu_self),
        np.where(same, 0.0, eu_other),
        np.where(same, 0.0, p_win),
    )


def offers(
    x: FloatArray,
    eu_self: FloatArray,
    eu_other: FloatArray,
    code: Int8Array,
    lose: NDArray[np.bool_],
    choice: str,
) -> tuple[FloatArray, Int8Array]:
    """Offers made to each actor i by each j (offers[d, i, j], NaN where none) and the index
    of the one i takes (-1 where none)."""
    xi = x[:, :, None]
    xj = x[:, None, :]
    a, b = np.abs(eu_self), np.abs(eu_other)
    compromise = code == Interaction.COMPROMISE_LOWER
    capitulate = code == Interaction.CAPITULATE
    with np.errstate(divide="ignore", invalid="ignore"):
        # compromise: i moves towards j by the share |E^i(U_ij)| / E^i(U_ji) of the gap
        share = np.where(compromise, a / np.where(b > 0, b, 1.0), 0.0)
        # the key Scholz et al.'s code ranks compromises by: the EU-weighted point between
        # the two positions, lowest first (see docs/model-eum.md, "offer choice")
        midpoint = (a * xi + b * xj) / np.where(a + b > 0, a + b, 1.0)
    target = np.where(compromise, xi + (xj - xi) * share, xj)
    any_offer = lose | compromise | capitulate
    made = np.where(any_offer, target, np.nan)
    move = np.abs(target - xi)
    if choice == "nearest":
        taken = lexicographic_argmin(any_offer, move, target)
    else:
        # conflicts lost first (the nearest), else compromises (lowest EU-weighted point),
        # else capitulations (the nearest)
        by_conflict = lexicographic_argmin(lose, move, target)
        by_compromise = lexicographic_argmin(compromise, midpoint, target)
        by_capitulation = lexicographic_argmin(capitulate, move, target)
        taken = np.where(
            by_conflict >= 0,
            by_conflict,
            np.where(by_compromise >= 0, by_compromise, by_capitulation),
        )
    return made, taken.astype(np.int8)


def power(base: FloatArray, exponent: FloatArray) -> FloatArray:
    """base ** exponent for base >= 0 and exponent > 0, as exp(exponent log base)."""
    with np.errstate(divide="ignore"):
        return np.exp(exponent * np.log(base))


def risk_exponent(big_r: FloatArray) -> FloatArray:
    """r_i = (1 - R_i / 3) / (1 + R_i / 3)."""
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)


def lexicographic_argmin(
    mask: NDArray[np.bool_], key: FloatArray, tie_break: FloatArray
) -> NDArray[np.intp]:
    """Over the last axis, the index with the smallest key among `mask`, ties to the smallest
    tie_break (then the lowest index); -1 where the mask is empty. Order-free up to exact ties."""
    primary = np.where(mask, key, np.inf)
    best = primary.min(axis=-1, keepdims=True)
    tied = mask & (primary <= best + 1e-12 * np.abs(best))
    index = np.argmin(np.where(tied, tie_break, np.inf), axis=-1)
    return np.where(mask.any(axis=-1), index, -1)


def classify(eu_self: FloatArray, eu_other: FloatArray) -> Int8Array:
    """The octant of (E^i(U_ij), E^i(U_ji)) for each ordered pair, from i's perspective."""
    a, b = eu_self, eu_other
    code = np.full(a.shape, Interaction.NONE, dtype=np.int8)
    code[(a > 0) & (b > 0) & (a > b)] = Interaction.CONFLICT_WIN
    code[(a > 0) & (b > 0) & (b > a)] = Interaction.CONFLICT_LOSS
    code[(a > 0) & (b < 0) & (a > -b)] = Interaction.COMPROMISE_UPPER
    code[(a > 0) & (b < 0) & (a <= -b)] = Interaction.COMPEL
    code[(b > 0) & (a < 0) & (b > -a)] = Interaction.COMPROMISE_LOWER
    code[(b > 0) & (a < 0) & (b <= -a)] = Interaction.CAPITULATE
    code[(a < 0) & (b < 0)] = Interaction.STALEMATE
    return code


@dataclass(frozen=True)
class Beliefs:
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
    def of(cls, inputs: BargainingInputs, k: int) -> Beliefs:
        salience = inputs.salience[:, :, k]
        if not inputs.has_perceptions:
            return cls(inputs.capability, salience, None, None, None)
        # copies of what each actor sees of the others, with the truth of itself on the diagonal
        self_ = np.arange(inputs.n_actors)
        seen_s = np.array(inputs.seen_salience()[:, :, :, k])
        seen_s[:, self_, self_] = salience
        offset = None
        if inputs.perceived_position is not None:
            # a belief about a position is held as an offset from the truth, so that it follows
            # the actor as it moves (docs/model-eum.md, "perceptions")
            offset = inputs.perceived_position[:, :, :, k] - inputs.position[:, None, :, k]
            offset[:, self_, self_] = 0.0
        seen_c = np.array(inputs.seen_capability())
        seen_c[:, self_, self_] = inputs.capability
        return cls(inputs.capability, salience, seen_c * seen_s, seen_s, offset)

    def take(self, index: NDArray[np.intp] | slice) -> Beliefs:
        """The same beliefs for some draws (a slice: views, no copies)."""

        def sub(a: FloatArray | None) -> FloatArray | None:
            return None if a is None else a[index]

        return Beliefs(
            self.capability[index],
            self.salience[index],
            sub(self.seen_weight),
            sub(self.seen_salience),
            sub(self.position_offset),
        )

    def world(self, x: FloatArray, low: float, high: float, scale: float) -> World:
        if not self.perceived:
            return self.truth(x, scale)
        n = x.shape[1]
        seen_x = np.broadcast_to(x[:, None, :], (x.shape[0], n, n))
        if self.position_offset is not None:
            seen_x = np.clip(seen_x + self.position_offset, low, high)
        assert self.seen_weight is not None and self.seen_salience is not None
        return World(
            np.ascontiguousarray(seen_x),
            self.seen_weight,
            self.seen_salience,
            np.diagonal(self.seen_salience, axis1=1, axis2=2),
            scale,
            shared=False,
        )

    def truth(self, x: FloatArray, scale: float, draws: NDArray[np.intp] | None = None) -> World:
        """The true world for all draws, or for the given draws (x is then theirs only)."""
        n = x.shape[1]
        capability = self.capability if draws is None else self.capability[draws]
        salience = self.salience if draws is None else self.salience[draws]
        seen_s = np.broadcast_to(salience[:, None, :], (x.shape[0], n, n))
        return World(x, capability * salience, seen_s, salience, scale, shared=True)


class World:
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
                d = power(d, exponent[:, :, None])
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
                d = power(d, exponent[:, None, :, None])
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
