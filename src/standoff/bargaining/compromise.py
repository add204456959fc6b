"""The compromise model: the capability x salience weighted mean of positions.

Each issue settles at sum_i c_i s_i x_i / sum_i c_i s_i (Achen 2006, "Institutional realism and
bargaining models", in Thomson et al., *The European Union Decides*; van den Bos 1991). As a round
engine it is a single step: every actor moves to the weighted mean, where it then stays.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import BargainingInputs, Engine, Trajectory, weighted_mean


class Compromise(Engine):
    name: ClassVar[str] = "compromise"
    citation: ClassVar[str] = (
        "Achen, C. H. (2006). Institutional realism and bargaining models. In R. Thomson et al. "
        "(eds.), The European Union Decides. Cambridge University Press."
    )
    default_rounds: ClassVar[int | None] = 1

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        steps = self.default_rounds if rounds is None else rounds
        if steps is None or steps < 0:
            raise ValueError("rounds must be a non-negative integer")
        start = inputs.position
        mean = weighted_mean(start, inputs.capability, inputs.salience)  # (D, K)
        settled = np.broadcast_to(mean[:, None, :], start.shape)
        positions = np.empty((inputs.draws, steps + 1, inputs.n_actors, inputs.n_issues))
        positions[:, 0] = start
        positions[:, 1:] = settled[:, None]
        rounds_run = np.full(inputs.draws, steps, dtype=np.int64)
        return Trajectory(positions=positions, rounds_run=rounds_run)
