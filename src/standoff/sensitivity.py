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

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .bargaining import make_engine
from .case.numbers import quantile
from .case.schema import Case
from .crisis.model import CompiledCrisis
from .crisis.simulate import simulate
from .sample import Slot, _assemble, event_uniforms, slots

LOW_Q, HIGH_Q = 0.05, 0.95
DEFAULT_TRAJECTORIES = 10
DEFAULT_REPLICATES = 64
DEFAULT_LEVELS = 4


@dataclass(frozen=True)
class Driver:
    input: str  # the input's label, e.g. "beliefs.president_independent.prior"
    target: str  # scenario or question id
    kind: str  # "scenario" | "question"
    mu_star: float  # mean absolute elementary effect: change in probability over the input's range
    mu: float  # signed mean elementary effect
    sigma: float  # spread of the effects (interactions, non-linearity)
    mu_star_conf: float  # bootstrap 95% half-width of mu_star (SALib)
    low: float  # the input at its 5th percentile
    high: float  # ... and 95th


@dataclass(frozen=True)
class Sensitivity:
    drivers: list[Driver]
    inputs: list[str]
    trajectories: int
    replicates: int
    evaluations: int
    seed: int

    def for_target(self, target: str) -> list[Driver]:
        return sorted((d for d in self.drivers if d.target == target), key=lambda d: -d.mu_star)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "morris",
            "trajectories": self.trajectories,
            "replicates": self.replicates,
            "evaluations": self.evaluations,
            "seed": self.seed,
            "range": [LOW_Q, HIGH_Q],
            "drivers": {
                target: [
                    {
                        "input": d.input,
                        "mu_star": round(d.mu_star, 6),
                        "mu": round(d.mu, 6),
                        "sigma": round(d.sigma, 6),
                        "mu_star_conf": round(d.mu_star_conf, 6),
                        "low": round(d.low, 6),
                        "high": round(d.high, 6),
                    }
                    for d in self.for_target(target)
                ]
                for target in dict.fromkeys(d.target for d in self.drivers)
            },
        }


def uncertain_slots(case: Case) -> list[Slot]:
    return [slot for slot in slots(case) if not slot.dist.is_fixed]


def evaluate_points(
    case: Case, units: NDArray[np.float64], replicates: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scenario and question probabilities at design points. units: (P, k) in [0, 1], one
    column per uncertain input, mapped to the input's 5th..95th percentile. Returns (P, S) and
    (P, Q) shares over `replicates` event draws, the same draws at every point."""
    plan: CompiledCrisis = case.plan
    uncertain = uncertain_slots(case)
    column = {slot.label: i for i, slot in enumerate(uncertain)}
    n_points = units.shape[0]
    engine = make_engine(case.crisis.engine if case.crisis else "eum")
    uniforms = event_uniforms(seed, 0, replicates, (plan.rounds, len(plan.events)))
    scenario_share = np.zeros((n_points, len(plan.scenarios)))
    question_share = np.zeros((n_points, len(plan.questions)))
    per_chunk = max(1, 4096 // replicates)
    for start in range(0, n_points, per_chunk):
        stop = min(n_points, start + per_chunk)
        block = units[start:stop]

        def value(slot: Slot, block: NDArray[np.float64] = block) -> NDArray[np.float64]:
            if slot.label in column:
                u = LOW_Q + (HIGH_Q - LOW_Q) * block[:, column[slot.label]]
                return np.repeat(quantile(slot.dist, u, slot.quantity), replicates)
            return np.full(len(block) * replicates, slot.dist.central(slot.quantity))

        drawn = _assemble(case, value, len(block) * replicates)
        run = simulate(
            plan, drawn.inputs, drawn.params, np.tile(uniforms, (len(block), 1, 1)), engine
        )
        scenario = run.scenario.reshape(len(block), replicates)
        for s in range(len(plan.scenarios)):
            scenario_share[start:stop, s] = (scenario == s).mean(axis=1)
        question_share[start:stop] = run.questions.reshape(len(block), replicates, -1).mean(axis=1)
    return scenario_share, question_share


def morris(
    case: Case,
    trajectories: int = DEFAULT_TRAJECTORIES,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
    levels: int = DEFAULT_LEVELS,
) -> Sensitivity:
    """Morris screening of every uncertain input of a crisis case, per scenario and question."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    if case.plan is None:
        raise ValueError(f"case {case.id!r} has no crisis section: nothing to screen")
    uncertain = uncertain_slots(case)
    if not uncertain:
        return Sensitivity([], [], trajectories, replicates, 0, seed)
    names = [slot.label for slot in uncertain]
    problem = {
        "num_vars": len(uncertain),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(uncertain),
    }
    design = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    scenario_share, question_share = evaluate_points(case, design, replicates, seed)
    plan: CompiledCrisis = case.plan
    targets = [(rule.id, "scenario", scenario_share[:, s]) for s, rule in enumerate(plan.scenarios)]
    targets += [
        (rule.id, "question", question_share[:, q]) for q, (rule, _) in enumerate(plan.questions)
    ]
    ends = {
        slot.label: quantile(slot.dist, np.array([LOW_Q, HIGH_Q]), slot.quantity)
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
                    input=slot.label,
                    target=target,
                    kind=kind,
                    mu_star=float(result["mu_star"][i]),
                    mu=float(result["mu"][i]),
                    sigma=float(np.nan_to_num(result["sigma"][i])),
                    mu_star_conf=float(np.nan_to_num(result["mu_star_conf"][i])),
                    low=float(ends[slot.label][0]),
                    high=float(ends[slot.label][1]),
                )
            )
    return Sensitivity(drivers, names, trajectories, replicates, len(design), seed)
