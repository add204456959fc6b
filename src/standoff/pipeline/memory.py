"""Memory and work, estimated before a run: a command refuses a run that cannot fit in this
machine's memory before it starts, naming the figure and the flag to change (`check_fits`, one
estimate for forecasts, drivers, ablations and `settle`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..bargaining import ENGINES
from ..compile import CompiledCase
from ..defaults import DEFAULT_CHUNK

ASSUMED_ROUNDS = 100  # rounds assumed for an engine that runs until its positions converge
_WORKING = 4  # working copies of a chunk's arrays an engine or a history keeps at once


class TooBig(ValueError):
    """A run that cannot fit in this machine's memory; the message names the figure and the flag
    to change."""


def _bytes(n: float) -> str:
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1e3:.3g} kB"


def machine_memory() -> int:
    """Physical memory of this machine in bytes (16 GB where the system does not say)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 16 * 10**9


@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs: `kept` (held for the whole run: each draw's settlement, and a crisis
    case's beliefs and tallies) and `working` (one chunk of draws, and its histories, at a
    time)."""

    kept: float
    working: float
    what: str  # what the kept bytes hold, for the message

    @property
    def total(self) -> float:
        return self.kept + self.working


def estimate(
    compiled: CompiledCase,
    *,
    draws: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    model: str | None = None,
    rounds: int | None = None,
    trajectories: int = 0,
    replicates: int = 0,
    runs: int = 1,
) -> Estimate:
    """Memory a command needs, from draws x actors x issues x rounds (x events, dyads, beliefs
    for a crisis case). `runs`: whole runs kept at once (2 for an ablation). `trajectories` and
    `replicates`: a sensitivity analysis (Morris) as well. With no draws: one deterministic run
    (`settle`)."""
    case, plan = compiled.case, compiled.crisis
    n, k = max(len(case.actors), 1), max(len(case.issues), 1)
    per_draw_inputs = 8.0 * (2 * n + 2 * n * k)
    if case.perceptions:
        per_draw_inputs += 8.0 * (n * n + 2 * n * n * k)
    chunk = min(chunk_size, max(draws, 1))
    if plan is None or (not draws and not trajectories):
        if rounds is None:
            engine = ENGINES.get(model or "compromise")
            default = engine.default_rounds if engine is not None else None
            rounds = ASSUMED_ROUNDS if default is None else default
        per_draw_run = 8.0 * (rounds + 1) * n * k + per_draw_inputs
        if not draws:  # settle: one draw, every round's positions kept and written
            return Estimate(
                kept=per_draw_run * 4, working=0.0, what=f"{rounds:,} rounds of positions"
            )
        return Estimate(
            kept=8.0 * draws * k * 2,
            working=chunk * per_draw_run * _WORKING,
            what="each draw's settlement",
        )
    t, e = max(plan.rounds, 1), len(plan.events)
    p, b, q = len(plan.dyads), len(plan.beliefs), len(plan.questions)
    # per dyad and round: the two sides' views (int8) and the four traced terms (float64)
    per_history = 8 + q + t * e + t * p * (2 + 8.0 * 4) + 8.0 * (t + 1) * b + 8 + 8.0 * k
    per_history_working = (
        per_draw_inputs + 8.0 * t * e + 8.0 * n * k * _WORKING + 8.0 * (p * n + n * n)
    )
    # a run keeps, per draw, only its share of the per-group hits (and, conditioned on
    # observations, of the per-group weights and inputs); the histories live one block at a time,
    # the settlement and the beliefs are tallied into histograms and sums of fixed size
    from ..simulate.histories import SETTLEMENT_BINS

    s = len(plan.scenarios)
    per_draw_kept = 8.0 * (s + q) * 2 / max(plan.replicates, 1)
    kept = runs * (draws * per_draw_kept + 8.0 * k * SETTLEMENT_BINS + 8.0 * (t + 1) * b)
    working = chunk * (per_history + per_history_working)
    if trajectories:
        points = trajectories * (len(plan.parameters) + n * (2 + 2 * k) + 1)
        kept += 8.0 * points * (len(plan.scenarios) + q + 1) * 4
        working = max(working, replicates * (per_history + per_history_working))
    return Estimate(
        kept=kept, working=working, what="the hits of each group of replicates of this case"
    )


def check_fits(compiled: CompiledCase, *, memory: int | None = None, **run: Any) -> Estimate:
    """Refuse (TooBig) a run whose estimated memory exceeds this machine's, naming the figure
    and the flag to change; see `estimate` for the arguments."""
    got = estimate(compiled, **run)
    most = machine_memory() if memory is None else memory
    if got.total <= most:
        return got
    draws = run.get("draws", 0)
    limit = f"the most this machine can hold is about {_bytes(most)}"
    need = f"about {_bytes(got.total)} of memory"
    if not draws and not run.get("trajectories"):
        flag = f"--rounds {run.get('rounds') or 0:,}"
        raise TooBig(f"{flag} needs {need} for {got.what}; {limit}; lower --rounds")
    if not draws:
        raise TooBig(
            f"--trajectories {run.get('trajectories', 0):,} with --replicates "
            f"{run.get('replicates', 0):,} needs {need}; {limit}; lower --trajectories or "
            "--replicates"
        )
    if got.kept >= got.working:
        raise TooBig(f"--draws {draws:,} needs {need} for {got.what}; {limit}; lower --draws")
    raise TooBig(
        f"--chunk-size {run.get('chunk_size', DEFAULT_CHUNK):,} needs {need} for one chunk of "
        f"draws of this case; {limit}; lower --chunk-size (it does not change the results)"
    )
