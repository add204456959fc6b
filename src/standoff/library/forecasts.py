"""The library's cases forecast for scoring: each case with its resolution file, run once as it
is and once with every model-derived term frozen at its mean (the authors' rates alone), and its
reference class's rates where the case maps a question to one.

A library folder holds the cases (`*.yaml`) and, beside them, `resolutions/ID.yaml` (what
happened, `docs/backtests.md`) and optionally `observations/ID.yaml` (what was seen at a
mid-point). A case is scored only with its resolution file; one without is listed as unscored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..backtest.resolve import pair_problems, read_resolutions, score
from ..compile import CompiledCase, load
from ..errors import CaseError, Problem
from ..run.executor import Executor, ProgressFn
from ..saved import SavedForecast, SavedItem
from .score import QuestionItem, ScenarioItem

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LibraryCase:
    """A case file of the library and its resolution file (None: not resolved yet)."""

    path: Path
    resolution: Path | None


def find_cases(folders: Iterable[Path]) -> list[LibraryCase]:
    """Every case file directly in each folder, in name order, with `resolutions/<stem>.yaml`
    beside it where there is one. A folder that does not exist is a CaseError."""
    found: list[LibraryCase] = []
    for folder in folders:
        if not folder.is_dir():
            raise CaseError([Problem(str(folder), 0, "(folder)", "not a folder of cases")])
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            beside = [folder / "resolutions" / f"{path.stem}{s}" for s in SUFFIXES]
            resolution = next((r for r in beside if r.is_file()), None)
            found.append(LibraryCase(path, resolution))
    return found


@dataclass(frozen=True)
class CaseForecast:
    """One case forecast for scoring: its items, and the ids its resolution leaves unresolved."""

    case: str
    title: str
    as_of: str
    questions: tuple[QuestionItem, ...]
    scenarios: tuple[ScenarioItem, ...]
    unresolved: tuple[str, ...]


def _as_saved(ids: dict[str, float], scen: dict[str, float], case: str) -> SavedForecast:
    """The forecast as `standoff score` reads it back (its p's only)."""
    return SavedForecast(
        {k: SavedItem(v) for k, v in ids.items()},
        {k: SavedItem(v) for k, v in scen.items()},
        case=case,
    )


def class_rates(compiled: CompiledCase) -> dict[str, float]:
    """The class rate of every question or scenario the case maps to its reference class (none
    without one)."""
    if compiled.case.reference_class is None:
        return {}
    from ..case.reference_class import class_rates as rates_of
    from ..outside.view import class_rate

    found = rates_of(compiled.case, compiled.source)
    if found is None:
        return {}
    base, targets = found
    return {ident: class_rate(base, target).p for ident, target in targets.items()}


def forecast_case(
    item: LibraryCase,
    draws: int,
    seed: int,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
) -> CaseForecast:
    """Forecast one resolved case (as it is and with its terms frozen) and pair it with its
    resolution. Raises CaseError at the file and line of any problem."""
    from ..pipeline.ablation import ablation

    assert item.resolution is not None
    compiled = load(item.path)
    case = compiled.case
    if compiled.crisis is None:
        message = "a library case needs a crisis section (scenarios and questions to score)"
        raise CaseError([Problem(str(item.path), 1, "crisis", message)])
    resolutions = read_resolutions(item.resolution)
    run = ablation(compiled, draws, seed, executor=executor, progress=progress)
    model_q = {q.id: q.probability.p for q in run.baseline_questions}
    model_s = {s.id: s.probability.p for s in run.baseline}
    frozen_q = {q.id: q.probability.p for q in run.ablated_questions}
    frozen_s = {s.id: s.probability.p for s in run.ablated}
    saved = _as_saved(model_q, model_s, case.id)
    problems = pair_problems(saved, resolutions)
    if problems:
        raise CaseError(problems)
    scored = score(saved, resolutions)  # checks every id; the numbers are ours
    rates = class_rates(compiled)
    questions = []
    for s in scored:
        if s.kind != "question":
            continue
        forecasts = {"model": model_q[s.id], "frozen": frozen_q[s.id], "half": 0.5}
        if s.id in rates:
            forecasts["outside"] = rates[s.id]
        questions.append(QuestionItem(case.id, s.id, s.outcome, forecasts))
    scenarios = []
    happened = resolutions.scenario
    if model_s and happened is not None and resolutions.scenario_resolved:
        order = resolutions.scenario_order or tuple(model_s)
        k = len(order)
        scenarios.append(
            ScenarioItem(
                case.id, order, order.index(happened),
                {"model": tuple(model_s[s] for s in order),
                 "frozen": tuple(frozen_s[s] for s in order), "uniform": (1 / k,) * k},
                ordered=resolutions.scenario_order is not None,
            )
        )  # fmt: skip
    return CaseForecast(
        case.id, case.title or case.id, str(case.as_of), tuple(questions), tuple(scenarios),
        resolutions.unresolved_questions,
    )  # fmt: skip


@dataclass(frozen=True)
class Setting:
    """A candidate for the crisis defaults: the clock's pace and the events' odds factor."""

    pace: str
    odds_factor: float

    @property
    def name(self) -> str:
        return f"pace {self.pace}, odds x{self.odds_factor:g}"


def question_scores_at(
    item: LibraryCase,
    settings: Sequence[Setting],
    draws: int,
    seed: int,
    executor: Executor | None = None,
) -> dict[str, list[float]] | None:
    """The Brier score (0-1) of each resolved question of a case forecast under each setting (by
    its name), in the resolution's order; None for a case that states its own pace or odds
    factor (the defaults are not its to set)."""
    from ..compile import with_odds_factor, with_pace
    from ..pipeline.forecast import run
    from .score import question_brier

    assert item.resolution is not None
    compiled = load(item.path)
    plan = compiled.crisis
    if plan is None or plan.pace_stated or plan.odds_stated:
        return None
    resolutions = read_resolutions(item.resolution)
    out: dict[str, list[float]] = {}
    for setting in settings:
        changed = with_odds_factor(with_pace(compiled, setting.pace), setting.odds_factor)
        result = run(changed, draws=draws, seed=seed, executor=executor)
        saved = _as_saved(
            {q.id: q.probability.p for q in result.questions},
            {s.id: s.probability.p for s in result.scenarios},
            compiled.case.id,
        )
        scored = score(saved, resolutions)
        out[setting.name] = [
            question_brier(s.probabilities[1], s.outcome) for s in scored if s.kind == "question"
        ]
    return out
