"""The tasks a run hands its executor: each turns one block of units into a partial result.
Tasks are plain, picklable values; each draws what it needs from the block-seeded sampler, so a
block's result depends only on (case, options, seed, block)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..bargaining import Engine, make_engine, weighted_median
from ..case.numbers import quantile
from ..case.schema import Case
from ..compile import CompiledCase
from ..compile.observed import ObservedPlan
from ..compile.plan import CompiledCrisis
from ..result import DRIVER_RANGE
from ..run.executor import Block
from ..simulate.crisis import Probe, simulate
from ..simulate.histories import CrisisHistories, CrisisTally
from ..simulate.sample import Sampler, Slot, assemble, event_uniforms


@dataclass(frozen=True)
class SettleDraws:
    """A plain bargaining case: run the engine on each draw; the settlement per issue, (D, K)."""

    case: Case
    model: str
    options: Mapping[str, Any]
    seed: int
    rounds: int | None

    def __call__(self, block: Block) -> NDArray[np.float64]:
        engine = make_engine(self.model, **dict(self.options)).positions_only()
        inputs = Sampler(self.case, self.seed).draws(block.start, block.stop).inputs
        trajectory = engine.run(inputs, self.rounds)
        return engine.settlement(inputs, trajectory)


@dataclass(frozen=True)
class SimulateCrisis:
    """A crisis case: play out draws [start, stop). Draws come in groups of the case's replicates
    that share one draw of the inputs; the event uniforms are drawn per draw. With `frozen`, the
    model-derived terms of formulas so keyed return the given values (an ablation)."""

    compiled: CompiledCase
    seed: int
    frozen: Mapping[tuple[str, ...], float] | None = None
    observed: ObservedPlan | None = None

    def __call__(self, block: Block) -> CrisisHistories:
        probe = Probe(dict(self.frozen)) if self.frozen is not None else None
        return self.simulate(block, probe)

    def simulate(self, block: Block, probe: Probe | None) -> CrisisHistories:
        case, plan = self.compiled.case, _crisis(self.compiled)
        engine = _crisis_engine(plan.engine)
        group = np.arange(block.start, block.stop) // plan.replicates
        g0 = int(group[0])
        sampled = Sampler(case, self.seed, plan).draws(g0, int(group[-1]) + 1)
        index = group - g0
        inputs = sampled.inputs.take(index)
        params = {k: v[index] for k, v in sampled.params.items()}
        uniforms = event_uniforms(
            self.seed, block.start, block.stop, (plan.rounds, len(plan.events))
        )
        run = simulate(plan, inputs, params, uniforms, engine, probe, self.observed)
        uncertain = None
        if self.observed is not None:  # the posterior of each uncertain input is reported
            keys = list(sampled.uncertain)  # the order of the uncertain slots
            uncertain = (
                np.stack([sampled.uncertain[k][index] for k in keys], axis=1)
                if keys
                else np.zeros((len(index), 0))
            )
        return CrisisHistories(
            scenario=run.scenario,
            questions=run.questions,
            fired=run.fired,
            views=run.views,
            bargaining=run.bargaining,
            beliefs=run.beliefs,
            ended=run.ended,
            settlement=weighted_median(run.final_position, inputs.capability, inputs.salience),
            weight=run.weight,
            killed=run.killed,
            uncertain=uncertain,
        )


@dataclass(frozen=True)
class TallyCrisis:
    """A crisis case: play out draws [start, stop) as `SimulateCrisis` does and return what the
    summaries need of them (`CrisisTally`), not the histories: a run's memory stays flat in the
    draws. Tallies of the blocks merge in block order (`CrisisTally.merge`). With `observed`, the
    histories are conditioned on the observations (weighted; see `simulate.crisis`)."""

    compiled: CompiledCase
    seed: int
    frozen: Mapping[tuple[str, ...], float] | None = None
    observed: ObservedPlan | None = None

    def __call__(self, block: Block) -> CrisisTally:
        plan = _crisis(self.compiled)
        histories = SimulateCrisis(self.compiled, self.seed, self.frozen, self.observed)(block)
        bounds = np.array([issue.range for issue in self.compiled.case.issues], dtype=float)
        return CrisisTally.of(histories, len(plan.scenarios), plan.replicates, block.start, bounds)


@dataclass(frozen=True)
class RecordTerms:
    """A crisis case: play out draws [start, stop) as `SimulateCrisis` does and return, for each
    model-derived term of the formulas, its (sum, count, min, max) over draws and rounds."""

    compiled: CompiledCase
    seed: int

    def __call__(self, block: Block) -> dict[tuple[str, ...], tuple[float, int, float, float]]:
        probe = Probe()
        SimulateCrisis(self.compiled, self.seed).simulate(block, probe)
        return {
            key: (*probe.sums[key], *probe.ranges[key])
            for key in probe.sums  # every key is in both
        }


@dataclass(frozen=True)
class DesignPoints:
    """Sensitivity: scenario and question shares at design points [start, stop) of `units`
    ((P, k) in [0, 1], one column per uncertain input, mapped to the input's 5th..95th
    percentile), each over the same `replicates` event draws (common random numbers)."""

    compiled: CompiledCase
    uncertain: tuple[Slot, ...]
    units: NDArray[np.float64] = field(repr=False)
    replicates: int
    seed: int
    observed: ObservedPlan | None = None

    def __call__(self, block: Block) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        case, plan = self.compiled.case, _crisis(self.compiled)
        engine = _crisis_engine(plan.engine)
        column = {slot.key: i for i, slot in enumerate(self.uncertain)}
        units = self.units[block.start : block.stop]
        n, replicates = len(units), self.replicates
        low_q, high_q = DRIVER_RANGE

        def value(slot: Slot) -> NDArray[np.float64]:
            if slot.key in column:
                u = low_q + (high_q - low_q) * units[:, column[slot.key]]
                return np.repeat(quantile(slot.dist, u, slot.quantity), replicates)
            return np.full(n * replicates, slot.dist.central(slot.quantity))

        drawn = assemble(case, value, n * replicates, plan)
        uniforms = event_uniforms(self.seed, 0, replicates, (plan.rounds, len(plan.events)))
        run = simulate(
            plan, drawn.inputs, drawn.params, np.tile(uniforms, (n, 1, 1)), engine,
            observed=self.observed,
        )  # fmt: skip
        scenario = run.scenario.reshape(n, replicates)
        if run.weight is not None:  # conditioned: weighted shares; NaN where nothing fits
            w = run.weight.reshape(n, replicates)
            total = w.sum(axis=1)
            safe = np.where(total > 0, total, 1.0)
            scenario_share = np.stack(
                [(w * (scenario == s)).sum(axis=1) / safe for s in range(len(plan.scenarios))],
                axis=1,
            ).reshape(n, len(plan.scenarios))
            question_share = (
                np.einsum("nr,nrq->nq", w, run.questions.reshape(n, replicates, -1)) / safe[:, None]
            )
            scenario_share[total <= 0] = np.nan
            question_share[total <= 0] = np.nan
            return scenario_share, question_share
        scenario_share = np.zeros((n, len(plan.scenarios)))
        for s in range(len(plan.scenarios)):
            scenario_share[:, s] = (scenario == s).mean(axis=1)
        question_share = run.questions.reshape(n, replicates, -1).mean(axis=1)
        return scenario_share, question_share


def _crisis_engine(name: str) -> Engine:
    """The engine that drives a crisis, keeping only the dyadic results a crisis reads."""
    return make_engine(name).for_crisis()


def _crisis(compiled: CompiledCase) -> CompiledCrisis:
    if compiled.crisis is None:
        raise ValueError(f"case {compiled.case.id!r} has no crisis section")
    return compiled.crisis
