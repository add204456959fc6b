"""The pipeline: a compiled case -> a `ForecastResult`.

    run(compiled, draws=, seed=, ...) -> ForecastResult

One path for every case. The draws are cut into blocks and handed to an executor (`standoff.run`):
a crisis case plays out its histories (`crisis.simulate`), a plain bargaining case (a KTAB or BDM
table) runs its engine on each draw; the blocks' results are joined in draw order and summarized
into typed values. Each block's inputs come from the block-seeded sampler, so the result depends
on (case, options, draws, seed) only, never on the block size or the executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .bargaining import Engine, make_engine, weighted_mean, weighted_median
from .bargaining.base import BargainingInputs, Trajectory
from .case.schema import Case
from .compile import CompiledCase
from .crisis import summary
from .crisis.histories import CrisisHistories
from .crisis.indicators import indicators
from .result import INTERVAL, ForecastResult, IssueSettlement
from .run.executor import Executor, ProgressFn, run_blocks
from .run.tasks import SettleDraws, SimulateCrisis
from .sample import central_inputs

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20180815
DEFAULT_CHUNK = 4096


@dataclass(frozen=True)
class DriverOptions:
    """Run the drivers (Morris screening, `standoff.sensitivity`) too."""

    trajectories: int = 10
    replicates: int = 64


def run(
    compiled: CompiledCase,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    model: str | None = None,
    options: Mapping[str, Any] | None = None,
    rounds: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    drivers: DriverOptions | None = None,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> ForecastResult:
    """Forecast a case. A crisis case runs the engine its file names (`model`, `options` and
    `rounds` must be left unset); a plain bargaining case runs `model` (default compromise)."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk size must be at least 1")
    case, plan = compiled.case, compiled.crisis
    if plan is None:
        if drivers is not None:
            raise ValueError("drivers need a crisis case (scenarios with rules)")
        name = model or "compromise"
        engine = make_engine(name, **dict(options or {}))
        task = SettleDraws(case, name, dict(options or {}), seed, rounds)
        parts = run_blocks(task, draws, chunk_size, executor, progress)
        return ForecastResult(
            case=case,
            model=name,
            options=engine.options(),
            rounds=rounds,
            draws=draws,
            seed=seed,
            settlement=settlement(case, np.concatenate(parts)),
            case_bytes=compiled.source.raw,
        )
    if (model is not None and model != plan.engine) or options or rounds is not None:
        raise ValueError(
            f"a crisis case runs the engine its file names ({plan.engine}) over its calendar; "
            "model, options and rounds cannot be set"
        )
    histories = simulate_histories(compiled, draws, seed, chunk_size, executor, progress)
    sensitivity = None
    if drivers is not None:
        from .sensitivity import morris  # SALib is imported only when drivers are asked for

        sensitivity = morris(
            compiled, drivers.trajectories, drivers.replicates, seed, executor=executor,
            progress=progress,
        )  # fmt: skip
    return ForecastResult(
        case=case,
        model=plan.engine,
        options={},
        rounds=None,
        draws=draws,
        seed=seed,
        settlement=settlement(case, histories.settlement),
        scenarios=summary.scenarios(histories, plan, case),
        questions=summary.questions(histories, plan, case),
        timeline=summary.timeline(histories, plan),
        replicates=plan.replicates,
        indicators=indicators(histories, plan),
        drivers=sensitivity,
        case_bytes=compiled.source.raw,
    )


def simulate_histories(
    compiled: CompiledCase,
    draws: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> CrisisHistories:
    """Every simulated history of a crisis case, draw by draw (the arrays `run` summarizes)."""
    return CrisisHistories.concat(
        run_blocks(SimulateCrisis(compiled, seed), draws, chunk_size, executor, progress)
    )


def settlement(case: Case, values: NDArray[np.float64]) -> tuple[IssueSettlement, ...]:
    """Where the bargain settles on each issue: values (D, K) summarized across draws."""
    lo_q, hi_q = INTERVAL
    out: list[IssueSettlement] = []
    for k, issue in enumerate(case.issues):
        v = values[:, k]
        out.append(
            IssueSettlement(
                id=issue.id,
                label=issue.label,
                scale=(issue.range[0], issue.range[1]),
                median=float(np.median(v)),
                interval=(float(np.quantile(v, lo_q)), float(np.quantile(v, hi_q))),
                mean=float(v.mean()),
                sd=float(v.std()),
                values=v,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Settlement:
    """One deterministic run of an engine on the case's central values."""

    case: Case
    engine: Engine
    inputs: BargainingInputs
    trajectory: Trajectory

    def medians(self) -> NDArray[np.float64]:
        """(R + 1, K) weighted median per round."""
        return np.stack(
            [
                weighted_median(
                    self.trajectory.positions[:, r], self.inputs.capability, self.inputs.salience
                )[0]
                for r in range(self.trajectory.positions.shape[1])
            ]
        )

    def means(self) -> NDArray[np.float64]:
        """(R + 1, K) capability x salience weighted mean per round."""
        return np.stack(
            [
                weighted_mean(
                    self.trajectory.positions[:, r], self.inputs.capability, self.inputs.salience
                )[0]
                for r in range(self.trajectory.positions.shape[1])
            ]
        )


def settle(
    case: Case,
    model: str = "compromise",
    rounds: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> Settlement:
    """One deterministic run of a bargaining engine on the case's central values."""
    engine = make_engine(model, **dict(options or {}))
    inputs = central_inputs(case)
    return Settlement(
        case=case, engine=engine, inputs=inputs, trajectory=engine.run(inputs, rounds)
    )
