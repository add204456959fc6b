"""Benchmark of the eum engine: 100,000 draws of the EC emissions case (Scholz et al. 2011) with
every input uncertain (about +/- 20%), under each reading: "forecast" (the default: run until the
positions rest or cycle, at most 100 rounds) and "scholz-table2" (8 fixed rounds), with the
compiled kernel (default) and the numpy implementation (timed on a subset), against a plain
per-draw loop over the same equations (`tests/eum_reference.py`, the tests' oracle; each draw for
the rounds the engine ran it), timed on a subset and extrapolated. Then one round on the inputs of
the built-in us-dprk-2018 crisis (7 actors, 3 issues, with perceptions), 10,000 draws, as the
crisis simulation calls it each round.

    .venv/bin/python benchmarks/bench_eum.py [--draws 100000] [--reference-draws 500]
        [--reading forecast|scholz-table2|both] [--rounds N]

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
from standoff.bargaining.eum import READINGS, ExpectedUtility

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
    parser.add_argument(
        "--rounds", type=int, default=None, help="default: the reading's (100 cap, or 8)"
    )
    parser.add_argument("--reading", choices=[*READINGS, "both"], default="both")
    args = parser.parse_args()
    inputs = uncertain_emissions(args.draws)
    readings = list(READINGS) if args.reading == "both" else [args.reading]
    for reading in readings:
        bench_reading(inputs, reading, args.rounds, args.reference_draws)
    crisis_round(readings)


def bench_reading(
    inputs: BargainingInputs, reading: str, rounds: int | None, reference_draws: int
) -> None:
    draws = inputs.draws
    engine = ExpectedUtility(reading=reading, diagnostics=False)
    start = time.perf_counter()
    engine.run(inputs.take(slice(0, 64)), rounds)  # warm up: compiles, or loads the cache
    first_call = time.perf_counter() - start
    start = time.perf_counter()
    fast = engine.run(inputs, rounds)
    vectorized = time.perf_counter() - start

    numpy_engine = ExpectedUtility(reading=reading, diagnostics=False, kernel="numpy")
    numpy_part = inputs.take(slice(0, min(draws, 20_000)))
    numpy_engine.run(numpy_part.take(slice(0, 64)), rounds)
    start = time.perf_counter()
    numpy_positions = numpy_engine.run(numpy_part, rounds).positions
    numpy_total = (time.perf_counter() - start) / numpy_part.draws * draws
    width = min(numpy_positions.shape[1], fast.positions.shape[1])
    kernels_apart = float(
        np.abs(numpy_positions[:, :width] - fast.positions[: numpy_part.draws, :width]).max()
    )

    with_diag = ExpectedUtility(reading=reading, diagnostics=True)
    subset = inputs.take(slice(0, min(draws, 10_000)))
    start = time.perf_counter()
    with_diag.run(subset, rounds)
    diag_per_draw = (time.perf_counter() - start) / subset.draws

    sys.path.insert(0, str(ROOT))  # the plain loop is the tests' oracle: tests/eum_reference.py
    from tests.eum_reference import reference_run

    # the plain loop runs a fixed number of rounds: each draw for the rounds the engine ran it
    # (a stopped draw keeps its state at rounds_run)
    options = engine.options()
    equations = {k: options[k] for k in ("Q", "T", "risk", "probability", "choice", "vote_risk")}
    n_ref = min(reference_draws, draws)
    start = time.perf_counter()
    worst = 0.0
    for d in range(n_ref):
        steps = int(fast.rounds_run[d])
        slow = reference_run(inputs.take(slice(d, d + 1)), steps, **equations)
        worst = max(worst, float(np.abs(slow - fast.positions[d, : steps + 1]).max()))
    reference_per_draw = (time.perf_counter() - start) / n_ref
    reference_total = reference_per_draw * draws

    cycle = fast.diagnostics["cycle_length"][:, 0]
    print(
        f"eum benchmark, reading {reading}: EC emissions case, {draws:,} draws, "
        f"rounds {'the reading' + chr(39) + 's' if rounds is None else rounds} "
        f"({options['stop']}, at most {options['max_rounds'] if rounds is None else rounds}), "
        f"every input +/- 20%, {os.cpu_count()} CPU(s), engine threads {engine.threads}"
    )
    print(
        f"  rounds run: mean {fast.rounds_run.mean():.2f}, max {fast.rounds_run.max()}; "
        f"converged {np.mean(cycle == 1):.1%}, in a cycle {np.mean(cycle >= 2):.1%}, "
        f"not stopped {np.mean(cycle == 0):.1%}"
    )
    print(
        f"  compiled kernel:           {vectorized:8.2f} s  ({1e6 * vectorized / draws:.1f} "
        f"us a draw; diagnostics off; first call {first_call:.2f} s: compile or cache load)"
    )
    print(
        f"  numpy implementation:      {numpy_total:8.2f} s  (extrapolated from "
        f"{numpy_part.draws:,} draws; {vectorized and numpy_total / vectorized:.1f}x the kernel's "
        f"time; largest difference {kernels_apart:.1e})"
    )
    print(
        f"  with diagnostics on:       {diag_per_draw * draws:8.2f} s  (extrapolated from "
        f"{subset.draws:,} draws)"
    )
    print(
        f"  plain per-draw loop:       {reference_per_draw * 1e3:8.2f} ms a draw, timed on "
        f"{n_ref:,} draws"
    )
    print(f"  loop for all draws:        {reference_total:8.1f} s  (extrapolated)")
    print(f"  speedup:                   {reference_total / vectorized:8.0f} x")
    print(f"  largest difference, loop vs engine, on the timed draws: {worst:.2e}")


def crisis_round(readings: list[str], draws: int = 10_000) -> None:
    """One EUM round on the us-dprk-2018 crisis inputs (perceptions included), both kernels."""
    from standoff.compile import load
    from standoff.simulate.crisis import _State
    from standoff.simulate.sample import Sampler

    compiled = load("us-dprk-2018")
    plan = compiled.crisis
    assert plan is not None
    sampled = Sampler(compiled.case, 20180815, plan).draws(0, draws)
    inputs = _State(plan, sampled.inputs, sampled.params).bargaining_inputs()
    for reading in readings:
        times = {}
        for kernel in ("compiled", "numpy"):
            engine = ExpectedUtility(reading=reading, kernel=kernel)
            engine.run(inputs.take(slice(0, 64)), 1)
            start = time.perf_counter()
            engine.run(inputs, 1)
            times[kernel] = time.perf_counter() - start
        print(
            f"one round on the us-dprk-2018 crisis inputs ({inputs.n_actors} actors, "
            f"{inputs.n_issues} issues, perceptions), reading {reading}, {draws:,} draws, "
            f"diagnostics on: compiled {times['compiled'] * 1e3:.0f} ms, numpy "
            f"{times['numpy'] * 1e3:.0f} ms ({times['numpy'] / times['compiled']:.1f}x)"
        )


if __name__ == "__main__":
    main()
