"""The pipeline: a compiled case -> a `ForecastResult`.

    run(compiled, draws=, seed=, ...) -> ForecastResult

One path for every case. The draws are cut into blocks and handed to an executor (`standoff.run`):
a crisis case plays out its histories (`simulate.crisis`) and reduces each block's to a tally
(`simulate.histories.CrisisTally`: counts, per-group hits, per-draw beliefs and settlement), a plain
bargaining case (a KTAB or BDM table) runs its engine on each draw; the blocks' results are joined
in draw order and summarized into typed values. Each block's inputs come from the block-seeded
sampler, so the result depends on (case, options, draws, seed) only, never on the block size or
the executor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from ..bargaining import make_engine
from ..case.schema import Case
from ..case.yamlread import line_of
from ..compile import CompiledCase
from ..defaults import (
    DEFAULT_CHUNK,
    DEFAULT_DRAWS,
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    DEFAULT_TRAJECTORIES,
)
from ..errors import CaseError, Problem
from ..result import (
    INTERVAL,
    ForecastResult,
    InputShift,
    IssueSettlement,
    ObservedResult,
    QuestionForecast,
    ScenarioForecast,
)
from ..run.executor import (
    Executor,
    LocalExecutor,
    ProgressFn,
    block_size,
    reduce_blocks,
    run_blocks,
)
from ..simulate.sample import uncertain_slots

if TYPE_CHECKING:  # the crisis modules are imported where a crisis runs (not by `settle`)
    from ..compile.observed import Observations, ObservedPlan
    from ..simulate.histories import CrisisHistories, CrisisTally

MIN_EFFECTIVE = 100.0  # fewer effective histories than this and a conditioned forecast is refused


@dataclass(frozen=True)
class DriverOptions:
    """Run the drivers (Morris screening, `standoff.pipeline.sensitivity`) too."""

    trajectories: int = DEFAULT_TRAJECTORIES
    replicates: int = DEFAULT_REPLICATES


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
    observed: Observations | None = None,
    min_effective: float = MIN_EFFECTIVE,
) -> ForecastResult:
    """Forecast a case. A crisis case runs the engine its file names (`model`, `options` and
    `rounds` must be left unset); a plain bargaining case runs `model` (default compromise).

    With `observed` (a crisis case only), the forecast is conditioned on the observations: every
    probability, the settlement, the timeline and the indicators are over the histories weighted
    by the probability of what was observed (`simulate.crisis`), and the result says how far the
    observations moved each uncertain input. A CaseError, at the observation file's line, when
    the observations are impossible under the case or fewer than `min_effective` effective
    histories carry the weight."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk size must be at least 1")
    from .tasks import SettleDraws, TallyCrisis  # the crisis modules: only for a run

    size = block_size(draws, chunk_size)

    case, plan = compiled.case, compiled.crisis
    if plan is None and observed is not None:
        raise ValueError("observations need a crisis case (events to observe)")
    if plan is None:
        if drivers is not None:
            raise ValueError("drivers need a crisis case (scenarios with rules)")
        name = model or "compromise"
        engine = make_engine(name, **dict(options or {}))
        task = SettleDraws(case, name, dict(options or {}), seed, rounds)
        parts = run_blocks(task, draws, size, executor, progress)
        plain = ForecastResult(
            case=case,
            model=name,
            options=engine.options(),
            rounds=rounds,
            draws=draws,
            seed=seed,
            settlement=settlement(case, np.concatenate(parts)),
            case_bytes=compiled.source.raw,
        )
        return _outside_view(plain, compiled)
    if (model is not None and model != plan.engine) or options or rounds is not None:
        raise ValueError(
            f"a crisis case runs the engine its file names (crisis.engine: {plan.engine}, the "
            "only engine a crisis runs) over its calendar; model, options and rounds cannot be "
            "set: run the bargaining alone with another engine (standoff settle CASE --model "
            "MODEL) or forecast a copy without its crisis section"
        )
    import standoff.pipeline.summary as summary

    from ..compile.observed import compile_observations
    from ..simulate.histories import CrisisTally
    from .indicators import indicators

    observed_plan = None
    if observed is not None:
        assert case.as_of is not None  # a crisis case has one
        observed_plan = compile_observations(observed, plan, case.as_of, case.id)
    pending = _class_rates_meanwhile(compiled, executor)
    tally = reduce_blocks(
        TallyCrisis(compiled, seed, observed=observed_plan), draws, size,
        CrisisTally.merge, executor, progress,
    )  # fmt: skip
    observed_result = None
    decided_questions: dict[str, bool] | None = None
    decided_scenarios: dict[str, bool] | None = None
    if observed is not None and observed_plan is not None:
        from ..compile.observed import settled_questions, settled_scenarios

        observed_result = conditioned(compiled, observed, observed_plan, tally, min_effective)
        decided_questions = settled_questions(plan, observed_plan)
        decided_scenarios = settled_scenarios(plan, observed_plan)
    sensitivity = None
    if drivers is not None:
        from .sensitivity import morris  # SALib is imported only when drivers are asked for

        sensitivity = morris(
            compiled, drivers.trajectories, drivers.replicates, seed, executor=executor,
            progress=progress, observed=observed,
        )  # fmt: skip
    result = ForecastResult(
        case=case,
        model=plan.engine,
        # the crisis clock and the events' odds factor it ran with (compile/pace.py,
        # compile/calibration.py): the case's own, or the library's defaults
        options={"pace": plan.pace, "odds_factor": plan.odds_factor},
        rounds=None,
        draws=draws,
        seed=seed,
        settlement=tallied_settlement(case, tally),
        scenarios=_settled(summary.scenarios(tally, plan, case), decided_scenarios),
        questions=_settled(summary.questions(tally, plan, case), decided_questions),
        timeline=summary.timeline(tally, plan, case),
        replicates=plan.replicates,
        indicators=indicators(tally, plan, after=observed_plan.rounds if observed_plan else 0),
        drivers=sensitivity,
        case_bytes=compiled.source.raw,
        observed=observed_result,
    )
    return _outside_view(result, compiled, pending)


