"""One deterministic run of a bargaining engine on a case's central values (`standoff settle`):
the engine's positions round by round, and their weighted medians and means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..bargaining import Engine, make_engine, weighted_mean, weighted_median
from ..bargaining.base import BargainingInputs, Trajectory
from ..case.schema import Case
from ..simulate.sample import central_inputs

MAX_SETTLE_ROUNDS = 100_000  # `settle --rounds` above this is refused (a run of one draw)


@dataclass(frozen=True)
class Settlement:
    """One deterministic run of an engine on the case's central values."""

    case: Case
    engine: Engine
    inputs: BargainingInputs
    trajectory: Trajectory

    def medians(self) -> NDArray[np.float64]:
        """(R + 1, K) weighted median per round."""
        return np.stack(
            [
                weighted_median(
                    self.trajectory.positions[:, r], self.inputs.capability, self.inputs.salience
                )[0]
                for r in range(self.trajectory.positions.shape[1])
            ]
        )

    def means(self) -> NDArray[np.float64]:
        """(R + 1, K) capability x salience weighted mean per round."""
        return np.stack(
            [
                weighted_mean(
                    self.trajectory.positions[:, r], self.inputs.capability, self.inputs.salience
                )[0]
                for r in range(self.trajectory.positions.shape[1])
            ]
        )


def settle(
    case: Case,
    model: str = "compromise",
    rounds: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Settlement:
    """One deterministic run of a bargaining engine on the case's central values."""
    engine = make_engine(model, **dict(options or {}))
    inputs = central_inputs(case)
    return Settlement(
        case=case, engine=engine, inputs=inputs, trajectory=engine.run(inputs, rounds)
    )
