"""Benchmark of a crisis forecast: the built-in us-dprk-2018 case (7 actors, 3 issues, 12 monthly
rounds, 13 event kinds), 10,000 draws. Target: under 3 s on a 2-core machine.

The reference, timed in the same run, is the same simulation run one draw at a time (a batch of
size one, as a per-draw loop would), on a subset of draws and extrapolated to 10,000.

Run: .venv/bin/python benchmarks/bench_crisis.py [CASE] [DRAWS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from standoff.bargaining import make_engine
from standoff.compile import load
from standoff.pipeline.forecast import simulate_histories
from standoff.simulate.crisis import simulate
from standoff.simulate.sample import Sampler, event_uniforms

SEED = 20180815
REFERENCE_DRAWS = 100


def main() -> None:
    case_ref = sys.argv[1] if len(sys.argv) > 1 else "us-dprk-2018"
    draws = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    compiled = load(case_ref)
    case, plan = compiled.case, compiled.crisis
    assert plan is not None, f"{case_ref} is not a crisis case"
    simulate_histories(compiled, 200, SEED, 200)  # warm-up: imports, first allocations

    start = time.perf_counter()
    simulate_histories(compiled, draws, SEED, 4096)
    vectorized = time.perf_counter() - start

    engine = make_engine("eum")
    sampled = Sampler(case, SEED, plan).draws(0, REFERENCE_DRAWS)
    uniforms = event_uniforms(SEED, 0, REFERENCE_DRAWS, (plan.rounds, len(plan.events)))
    start = time.perf_counter()
    for d in range(REFERENCE_DRAWS):
        one = np.array([d])
        simulate(plan, sampled.inputs.take(one), {k: v[one] for k, v in sampled.params.items()},
                 uniforms[one], engine)  # fmt: skip
    per_draw = (time.perf_counter() - start) / REFERENCE_DRAWS

    print(f"case {case.id}: {len(case.actors)} actors, {len(case.issues)} issues, "
          f"{plan.rounds} rounds, {len(plan.events)} event kinds")  # fmt: skip
    print(
        f"vectorized: {draws:,} draws in {vectorized:.2f} s "
        f"({vectorized / draws * 1e6:.0f} us a draw)"
    )
    print(f"reference, one draw at a time: {per_draw * 1e3:.1f} ms a draw "
          f"(on {REFERENCE_DRAWS} draws): {per_draw * draws:.0f} s for {draws:,}")  # fmt: skip
    print(f"speed-up: {per_draw * draws / vectorized:.0f}x; target under 3 s: "
          f"{'met' if vectorized < 3 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
