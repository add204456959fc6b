"""Fill numba's cache of the EUM's JIT kernel: `python -m standoff.bargaining.eum.warm`, which
`make` runs when it builds the environment, so that a process that uses the JIT kernel (where the
kernel compiled ahead of time, native.py, is not built, or with STANDOFF_NATIVE=0) does not spend
its first seconds compiling. numba caches the compiled code beside the module (`cache=True`) and
recompiles, rather than fails, when the cache does not match the source or the machine."""

from __future__ import annotations

import os
import time

import numpy as np

from ..base import BargainingInputs
from .engine import ExpectedUtility


def _inputs(perceived: bool) -> BargainingInputs:
    rng = np.random.default_rng(0)
    draws, actors, issues = 2, 3, 2
    capability = rng.uniform(1, 10, (draws, actors))
    position = rng.uniform(0, 100, (draws, actors, issues))
    salience = rng.uniform(0.2, 1, (draws, actors, issues))
    return BargainingInputs(
        capability=capability,
        position=position,
        salience=salience,
        low=np.zeros(issues),
        high=np.full(issues, 100.0),
        risk=np.zeros((draws, actors)),
        perceived_capability=(
            np.repeat(capability[:, None, :], actors, axis=1) if perceived else None
        ),
        perceived_position=np.repeat(position[:, None, :, :], actors, axis=1)
        if perceived
        else None,
        perceived_salience=np.repeat(salience[:, None, :, :], actors, axis=1)
        if perceived
        else None,
    )


def warm_up() -> float:
    """Run every configuration the commands use once on the JIT kernel, on a tiny case; the
    seconds it took."""
    start = time.perf_counter()
    before = os.environ.get("STANDOFF_NATIVE")
    os.environ["STANDOFF_NATIVE"] = "0"  # the JIT kernel, also where the native one is built
    try:
        for reading in ("forecast", "scholz-table2"):
            for perceived in (False, True):
                for diagnostics in (False, True):
                    engine = ExpectedUtility(reading=reading, diagnostics=diagnostics, threads=1)
                    engine.run(_inputs(perceived), 1 if perceived else None)
    finally:
        if before is None:
            del os.environ["STANDOFF_NATIVE"]
        else:
            os.environ["STANDOFF_NATIVE"] = before
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"EUM kernel compiled or loaded from its cache in {warm_up():.1f} s")
