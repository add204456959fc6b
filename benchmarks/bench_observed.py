"""Benchmark: the flagship forecast conditioned on its observations (cases/observations/
us-dprk-2018.yaml: seven months, to 15 March 2019) against the same forecast unconditioned, both
at 100,000 draws in this process (the compiled kernels warmed first). Target: the conditioned
run under 3x the unconditioned. Prints each time (median of the runs), the ratio, and the
effective sample size of the conditioned run.

Run: .venv/bin/python benchmarks/bench_observed.py [--draws N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from standoff.compile import load
from standoff.compile.observed import read_observations
from standoff.pipeline.forecast import run

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    compiled = load("us-dprk-2018")
    seen = read_observations(REPO / "cases" / "observations" / "us-dprk-2018.yaml")
    run(compiled, draws=2_000, observed=seen)  # warm: kernels, caches
    plain: list[float] = []
    conditioned: list[float] = []
    effective = 0.0
    inputs = 0.0
    for _ in range(args.runs):  # alternate, so that a drifting machine moves both
        start = time.perf_counter()
        run(compiled, draws=args.draws)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = run(compiled, draws=args.draws, observed=seen)
        conditioned.append(time.perf_counter() - start)
        assert result.observed is not None
        effective, inputs = result.observed.effective_draws, result.observed.effective_inputs
    a, b = statistics.median(plain), statistics.median(conditioned)
    print(f"flagship, {args.draws:,} draws, median of {args.runs} runs")
    print(f"  unconditioned          {a:7.2f} s")
    print(f"  conditioned to month 7 {b:7.2f} s   {b / a:.2f}x the unconditioned (target < 3x)")
    print(
        f"  effective sample size  {effective:,.0f} histories of {args.draws:,} "
        f"({inputs:,.0f} effective input draws of {args.draws // compiled.crisis.replicates:,})"
        if compiled.crisis
        else ""
    )


if __name__ == "__main__":
    main()
