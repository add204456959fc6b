"""The interface every bargaining engine shares.

Arrays carry a leading draw axis D; N actors; K issues. An engine is a pure function of a
`BargainingInputs` and its own options: it never loops over draws or over actor pairs in Python,
only over rounds. A single draw is the batch of size one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
Int8Array = NDArray[np.int8]


@dataclass(frozen=True)
class BargainingInputs:
    """True attributes, and each actor's beliefs about the others, for a batch of draws.

    capability: (D, N) >= 0.  position: (D, N, K) within [low, high].
    salience: (D, N, K) in [0, 1].
    risk: (D, N) risk attitude in [-1, 1] (0 neutral), used by engines that take it as given.
    perceived_*: what actor i believes about actor j, indexed [d, i, j, ...]; None means every actor
    sees the truth. The diagonal (what i believes about itself) is always the truth.
    low, high: (K,) the ends of each issue's scale.
    reference: (D, K) the reference point (status quo) of each issue, where bargaining ends if it
    fails; NaN where unknown, None where no issue has one. Engines that model the status quo read
    it (nash, procedural); the others ignore it.
    """

    capability: FloatArray
    position: FloatArray
    salience: FloatArray
    low: FloatArray
    high: FloatArray
    risk: FloatArray | None = None
    perceived_capability: FloatArray | None = None
    perceived_position: FloatArray | None = None
    perceived_salience: FloatArray | None = None
    actors: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    reference: FloatArray | None = None

    @property
    def draws(self) -> int:
        return int(self.position.shape[0])

    @property
    def n_actors(self) -> int:
        return int(self.position.shape[1])

    @property
    def n_issues(self) -> int:
        return int(self.position.shape[2])

    @property
    def has_perceptions(self) -> bool:
        return any(
            a is not None
            for a in (self.perceived_capability, self.perceived_position, self.perceived_salience)
        )

    def seen_capability(self) -> FloatArray:
        """(D, N, N): capability of j as i sees it (the truth where no perception is given)."""
        if self.perceived_capability is not None:
            return self.perceived_capability
        return np.broadcast_to(
            self.capability[:, None, :], (self.draws, self.n_actors, self.n_actors)
        )

    def seen_position(self) -> FloatArray:
        """(D, N, N, K): position of j as i sees it."""
        if self.perceived_position is not None:
            return self.perceived_position
        return np.broadcast_to(
            self.position[:, None, :, :], (self.draws, self.n_actors, *self.position.shape[1:])
        )

    def seen_salience(self) -> FloatArray:
        """(D, N, N, K): salience of j as i sees it."""
        if self.perceived_salience is not None:
            return self.perceived_salience
        return np.broadcast_to(
            self.salience[:, None, :, :], (self.draws, self.n_actors, *self.salience.shape[1:])
        )

    def take(self, index: NDArray[np.intp] | slice) -> BargainingInputs:
        """The same inputs restricted to some draws."""

        def sub(a: FloatArray | None) -> FloatArray | None:
            return None if a is None else a[index]

        return BargainingInputs(
            capability=self.capability[index],
            position=self.position[index],
            salience=self.salience[index],
            low=self.low,
            high=self.high,
            risk=sub(self.risk),
            perceived_capability=sub(self.perceived_capability),
            perceived_position=sub(self.perceived_position),
            perceived_salience=sub(self.perceived_salience),
            actors=self.actors,
            issues=self.issues,
            reference=sub(self.reference),
        )


@dataclass(frozen=True)
class DyadicRounds:
    """Each round's results for every ordered pair of actors (i, j), as i sees them.

    Pair fields are (D, R, K, N, N), indexed [draw, round, issue, i, j]; per-actor fields are
    (D, R, K, N), indexed [draw, round, issue, i]. Round r is the bargaining round that produced
    `Trajectory.positions[:, r + 1]` from `positions[:, r]`.

    eu_self: float32, E^i(U_ij): what i expects to gain by challenging j, in i's own world.
    eu_other: float32, E^i(U_ji): what i expects j to gain by challenging i.
    interaction: int8 codes of `standoff.bargaining.interactions.Interaction`, from i's
        perspective (0 on the diagonal).
    offer: float32, offer[.., i, j]: the new position i offers j (where i has the upper hand);
        NaN where i makes j no offer.
    taken: int8, taken[.., i]: the actor j whose offer i took; -1 where i took none.
    risk_exponent: float32, risk_exponent[.., i]: i's exponent r_i in the utilities.
    p_win: float32, P^i(i:j): the probability that i prevails against j in a contest on the
        issue, as i sees it (positions, capabilities and saliences as i believes them): the
        EUM's eq. P under the engine's active reading (pairwise or all-triples denominator,
        the voters' risk exponents of the round), the P that enters E^i(U_ij). 0 on the
        diagonal and where i sees j at its own position (no contest; as `eu_self`). With the
        pairwise denominator and no perceptions, p_win[.., i, j] + p_win[.., j, i] = 1 wherever
        some voter prefers one of the two; the all-triples denominator makes both small.
    """

    eu_self: Float32Array
    eu_other: Float32Array
    interaction: Int8Array
    offer: Float32Array | None  # None: not kept (an engine asked for a crisis's fields only)
    taken: Int8Array | None
    risk_exponent: Float32Array | None
    p_win: Float32Array

    @classmethod
    def empty(cls, draws: int, rounds: int, n_actors: int, n_issues: int) -> DyadicRounds:
        """Arrays to fill in place: no interaction, no offer, none taken, risk neutral."""
        pair = (draws, rounds, n_issues, n_actors, n_actors)
        single = (draws, rounds, n_issues, n_actors)
        return cls(
            eu_self=np.zeros(pair, dtype=np.float32),
            eu_other=np.zeros(pair, dtype=np.float32),
            interaction=np.zeros(pair, dtype=np.int8),
            offer=np.full(pair, np.nan, dtype=np.float32),
            taken=np.full(single, -1, dtype=np.int8),
            risk_exponent=np.ones(single, dtype=np.float32),
            p_win=np.zeros(pair, dtype=np.float32),
        )

    @property
    def rounds(self) -> int:
        return int(self.interaction.shape[1])

    def draws(self, index: slice) -> DyadicRounds:
        """Some draws (views, for filling in place)."""
        return DyadicRounds(
            eu_self=self.eu_self[index],
            eu_other=self.eu_other[index],
            interaction=self.interaction[index],
            offer=None if self.offer is None else self.offer[index],
            taken=None if self.taken is None else self.taken[index],
            risk_exponent=None if self.risk_exponent is None else self.risk_exponent[index],
            p_win=self.p_win[index],
        )

    def first(self, rounds: int) -> DyadicRounds:
        """The first `rounds` rounds (views)."""
        return DyadicRounds(
            eu_self=self.eu_self[:, :rounds],
            eu_other=self.eu_other[:, :rounds],
            interaction=self.interaction[:, :rounds],
            offer=None if self.offer is None else self.offer[:, :rounds],
            taken=None if self.taken is None else self.taken[:, :rounds],
            risk_exponent=None if self.risk_exponent is None else self.risk_exponent[:, :rounds],
            p_win=self.p_win[:, :rounds],
        )


@dataclass(frozen=True)
class Trajectory:
    """What an engine returns.

    positions: (D, R + 1, N, K); entry 0 is the starting positions. Where draws stop at different
    rounds, a stopped draw repeats its final positions and `rounds_run` says when it stopped.
    rounds_run: (D,) the number of steps each draw took.
    dyadic: each round's results for every ordered pair of actors (the EUM's expected utilities
        and interactions), from engines that provide them (`DyadicEngine`); else None.
    diagnostics: other engine-specific arrays, by name (the SMP's fractional change per round; the
        EUM's cycle length and cycle settlement per draw and issue).
    """

    positions: FloatArray
    rounds_run: NDArray[np.int64]
    dyadic: DyadicRounds | None = None
    diagnostics: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def final(self) -> FloatArray:
        """(D, N, K) positions after the last round."""
        return self.positions[:, -1]


class OneRound(NamedTuple):
    """One round of a one-issue problem for every draw (`Engine.one_round`): the positions after
    it and the round's dyadic results, as `Trajectory.positions[:, 1, :, 0]` and the round's
    `DyadicRounds` fields give them."""

    moved: FloatArray  # (D, N)
    interaction: Int8Array  # (D, i, j)
    eu_self: Float32Array  # (D, i, j)
    eu_other: Float32Array  # (D, i, j)
    p_win: Float32Array  # (D, i, j)


class Engine:
    """Base class of the bargaining engines. Subclasses set `name` and implement `run`."""

    name: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    default_rounds: ClassVar[int | None] = None

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        raise NotImplementedError

    def one_round(self, inputs: BargainingInputs) -> OneRound:
        """One round of a one-issue problem (K = 1), as `run(inputs, 1)` gives it; an engine
        that provides dyadic results only. Engines may compute it more directly (the EUM)."""
        trajectory = self.run(inputs, 1)
        dyadic = trajectory.dyadic
        if dyadic is None:
            raise ValueError(
                "the bargaining engine returned no per-round dyadic results (Trajectory.dyadic); "
                "a crisis needs an engine that provides them (a DyadicEngine, such as eum with "
                "its diagnostics on)"
            )
        return OneRound(
            trajectory.positions[:, 1, :, 0],
            dyadic.interaction[:, 0, 0],
            dyadic.eu_self[:, 0, 0],
            dyadic.eu_other[:, 0, 0],
            dyadic.p_win[:, 0, 0],
        )

    def settlement(self, inputs: BargainingInputs, trajectory: Trajectory) -> FloatArray:
        """(D, K): where the bargain settles. By default the capability x salience weighted mean
        of the final positions, weighted by the true capabilities and saliences."""
        return weighted_mean(trajectory.final, inputs.capability, inputs.salience)

    def options(self) -> dict[str, Any]:
        """The engine's options, for provenance in JSON output and reports."""
        return {}

    def for_crisis(self) -> Engine:
        """This engine, set to keep only the per-round dyadic results a crisis reads."""
        return self

    def positions_only(self) -> Engine:
        """This engine, set to return only positions: no per-round dyadic results, for runs that
        read only where the bargain settles (they can hold gigabytes over many draws)."""
        return self


class DyadicEngine(Protocol):
    """What the crisis layer needs from an engine: where `provides_dyadic` is true, `run` fills
    `Trajectory.dyadic` with every round's results for every ordered pair of actors."""

    @property
    def provides_dyadic(self) -> bool: ...

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory: ...


def weights(capability: FloatArray, salience: FloatArray) -> FloatArray:
    """(D, N, K) capability x salience weights."""
    return capability[..., None] * salience


def weighted_mean(position: FloatArray, capability: FloatArray, salience: FloatArray) -> FloatArray:
    """(D, K) capability x salience weighted mean of positions (D, N, K).

    Where every weight on an issue is zero, the plain mean of positions is returned.
    """
    w = weights(capability, salience)
    total = w.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    mean = (w * position).sum(axis=1) / safe
    return np.where(total > 0, mean, position.mean(axis=1))


def weighted_median(
    position: FloatArray, capability: FloatArray, salience: FloatArray
) -> FloatArray:
    """(D, K) capability x salience weighted median of positions (D, N, K).

    On one dimension with votes v(a:b) = sum_k w_k (|x_k - x_b| - |x_k - x_a|), the weighted median
    is the position that beats every other in pairwise votes (the Condorcet winner). It is the
    smallest actor position at which the cumulative weight reaches half the total. Where every
    weight is zero, actors count equally.
    """
    w = weights(capability, salience)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w, 1.0)
    order = np.argsort(position, axis=1, kind="stable")
    sorted_pos = np.take_along_axis(position, order, axis=1)
    cum = np.cumsum(np.take_along_axis(w, order, axis=1), axis=1)
    half = cum[:, -1:, :] / 2.0
    # tolerate rounding in the cumulative sum so that exact halves resolve to the lower position
    idx = np.argmax(cum >= half * (1 - 1e-12), axis=1)
    return np.take_along_axis(sorted_pos, idx[:, None, :], axis=1)[:, 0, :]