_Item = TypeVar("_Item", QuestionForecast, ScenarioForecast)


def _settled(items: tuple[_Item, ...], answers: Mapping[str, bool] | None) -> tuple[_Item, ...]:
    """The questions or scenarios, each that the observations decide (`answers`, by id) marked
    with its answer."""
    if not answers:
        return items
    return tuple(
        dataclasses.replace(x, observed=answers[x.id]) if x.id in answers else x for x in items
    )


def _outside_view(
    result: ForecastResult, compiled: CompiledCase, pending: Future[Any] | None = None
) -> ForecastResult:
    """The result with the case's reference-class base rates beside it (only when it declares a
    reference class: nothing is read otherwise), from `pending` (`_class_rates_meanwhile`) where
    they were computed during the run."""
    if result.case.reference_class is None:
        return result
    from .outside import attach

    return attach(result, compiled.source, pending.result() if pending is not None else None)


def _class_rates_meanwhile(compiled: CompiledCase, executor: Executor | None) -> Future[Any] | None:
    """The case's reference-class base rates, computed on a thread while the draws run (they do
    not depend on the draws; reading the ICB tables and loading scipy take a few tenths of a
    second); None without a class. A local pool's worker processes are started first: a process
    is forked with its threads' locks, not the threads."""
    if compiled.case.reference_class is None:
        return None
    from ..case.reference_class import class_rates

    if isinstance(executor, LocalExecutor):
        executor.start()
    pool = ThreadPoolExecutor(1, thread_name_prefix="outside-view")
    pending = pool.submit(class_rates, compiled.case, compiled.source)
    pool.shutdown(wait=False)  # the thread finishes its one task, then ends
    return pending


def conditioned(
    compiled: CompiledCase,
    observed: Observations,
    plan: ObservedPlan,
    tally: CrisisTally,
    min_effective: float,
) -> ObservedResult:
    """Check that the observations left enough weight, and say how they moved each input."""
    import standoff.pipeline.summary as summary

    post = tally.posterior
    assert post is not None and compiled.crisis is not None
    n_events = len(compiled.crisis.events)
    if post.total <= 0:
        what = plan.describe(post.killed, n_events) if post.killed >= 0 else "the observations"
        ident = plan.ids[plan.column(post.killed % n_events)] if post.killed >= 0 else ""
        at = ("events", ident) if ident else ("as_of",)
        raise CaseError(
            [
                Problem(
                    observed.file,
                    observed.lines.get((*at, "<key>"), line_of(observed.lines, at)),
                    f"events.{ident}" if ident else "as_of",
                    f"impossible under the case: none of the {tally.draws:,} simulated "
                    f"histories has {what} (the case gives it probability 0 wherever the "
                    "earlier observations hold); check the date, or the event's formula",
                )
            ]
        )
    effective = post.effective
    if effective < min_effective:
        needed = int(np.ceil(tally.draws * min_effective / max(effective, 1e-9)))
        raise CaseError(
            [
                Problem(
                    observed.file,
                    line_of(observed.lines, ("as_of",)),
                    "as_of",
                    f"too few histories carry the weight of the observations: the "
                    f"{tally.draws:,} simulated histories weigh as {effective:.1f} independent "
                    f"ones (at least {min_effective:g} are needed); run about {needed:,} draws "
                    "(--draws), or check that the case makes what was observed plausible",
                )
            ]
        )
    square = float((post.weight**2).sum())
    effective_inputs = post.total**2 / square if square > 0 else 0.0
    slots = uncertain_slots(compiled.case, compiled.crisis)  # the order of Draws.uncertain
    shifts: list[InputShift] = []
    for c, slot in enumerate(slots):
        values = post.values[:, c]
        prior_w = post.count.astype(float)
        prior_mean = float(np.average(values, weights=prior_w))
        prior_sd = float(np.sqrt(np.average((values - prior_mean) ** 2, weights=prior_w)))
        shifts.append(
            InputShift(
                key=slot.key,
                label=slot.label,
                prior=_three(summary.weighted_quantiles(values, prior_w, SHIFT_QUANTILES)),
                posterior=_three(summary.weighted_quantiles(values, post.weight, SHIFT_QUANTILES)),
                prior_mean=prior_mean,
                posterior_mean=float(np.average(values, weights=post.weight)),
                prior_sd=prior_sd,
            )
        )
    shifts.sort(key=lambda s: -abs(s.shift))
    return ObservedResult(
        file=observed.file,
        text=observed.text,
        as_of=observed.as_of,
        events=dict(observed.events),
        hash=observed.hash,
        rounds=plan.rounds,
        effective_draws=effective,
        effective_inputs=effective_inputs,
        inputs=tuple(shifts),
    )


