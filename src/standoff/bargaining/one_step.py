"""What the engines that settle in one step share: the settlement models that name an outcome
directly (nash, procedural, condorcet) rather than moving actors round by round.

As a round engine such a model is the compromise engine's single step: every actor moves to the
settlement in round 1, where it stays, and the settlement is kept in `Trajectory.diagnostics`
under `settlement`, so that `settlement()` returns it exactly (not a weighted mean of the final
positions, which could differ from it in the last bit).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import BargainingInputs, Engine, FloatArray, Trajectory

SETTLEMENT = "settlement"


class OneStep(Engine):
    """An engine whose model names the settlement (D, K) directly (`solve`)."""

    default_rounds: ClassVar[int | None] = 1

    def solve(self, inputs: BargainingInputs) -> FloatArray:
        raise NotImplementedError

    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        steps = self.default_rounds if rounds is None else rounds
        if steps is None or steps < 0:
            raise ValueError("rounds must be a non-negative integer")
        settled = self.solve(inputs)
        positions = np.empty((inputs.draws, steps + 1, inputs.n_actors, inputs.n_issues))
        positions[:, 0] = inputs.position
        positions[:, 1:] = settled[:, None, None, :]
        rounds_run = np.full(inputs.draws, steps, dtype=np.int64)
        return Trajectory(positions, rounds_run, diagnostics={SETTLEMENT: settled})

    def settlement(self, inputs: BargainingInputs, trajectory: Trajectory) -> FloatArray:
        settled = trajectory.diagnostics.get(SETTLEMENT)
        if settled is None:
            return super().settlement(inputs, trajectory)
        return settled


def scale(inputs: BargainingInputs) -> FloatArray:
    """(K,) the length of each issue's scale (1 where an issue's scale is a point)."""
    length = np.asarray(inputs.high - inputs.low, dtype=float)
    return np.where(length > 0, length, 1.0)


def reference(inputs: BargainingInputs) -> FloatArray:
    """(D, K) the reference point of each issue (NaN where unknown). ValueError for one off the
    issue's scale."""
    if inputs.reference is None:
        return np.full((inputs.draws, inputs.n_issues), np.nan)
    ref = np.asarray(inputs.reference, dtype=float)
    if ref.shape != (inputs.draws, inputs.n_issues):
        raise ValueError(
            f"reference must have shape (draws, issues) = {(inputs.draws, inputs.n_issues)}, "
            f"not {ref.shape}"
        )
    known = ~np.isnan(ref)
    if np.any(known & ((ref < inputs.low) | (ref > inputs.high))):
        raise ValueError("a reference point lies outside its issue's scale")
    return ref
