"""Drivers: global sensitivity of each scenario's and question's probability to every uncertain
input, by the method of Morris (elementary effects), with SALib.

Why Morris: a crisis case has dozens of uncertain inputs and each evaluation of the model is itself
a Monte Carlo estimate (a probability over event draws). Sobol' indices need N (k + 2) evaluations
for k inputs with N in the thousands; Morris ranks k inputs with r (k + 1) evaluations, r about
10-20, which is what a report can afford (Saltelli et al. 2008, *Global Sensitivity Analysis: The
Primer*, ch. 3; Campolongo, Cariboni & Saltelli 2007, the mu* measure). Each input is moved over its
own 90% interval: the unit interval of the design maps to the input's 5th..95th percentile.

Each design point is evaluated on the same R event draws (common random numbers), so that the
difference between two neighbouring points reflects the input that changed, not event noise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .case.numbers import quantile
from .compile import CompiledCase
from .result import DRIVER_RANGE, Driver, Sensitivity
from .run.executor import Executor, ProgressFn, run_blocks
from .run.tasks import DesignPoints
from .sample import Slot, slots

LOW_Q, HIGH_Q = DRIVER_RANGE
DEFAULT_TRAJECTORIES = 10
DEFAULT_REPLICATES = 64
DEFAULT_LEVELS = 4
DRAWS_PER_BLOCK = 4096  # design points x replicates simulated at once

__all__ = ["Driver", "Sensitivity", "evaluate_points", "morris", "uncertain_slots"]


def uncertain_slots(compiled: CompiledCase) -> list[Slot]:
    return [slot for slot in slots(compiled.case, compiled.crisis) if not slot.dist.is_fixed]


def evaluate_points(
    compiled: CompiledCase,
    units: NDArray[np.float64],
    replicates: int,
    seed: int,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scenario and question probabilities at design points. units: (P, k) in [0, 1], one
    column per uncertain input, mapped to the input's 5th..95th percentile. Returns (P, S) and
    (P, Q) shares over `replicates` event draws, the same draws at every point."""
    task = DesignPoints(compiled, tuple(uncertain_slots(compiled)), units, replicates, seed)
    parts = run_blocks(
        task,
        units.shape[0],
        max(1, DRAWS_PER_BLOCK // replicates),
        executor,
        progress,
        stage="sensitivity",
    )
    return np.concatenate([s for s, _ in parts]), np.concatenate([q for _, q in parts])


def morris(
    compiled: CompiledCase,
    trajectories: int = DEFAULT_TRAJECTORIES,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
    levels: int = DEFAULT_LEVELS,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> Sensitivity:
    """Morris screening of every uncertain input of a crisis case, per scenario and question."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    plan = compiled.crisis
    if plan is None:
        raise ValueError(f"case {compiled.case.id!r} has no crisis section: nothing to screen")
    uncertain = uncertain_slots(compiled)
    if not uncertain:
        return Sensitivity([], [], trajectories, replicates, 0, seed)
    keys = [slot.key for slot in uncertain]
    problem = {
        "num_vars": len(uncertain),
        "names": keys,
        "bounds": [[0.0, 1.0]] * len(uncertain),
    }
    design = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    scenario_share, question_share = evaluate_points(
        compiled, design, replicates, seed, executor, progress
    )
    targets = [(rule.id, "scenario", scenario_share[:, s]) for s, rule in enumerate(plan.scenarios)]
    targets += [
        (rule.id, "question", question_share[:, q]) for q, (rule, _) in enumerate(plan.questions)
    ]
    ends = {
        slot.key: quantile(slot.dist, np.array([LOW_Q, HIGH_Q]), slot.quantity)
        for slot in uncertain
    }
    drivers: list[Driver] = []
    for target, kind, y in targets:
        result = morris_analyze.analyze(
            problem, design, y, num_levels=levels, seed=seed, print_to_console=False
        )
        for i, slot in enumerate(uncertain):
            drivers.append(
                Driver(
                    input=slot.key,
                    label=slot.label,
                    target=target,
                    kind=kind,
                    mu_star=float(result["mu_star"][i]),
                    mu=float(result["mu"][i]),
                    sigma=float(np.nan_to_num(result["sigma"][i])),
                    mu_star_conf=float(np.nan_to_num(result["mu_star_conf"][i])),
                    low=float(ends[slot.key][0]),
                    high=float(ends[slot.key][1]),
                )
            )
    return Sensitivity(drivers, keys, trajectories, replicates, len(design), seed)