SHIFT_QUANTILES = (0.05, 0.5, 0.95)


def _three(q: tuple[float, ...]) -> tuple[float, float, float]:
    return (q[0], q[1], q[2])


def simulate_histories(
    compiled: CompiledCase,
    draws: int,
    seed: int,
    chunk_size: int = DEFAULT_CHUNK,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> CrisisHistories:
    """Every simulated history of a crisis case, draw by draw (the arrays `run` summarizes)."""
    from ..simulate.histories import CrisisHistories
    from .tasks import SimulateCrisis

    return CrisisHistories.concat(
        run_blocks(SimulateCrisis(compiled, seed), draws, chunk_size, executor, progress)
    )


def settlement(case: Case, values: NDArray[np.float64]) -> tuple[IssueSettlement, ...]:
    """Where the bargain settles on each issue: values (D, K) summarized across draws (exact
    quantiles; the histogram for the figures)."""
    from ..simulate.histories import settlement_histogram

    lo_q, hi_q = INTERVAL
    bounds = np.array([issue.range for issue in case.issues], dtype=float)
    counts = settlement_histogram(values, bounds, None)
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
                counts=counts[k].astype(float),
            )
        )
    return tuple(out)


def tallied_settlement(case: Case, tally: CrisisTally) -> tuple[IssueSettlement, ...]:
    """Where the bargain settles on each issue, from a tally's histograms (each quantile to
    within range / SETTLEMENT_BINS, linear within its bin) and exact sums (mean, sd); weighted
    for a conditioned forecast."""
    lo_q, hi_q = INTERVAL
    total = tally.total
    out: list[IssueSettlement] = []
    for k, issue in enumerate(case.issues):
        counts = tally.settlement_counts[k].astype(float)
        low, high = float(tally.bounds[k, 0]), float(tally.bounds[k, 1])
        mean = float(tally.settlement_sum[k]) / total
        variance = max(float(tally.settlement_sq[k]) / total - mean * mean, 0.0)
        median, lo, hi = histogram_quantiles(counts, low, high, (0.5, lo_q, hi_q))
        out.append(
            IssueSettlement(
                id=issue.id,
                label=issue.label,
                scale=(issue.range[0], issue.range[1]),
                median=median,
                interval=(lo, hi),
                mean=mean,
                sd=float(np.sqrt(variance)),
                counts=counts,
            )
        )
    return tuple(out)


def histogram_quantiles(
    counts: NDArray[np.float64], low: float, high: float, qs: tuple[float, ...]
) -> tuple[float, ...]:
    """Quantiles of values known by their counts in equal bins over [low, high], taking the
    values spread evenly within each bin."""
    cum = np.cumsum(counts)
    total = float(cum[-1])
    width = (high - low) / len(counts)
    out: list[float] = []
    for q in qs:
        target = q * total
        i = min(int(np.searchsorted(cum, target, side="left")), len(counts) - 1)
        before = float(cum[i - 1]) if i > 0 else 0.0
        inside = float(counts[i])
        fraction = (target - before) / inside if inside > 0 else 0.0
        out.append(low + (i + min(max(fraction, 0.0), 1.0)) * width)
    return tuple(out)
