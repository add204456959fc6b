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

from ..case.numbers import quantile
from ..case.schema import case_note
from ..compile import CompiledCase
from ..compile.observed import Observations, ObservedPlan, compile_observations
from ..defaults import DEFAULT_REPLICATES, DEFAULT_TRAJECTORIES
from ..errors import CaseError, Problem
from ..result import DRIVER_RANGE, Driver, Sensitivity
from ..run.executor import Executor, ProgressFn, run_blocks
from ..simulate import sample
from ..simulate.sample import Slot
from .tasks import DesignPoints

LOW_Q, HIGH_Q = DRIVER_RANGE
DEFAULT_LEVELS = 4
DRAWS_PER_BLOCK = 4096  # design points x replicates simulated at once

__all__ = ["Driver", "Sensitivity", "evaluate_points", "morris", "uncertain_slots"]


def uncertain_slots(compiled: CompiledCase) -> list[Slot]:
    return sample.uncertain_slots(compiled.case, compiled.crisis)


def evaluate_points(
    compiled: CompiledCase,
    units: NDArray[np.float64],
    replicates: int,
    seed: int,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
    observed: ObservedPlan | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scenario and question probabilities at design points. units: (P, k) in [0, 1], one
    column per uncertain input, mapped to the input's 5th..95th percentile. Returns (P, S) and
    (P, Q) shares over `replicates` event draws, the same draws at every point."""
    task = DesignPoints(
        compiled, tuple(uncertain_slots(compiled)), units, replicates, seed, observed
    )
    parts = run_blocks(
        task,
        units.shape[0],
        max(1, DRAWS_PER_BLOCK // replicates),
        executor,
        progress,
        stage="sensitivity",
    )
    return np.concatenate([s for s, _ in parts]), np.concatenate([q for _, q in parts])


def effects_where_defined(
    design: NDArray[np.float64], y: NDArray[np.float64], k: int
) -> dict[str, NDArray[np.float64]]:
    """Morris's statistics from the elementary effects whose two points both have a value (y is
    NaN where a conditioned forecast is undefined: the observations cannot happen there).

    Each trajectory is k + 1 points that change one input at a time; the effect of input i is
    (y(after) - y(before)) / (step of i). mu is the mean effect, mu* the mean absolute effect,
    sigma their standard deviation, and mu*_conf the half-width of a normal 95% interval of mu*
    (1.96 sd / sqrt(n)); an input with no defined effect gets 0 throughout."""
    effects: list[list[float]] = [[] for _ in range(k)]
    for start in range(0, len(design) - k, k + 1):
        x, v = design[start : start + k + 1], y[start : start + k + 1]
        step = np.diff(x, axis=0)  # (k, k): one non-zero per row
        which = np.argmax(np.abs(step), axis=1)
        for j in range(k):
            if np.isnan(v[j]) or np.isnan(v[j + 1]):
                continue
            i = int(which[j])
            effects[i].append(float((v[j + 1] - v[j]) / step[j, i]))
    out = {name: np.zeros(k) for name in ("mu", "mu_star", "sigma", "mu_star_conf")}
    for i, e in enumerate(effects):
        if not e:
            continue
        a = np.asarray(e)
        out["mu"][i] = a.mean()
        out["mu_star"][i] = np.abs(a).mean()
        out["sigma"][i] = a.std(ddof=1) if len(a) > 1 else 0.0
        out["mu_star_conf"][i] = (
            1.96 * np.abs(a).std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else 0.0
        )
    return out


def morris(
    compiled: CompiledCase,
    trajectories: int = DEFAULT_TRAJECTORIES,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
    levels: int = DEFAULT_LEVELS,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
    observed: Observations | None = None,
) -> Sensitivity:
    """Morris screening of every uncertain input of a crisis case, per scenario and question.

    With `observed`, each design point's shares are conditioned on the observations (weighted,
    as in `forecast.run`). Where the observations are impossible at a design point (no replicate
    carries weight), the elementary effects through that point are undefined and left out
    (`effects_where_defined`); a CaseError when fewer than two points are left."""
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
    plan_seen = None
    if observed is not None:
        assert compiled.case.as_of is not None
        plan_seen = compile_observations(observed, plan, compiled.case.as_of, compiled.case.id)
    scenario_share, question_share = evaluate_points(
        compiled, design, replicates, seed, executor, progress, plan_seen
    )
    fits = None
    if observed is not None:
        fits = ~np.isnan(scenario_share).any(axis=1)  # points where the observations can happen
        if fits.sum() < 2:
            raise CaseError(
                [
                    Problem(
                        observed.file, 1, "(file)",
                        f"the observations are impossible at {int((~fits).sum())} of "
                        f"{int(np.size(fits))} Morris design points, leaving too few to screen the "
                        "inputs; raise --trajectories or --replicates",
                    )
                ]
            )  # fmt: skip
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
        result = (
            morris_analyze.analyze(
                problem, design, y, num_levels=levels, seed=seed, print_to_console=False
            )
            if fits is None
            else effects_where_defined(design, y, len(uncertain))
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
                    note=case_note(compiled.case, slot.ref),
                )
            )
    return Sensitivity(drivers, keys, trajectories, replicates, len(design), seed)
