"""The interface every bargaining engine shares.

Arrays carry a leading draw axis D; N actors; K issues. An engine is a pure function of a
`BargainingInputs` and its own options: it never loops over draws or over actor pairs in Python,
only over rounds. A single draw is the batch of size one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class BargainingInputs:
    """True attributes, and each actor's beliefs about the others, for a batch of draws.

    capability: (D, N) >= 0.  position: (D, N, K) within [low, high].
    salience: (D, N, K) in [0, 1].
    risk: (D, N) risk attitude in [-1, 1] (0 neutral), used by engines that take it as given.
    perceived_*: what actor i believes about actor j, indexed [d, i, j, ...]; None means every actor
    sees the truth. The diagonal (what i believes about itself) is always the truth.
    low, high: (K,) the ends of each issue's scale.
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
        )


@dataclass(frozen=True)
class Trajectory:
    """What an engine returns.

    positions: (D, R + 1, N, K); entry 0 is the starting positions. Where draws stop at different
    rounds, a stopped draw repeats its final positions and `rounds_run` says when it stopped.
    rounds_run: (D,) the number of steps each draw took.
    diagnostics: engine-specific per-round arrays (e.g. the EUM's dyadic expected utilities).
    """

    positions: FloatArray
    rounds_run: NDArray[np.int64]
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> FloatArray:
        """(D, N, K) positions after the last round."""
        return self.positions[:, -1]


class Engine:
    """Base class of the bargaining engines. Subclasses set `name` and implement `run`."""

    name: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    default_rounds: ClassVar[int | None] = None

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        raise NotImplementedError

    def settlement(self, inputs: BargainingInputs, trajectory: Trajectory) -> FloatArray:
        """(D, K): where the bargain settles. By default the capability x salience weighted mean
        of the final positions, weighted by the true capabilities and saliences."""
        return weighted_mean(trajectory.final, inputs.capability, inputs.salience)

    def options(self) -> dict[str, Any]:
        """The engine's options, for provenance in JSON output and reports."""
        return {}


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
