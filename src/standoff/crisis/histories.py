"""Simulated histories of a crisis: what happened in each draw, as arrays with a leading draw
axis. A block of draws gives one `CrisisHistories`; blocks are joined in draw order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class CrisisHistories:
    scenario: NDArray[np.int64]  # (D,): index of the scenario rule that held
    questions: NDArray[np.bool_]  # (D, Q): yes / no
    fired: NDArray[np.bool_]  # (D, T, E): event e happened in round t
    views: NDArray[np.int8]  # (D, T, P, 2): each side's dominant view of dyad p (VIEW_CLASSES)
    beliefs: NDArray[np.float64]  # (D, T + 1, B): each belief's probability after each round
    ended: NDArray[np.int64]  # (D,): the round in which the crisis ended, or T
    settlement: NDArray[np.float64]  # (D, K): weighted median of the final positions

    @property
    def draws(self) -> int:
        return int(self.scenario.shape[0])

    @staticmethod
    def concat(parts: Sequence[CrisisHistories]) -> CrisisHistories:
        """The histories of consecutive blocks, joined in order."""
        if len(parts) == 1:
            return parts[0]
        joined = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(parts[0])
        }
        return CrisisHistories(**joined)
