"""Benchmark of the smp engine against the targets of its issue (prints; tests don't time).

1. A deterministic run of a random 40 actors x 2 dimensions case, generated from a fixed seed the
   way KTAB's SMPModel::randomSMP does (capability uniform on [10, 200], saliences summing to a
   uniform [0.75, 0.99], positions uniform). Target: under 0.5 s (KTAB's optimised smpc: 8.6 s).
2. 1,000 draws of SOE-Pol-Comp (13 x 2, KTAB's example) with every input uncertain: capability,
   positions and saliences each scaled by an independent uniform factor in [0.9, 1.1] (positions
   kept on 0-100, saliences rescaled where they would sum above 1). Target: under 30 s.

Run: .venv/bin/python benchmarks/bench_smp.py [path/to/SOE-Pol-Comp.csv]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from standoff.bargaining.base import BargainingInputs
from standoff.bargaining.smp import SpatialModel
from standoff.case.loader import load_case
from standoff.simulate.sample import central_inputs

SEED = 20170530
SOE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ktab" / "SOE-Pol-Comp.csv"


def random_case(actors: int, dims: int, seed: int) -> BargainingInputs:
    """A random SMP case in the manner of KTAB's SMPModel::randomSMP, on the 0-100 scale."""
    rng = np.random.default_rng(seed)
    total = rng.uniform(0.75, 0.99, (1, actors, 1))
    raw = rng.uniform(0.1, 1.0, (1, actors, dims))
    return BargainingInputs(
        capability=rng.uniform(10.0, 200.0, (1, actors)),
        position=rng.uniform(0.0, 100.0, (1, actors, dims)),
        salience=total * raw / raw.sum(axis=-1, keepdims=True),
        low=np.zeros(dims),
        high=np.full(dims, 100.0),
    )


def uncertain(base: BargainingInputs, draws: int, spread: float, seed: int) -> BargainingInputs:
    """Draws of `base` with every input scaled by an independent uniform factor 1 +/- spread."""
    rng = np.random.default_rng(seed)

    def factor(shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(1 - spread, 1 + spread, (draws, *shape))

    salience = base.salience[0] * factor(base.salience.shape[1:])
    total = salience.sum(axis=-1, keepdims=True)
    salience = np.where(total > 1, salience / total, salience)
    position = np.clip(base.position[0] * factor(base.position.shape[1:]), base.low, base.high)
    return BargainingInputs(
        capability=base.capability[0] * factor(base.capability.shape[1:]),
        position=position,
        salience=salience,
        low=base.low,
        high=base.high,
    )


def timed(label: str, inputs: BargainingInputs, repeats: int = 1) -> float:
    """Run the engine to its stopping rule and print the best time of `repeats`."""
    engine = SpatialModel()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        trajectory = engine.run(inputs)
        best = min(best, time.perf_counter() - start)
    steps = trajectory.rounds_run
    print(
        f"{label}: {best:.3f} s  (draws {inputs.draws}, actors {inputs.n_actors}, dims "
        f"{inputs.n_issues}; states per draw: median {np.median(steps) + 1:.0f}, "
        f"max {steps.max() + 1})"
    )
    return best


def main() -> None:
    timed("40 x 2 random case, deterministic", random_case(40, 2, SEED), repeats=3)
    soe = Path(sys.argv[1]) if len(sys.argv) > 1 else SOE
    if not soe.exists():
        print(f"SOE-Pol-Comp not found at {soe}; pass its path")
        return
    base = central_inputs(load_case(str(soe)))
    timed("SOE-Pol-Comp, deterministic", base, repeats=3)
    draws = uncertain(base, 1000, 0.10, SEED)
    batch = timed("SOE-Pol-Comp, 1,000 draws, every input +/-10%", draws)
    # the reference, timed in the same run: the same engine one draw at a time (a per-draw loop)
    subset = 50
    engine = SpatialModel()
    start = time.perf_counter()
    for d in range(subset):
        engine.run(draws.take(slice(d, d + 1)))
    per_draw = (time.perf_counter() - start) / subset
    print(
        f"reference, one draw at a time: {per_draw * 1e3:.1f} ms a draw (on {subset} draws), "
        f"{per_draw * 1000:.1f} s for 1,000: the batch is {per_draw * 1000 / batch:.1f}x faster"
    )


if __name__ == "__main__":
    main()
