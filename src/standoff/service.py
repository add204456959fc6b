"""One forecast, end to end: the memory check, the run, the report. The command line
(`standoff forecast`) and the workspace's runs (web/runs.py) are shells around it: each turns the
user's request into a `ForecastRequest`, calls `check` and `forecast`, and writes, shows or
records the outcome its own way.

    request = ForecastRequest(load("us-dprk-2018"), report=True)
    check(request)                        # TooBig before anything runs
    outcome = forecast(request)           # outcome.result, outcome.report
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .compile import CompiledCase
from .defaults import (
    DEFAULT_CHUNK,
    DEFAULT_DRAWS,
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    DEFAULT_TRAJECTORIES,
)
from .run.executor import Executor, ProgressFn

if TYPE_CHECKING:
    from .compile.observed import Observations
    from .report import Report
    from .result import ForecastResult


@dataclass(frozen=True)
class ForecastRequest:
    """What to forecast and how. `report`: build the analyst's report too, with the drivers
    (Morris screening of `trajectories` x `replicates`) it shows; `reproduce`: the command that
    makes the same report, printed in it. `model` and `options` are for a plain bargaining case
    (a crisis case runs the engine its file names)."""

    compiled: CompiledCase
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    model: str | None = None
    options: dict[str, float] | None = None
    chunk_size: int = DEFAULT_CHUNK
    observed: Observations | None = None
    report: bool = False
    trajectories: int = DEFAULT_TRAJECTORIES
    replicates: int = DEFAULT_REPLICATES
    reproduce: str | None = None

    @property
    def drivers(self) -> bool:
        """Whether the run screens the drivers: the report shows them (a crisis case only)."""
        return self.report and self.compiled.is_crisis


@dataclass(frozen=True)
class ForecastOutcome:
    result: ForecastResult
    report: Report | None = None  # with `request.report`, for a crisis case


def check(request: ForecastRequest) -> None:
    """Raise `pipeline.memory.TooBig` for a request that cannot fit in this machine's memory, before
    anything runs (`pipeline.memory.estimate`)."""
    from .pipeline.memory import check_fits

    more = (
        {"trajectories": request.trajectories, "replicates": request.replicates}
        if request.drivers
        else {}
    )
    check_fits(
        request.compiled,
        draws=request.draws,
        chunk_size=request.chunk_size,
        model=request.model,
        **more,
    )


def forecast(
    request: ForecastRequest,
    *,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> ForecastOutcome:
    """Run the forecast, and with `request.report` the drivers and the report. A report of a
    forecast conditioned on observations also runs the same forecast without them, for its
    "What changed"."""
    from .pipeline.forecast import DriverOptions, run

    drivers = DriverOptions(request.trajectories, request.replicates) if request.drivers else None
    result = run(
        request.compiled, draws=request.draws, seed=request.seed, model=request.model,
        options=request.options or None, chunk_size=request.chunk_size, drivers=drivers,
        progress=progress, observed=request.observed, executor=executor,
    )  # fmt: skip
    if not (request.report and result.is_crisis):
        return ForecastOutcome(result)
    from .report import build_report

    before = None
    if request.observed is not None:
        before = run(
            request.compiled, draws=request.draws, seed=request.seed,
            chunk_size=request.chunk_size, progress=progress, executor=executor,
        )  # fmt: skip
    built = build_report(result, reproduce=request.reproduce, before=before, progress=progress)
    return ForecastOutcome(result, built)


def case_hash(case_bytes: bytes) -> str:
    """The SHA-256 of a case's text, as the ledger keeps it beside a forecast."""
    return hashlib.sha256(case_bytes).hexdigest()
