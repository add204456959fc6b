"""How much the models drive a crisis: the forecast as it is, and the forecast with every
model-derived term of the formulas (the bargaining model's `sees`, `eu`, `threat`, `prevails`,
`gap`, `position`, and a fitted game's `game`) replaced by its mean over all draws and rounds of
the same run. Where the two agree, the case's hand-written rates and the terms' averages decide
everything, and what the models make of each draw does not matter. With `each`, every term is also
frozen alone, the others left as they are: what each term changes by itself (a fitted game beside
the bargaining model's terms, say)."""

from __future__ import annotations

from dataclasses import dataclass

from ..compile import CompiledCase
from ..result import QuestionForecast, ScenarioForecast
from ..run.executor import Executor, ProgressFn, reduce_blocks, run_blocks
from ..simulate.crisis import term_text
from ..simulate.histories import CrisisTally
from .summary import questions, scenarios
from .tasks import RecordTerms, TallyCrisis

Key = tuple[str, ...]


@dataclass(frozen=True)
class Term:
    """A model-derived term as formulas call it, with its mean and range over the run."""

    call: str  # e.g. "sees('trump', 'kim', 'conflict')"
    mean: float
    low: float
    high: float
    # with `each`: the scenarios with this term alone frozen at its mean, else empty
    alone: tuple[ScenarioForecast, ...] = ()


@dataclass(frozen=True)
class Ablation:
    baseline: tuple[ScenarioForecast, ...]
    ablated: tuple[ScenarioForecast, ...]  # every term frozen at its mean
    terms: tuple[Term, ...]
    draws: int
    seed: int
    baseline_questions: tuple[QuestionForecast, ...] = ()
    ablated_questions: tuple[QuestionForecast, ...] = ()  # every term frozen at its mean


def ablation(
    compiled: CompiledCase,
    draws: int,
    seed: int,
    chunk_size: int = 4096,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
    each: bool = False,
) -> Ablation:
    plan = compiled.crisis
    if plan is None:
        raise ValueError(f"case {compiled.case.id!r} has no crisis section")
    parts = run_blocks(
        RecordTerms(compiled, seed), draws, chunk_size, executor, progress, stage="recording"
    )
    totals: dict[Key, tuple[float, int, float, float]] = {}
    for part in parts:
        for key, (total, count, low, high) in part.items():
            t0, c0, l0, h0 = totals.get(key, (0.0, 0, low, high))
            totals[key] = (t0 + total, c0 + count, min(l0, low), max(h0, high))
    means = {key: (t / c if c else 0.0) for key, (t, c, _, _) in totals.items()}
    baseline = reduce_blocks(
        TallyCrisis(compiled, seed), draws, chunk_size, CrisisTally.merge, executor, progress
    )
    frozen = reduce_blocks(
        TallyCrisis(compiled, seed, means), draws, chunk_size, CrisisTally.merge, executor,
        progress, stage="ablated",
    )  # fmt: skip
    alone: dict[Key, tuple[ScenarioForecast, ...]] = {}
    for n, key in enumerate(sorted(totals) if each else ()):
        tally = reduce_blocks(
            TallyCrisis(compiled, seed, {key: means[key]}), draws, chunk_size, CrisisTally.merge,
            executor, progress, stage=f"term {n + 1} of {len(totals)} alone",
        )  # fmt: skip
        alone[key] = scenarios(tally, plan, compiled.case)
    return Ablation(
        baseline=scenarios(baseline, plan, compiled.case),
        ablated=scenarios(frozen, plan, compiled.case),
        terms=tuple(
            Term(term_text(key), means[key], totals[key][2], totals[key][3], alone.get(key, ()))
            for key in sorted(totals)
        ),
        draws=draws,
        seed=seed,
        baseline_questions=questions(baseline, plan, compiled.case),
        ablated_questions=questions(frozen, plan, compiled.case),
    )
