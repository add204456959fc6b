"""Benchmark of the eum engine: 100,000 draws of the EC emissions case (Scholz et al. 2011) with
every input uncertain (about +/- 20%), 8 rounds, with the compiled kernel (default) and the numpy
implementation (timed on a subset), against a plain per-draw loop over the same equations
(`tests/eum_reference.py`, the tests' oracle), timed on a subset and extrapolated. Then one round
on the inputs of the built-in us-dprk-2018 crisis (7 actors, 3 issues, with perceptions), 10,000
draws, as the crisis simulation calls it each round.

    .venv/bin/python benchmarks/bench_eum.py [--draws 100000] [--reference-draws 500]

A measurement, not a test: it prints its figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from standoff.bargaining.base import BargainingInputs
from standoff.bargaining.eum import ExpectedUtility

ROOT = Path(__file__).resolve().parents[1]

CAPABILITY = [0.08, 0.08, 0.03, 0.16, 0.16, 0.16, 0.16, 0.05, 0.05, 0.08]
POSITION = [4, 7, 4, 4, 10, 10, 10, 7, 4, 7]
SALIENCE = [0.8, 0.4, 0.2, 0.8, 0.6, 0.6, 0.9, 0.1, 1.0, 0.7]
LOW, HIGH = 4.0, 10.0


def uncertain_emissions(draws: int, seed: int = 2011) -> BargainingInputs:
    """Every capability, position and salience times an independent uniform factor in
    [0.8, 1.2]; positions kept on the 4-10 scale, saliences on 0-1."""
    rng = np.random.default_rng(seed)
    n = len(CAPABILITY)

    def jitter(values: list[float]) -> np.ndarray:
        return np.array(values, dtype=float)[None] * rng.uniform(0.8, 1.2, (draws, n))

    return BargainingInputs(
        capability=jitter(CAPABILITY),
        position=np.clip(jitter(POSITION), LOW, HIGH)[:, :, None],
        salience=np.clip(jitter(SALIENCE), 0.0, 1.0)[:, :, None],
        low=np.array([LOW]),
        high=np.array([HIGH]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--reference-draws", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()

    inputs = uncertain_emissions(args.draws)
    engine = ExpectedUtility(diagnostics=False)
    start = time.perf_counter()
    engine.run(inputs.take(slice(0, 64)), args.rounds)  # warm up: compiles, or loads the cache
    first_call = time.perf_counter() - start
    start = time.perf_counter()
    fast = engine.run(inputs, args.rounds)
    vectorized = time.perf_counter() - start

    numpy_engine = ExpectedUtility(diagnostics=False, kernel="numpy")
    numpy_part = inputs.take(slice(0, min(args.draws, 20_000)))
    numpy_engine.run(numpy_part.take(slice(0, 64)), args.rounds)
    start = time.perf_counter()
    numpy_positions = numpy_engine.run(numpy_part, args.rounds).positions
    numpy_total = (time.perf_counter() - start) / numpy_part.draws * args.draws
    kernels_apart = float(np.abs(numpy_positions - fast.positions[: numpy_part.draws]).max())

    with_diag = ExpectedUtility(diagnostics=True)
    subset = inputs.take(slice(0, min(args.draws, 10_000)))
    start = time.perf_counter()
    with_diag.run(subset, args.rounds)
    diag_per_draw = (time.perf_counter() - start) / subset.draws

    sys.path.insert(0, str(ROOT))  # the plain loop is the tests' oracle: tests/eum_reference.py
    from tests.eum_reference import reference_run

    n_ref = min(args.reference_draws, args.draws)
    start = time.perf_counter()
    worst = 0.0
    for d in range(n_ref):
        slow = reference_run(inputs.take(slice(d, d + 1)), args.rounds)
        worst = max(worst, float(np.abs(slow - fast.positions[d]).max()))
    reference_per_draw = (time.perf_counter() - start) / n_ref
    reference_total = reference_per_draw * args.draws

    print(
        f"eum benchmark: EC emissions case, {args.draws:,} draws, {args.rounds} rounds, "
        f"every input +/- 20%, {os.cpu_count()} CPU(s), engine threads {engine.threads}"
    )
    print(
        f"  compiled kernel:           {vectorized:8.2f} s  ({1e6 * vectorized / args.draws:.1f} "
        f"us a draw; diagnostics off; first call {first_call:.2f} s: compile or cache load)"
    )
    print(
        f"  numpy implementation:      {numpy_total:8.2f} s  (extrapolated from "
        f"{numpy_part.draws:,} draws; {vectorized and numpy_total / vectorized:.1f}x the kernel's "
        f"time; largest difference {kernels_apart:.1e})"
    )
    print(
        f"  with diagnostics on:       {diag_per_draw * args.draws:8.2f} s  (extrapolated from "
        f"{subset.draws:,} draws)"
    )
    print(
        f"  plain per-draw loop:       {reference_per_draw * 1e3:8.2f} ms a draw, timed on "
        f"{n_ref:,} draws"
    )
    print(f"  loop for all draws:        {reference_total:8.1f} s  (extrapolated)")
    print(f"  speedup:                   {reference_total / vectorized:8.0f} x")
    print(f"  largest difference, loop vs engine, on the timed draws: {worst:.2e}")
    crisis_round()


def crisis_round(draws: int = 10_000) -> None:
    """One EUM round on the us-dprk-2018 crisis inputs (perceptions included), both kernels."""
    from standoff.compile import load
    from standoff.crisis.simulate import _State
    from standoff.sample import Sampler

    compiled = load("us-dprk-2018")
    plan = compiled.crisis
    assert plan is not None
    sampled = Sampler(compiled.case, 20180815, plan).draws(0, draws)
    inputs = _State(plan, sampled.inputs, sampled.params).bargaining_inputs()
    times = {}
    for kernel in ("compiled", "numpy"):
        engine = ExpectedUtility(kernel=kernel)
        engine.run(inputs.take(slice(0, 64)), 1)
        start = time.perf_counter()
        engine.run(inputs, 1)
        times[kernel] = time.perf_counter() - start
    print(
        f"one round on the us-dprk-2018 crisis inputs ({inputs.n_actors} actors, "
        f"{inputs.n_issues} issues, perceptions), {draws:,} draws, diagnostics on: compiled "
        f"{times['compiled'] * 1e3:.0f} ms, numpy {times['numpy'] * 1e3:.0f} ms "
        f"({times['numpy'] / times['compiled']:.1f}x)"
    )


if __name__ == "__main__":
    main()
