"""Scores of the library's forecasts against what happened, beside the baselines.

Every number here is a mean over items of a proper scoring rule:

- a question is a yes/no forecast, scored with the Brier score on the 0-1 scale, (p - o)^2, and
  the log score, -ln p(outcome) (p floored at 1e-6);
- a case's scenarios are one multi-category forecast, scored with the multi-category Brier score
  (sum over scenarios of (p_k - o_k)^2, 0-2 scale) and, where the resolution orders the
  scenarios, the ranked probability score.

Each forecast is set beside its baselines on the same items:

- `frozen`: the same case with every model-derived term of its formulas frozen at its mean over
  the run (the authors' rates alone; `standoff ablate`);
- `outside`: the class rate of the case's reference class, for the questions the case maps to one
  (`reference_class.compare`), scored on those questions only;
- `half`: 50% for every question; `uniform`: each scenario 1/K.

Differences are paired (the same items) and their intervals come from a bootstrap over cases
(`backtest.scores.bootstrap` with the case as the cluster): the 90% interval of the mean
difference. A negative difference means the forecast scores better than the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..backtest.scores import bootstrap, calibration_table

LEVEL = 0.90  # the level of every interval of a difference
BOOTSTRAP = 4000  # bootstrap replicates
FLOOR = 1e-6  # the log score's floor on a probability


@dataclass(frozen=True)
class QuestionItem:
    """One resolved question of a case: what happened and each forecaster's P(yes)."""

    case: str
    id: str
    outcome: int  # 1: yes, 0: no
    forecasts: Mapping[str, float]  # forecaster -> P(yes); `outside` only where mapped


@dataclass(frozen=True)
class ScenarioItem:
    """A case's scenarios: the one that happened and each forecaster's probabilities, in the
    order of `ids` (`ordered`: the resolution gives that order, so the RPS applies)."""

    case: str
    ids: tuple[str, ...]
    outcome: int
    forecasts: Mapping[str, tuple[float, ...]]
    ordered: bool = False


def question_brier(p: float, outcome: int) -> float:
    """(p - o)^2, the Brier score of a yes/no forecast on the 0-1 scale."""
    return (p - outcome) ** 2


def question_log(p: float, outcome: int) -> float:
    """-ln p(outcome), with p floored at FLOOR."""
    return -math.log(max(p if outcome else 1.0 - p, FLOOR))


def scenario_brier(probabilities: Sequence[float], outcome: int) -> float:
    """Sum over scenarios of (p_k - o_k)^2 (0-2 scale)."""
    return float(sum((p - (k == outcome)) ** 2 for k, p in enumerate(probabilities)))


def scenario_rps(probabilities: Sequence[float], outcome: int) -> float:
    """The ranked probability score over ordered scenarios (0-1 scale)."""
    cum_p = np.cumsum(probabilities)[:-1]
    cum_o = (np.arange(len(probabilities)) >= outcome)[:-1].astype(float)
    return float(np.sum((cum_p - cum_o) ** 2) / max(len(probabilities) - 1, 1))


@dataclass(frozen=True)
class Difference:
    """Mean of forecast score minus baseline score over the same items, with the bootstrap
    interval over cases; `n`: items, `cases`: cases they come from."""

    measure: str  # "question Brier" or "scenario Brier"
    forecaster: str
    baseline: str
    n: int
    cases: int
    forecast_mean: float
    baseline_mean: float
    mean: float
    low: float
    high: float

    @property
    def better(self) -> bool:
        """The whole interval lies below zero: the forecast beats the baseline."""
        return self.high < 0


def difference(
    forecast: Sequence[float],
    baseline: Sequence[float],
    cases: Sequence[str],
    names: tuple[str, str, str],
    seed: int = 0,
) -> Difference:
    """The paired difference of two lists of scores over the same items; `names`: (measure,
    forecaster, baseline)."""
    a, b = np.asarray(forecast, float), np.asarray(baseline, float)
    if len(a) == 0:
        return Difference(*names, 0, 0, math.nan, math.nan, math.nan, math.nan, math.nan)
    interval = bootstrap(a - b, list(cases), n=BOOTSTRAP, seed=seed, level=LEVEL)
    return Difference(
        *names, len(a), len(set(cases)), float(a.mean()), float(b.mean()),
        interval.estimate, interval.low, interval.high,
    )  # fmt: skip


@dataclass(frozen=True)
class Recalibration:
    """A logistic map of the forecast probabilities, logit p' = a + b logit p, fitted by maximum
    likelihood on every case but one and applied to that one (leave-one-case-out). `brier`: the
    pooled question Brier of the mapped probabilities; `raw`: of the forecast as it is. It is to
    be used only where it improves the leave-one-case-out score (`improves`)."""

    brier: float
    raw: float
    a: float  # fitted on every case (what a user would apply next)
    b: float
    difference: Difference
    forecaster: str = "model"
    mapped: tuple[float, ...] = ()  # each question's mapped probability, fitted without its case

    @property
    def improves(self) -> bool:
        return self.difference.better


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), with z held within +-500 so that e^-z cannot overflow."""
    return np.asarray(1 / (1 + np.exp(-np.clip(z, -500, 500))))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(q / (1 - q))


def fit_logistic(p: ArrayLike, outcomes: ArrayLike) -> tuple[float, float]:
    """(a, b) of logit P(yes) = a + b logit p, by maximum likelihood (Newton's method with a
    small ridge towards the identity map a=0, b=1, so that a handful of items cannot send b to
    infinity)."""
    x = _logit(np.asarray(p, float))
    y = np.asarray(outcomes, float)
    design = np.column_stack([np.ones_like(x), x])
    prior = np.array([0.0, 1.0])
    ridge = 1.0
    theta = prior.copy()
    for _ in range(100):
        mu = _sigmoid(design @ theta)
        grad = design.T @ (y - mu) - ridge * (theta - prior)
        hess = design.T @ (design * (mu * (1 - mu))[:, None]) + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta = theta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(theta[0]), float(theta[1])


def apply_logistic(p: ArrayLike, a: float, b: float) -> np.ndarray:
    return _sigmoid(a + b * _logit(np.asarray(p, float)))


def recalibration(items: Sequence[QuestionItem], forecaster: str = "model") -> Recalibration:
    """The leave-one-case-out logistic recalibration of `forecaster`'s question probabilities."""
    cases = [q.case for q in items]
    p = np.array([q.forecasts[forecaster] for q in items])
    y = np.array([q.outcome for q in items])
    mapped = np.empty_like(p)
    for case in dict.fromkeys(cases):
        held = np.array([c == case for c in cases])
        a, b = fit_logistic(p[~held], y[~held]) if (~held).any() else (0.0, 1.0)
        mapped[held] = apply_logistic(p[held], a, b)
    raw = (p - y) ** 2
    recal = (mapped - y) ** 2
    a, b = fit_logistic(p, y)
    diff = difference(recal, raw, cases, ("question Brier", f"{forecaster}, recalibrated",
                                         forecaster))  # fmt: skip
    return Recalibration(float(recal.mean()), float(raw.mean()), a, b, diff, forecaster,
                         tuple(float(v) for v in mapped))  # fmt: skip


@dataclass(frozen=True)
class CaseScore:
    """One case's mean scores per forecaster: questions (Brier 0-1, log) and scenarios (Brier
    0-2, RPS where ordered)."""

    case: str
    questions: int
    question_brier: Mapping[str, float]
    question_log: Mapping[str, float]
    scenario_brier: Mapping[str, float] = field(default_factory=dict)
    scenario_rps: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LibraryScores:
    """The library scored: per case, pooled, the paired differences to each baseline, the
    reliability table of the model's question probabilities, and the recalibration."""

    cases: tuple[CaseScore, ...]
    pooled_question_brier: Mapping[str, float]
    pooled_question_log: Mapping[str, float]
    pooled_scenario_brier: Mapping[str, float]
    differences: tuple[Difference, ...]
    reliability: list[dict[str, float]]
    recalibration: Recalibration | None
    questions: tuple[QuestionItem, ...]
    scenarios: tuple[ScenarioItem, ...]
    # the same logistic map fitted leave-one-case-out to the frozen forecasts, and the
    # recalibrated model against the baselines (raw and recalibrated)
    frozen_recalibration: Recalibration | None = None
    recalibrated_differences: tuple[Difference, ...] = ()


QUESTION_FORECASTERS = ("model", "frozen", "half")
SCENARIO_FORECASTERS = ("model", "frozen", "uniform")


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _per(
    items: Sequence[QuestionItem], score: Callable[[float, int], float], who: str
) -> list[float]:
    return [score(q.forecasts[who], q.outcome) for q in items if who in q.forecasts]


def score_library(
    questions: Sequence[QuestionItem], scenarios: Sequence[ScenarioItem], bins: int = 5
) -> LibraryScores:
    """Score every item, per case and pooled, and compare the model with each baseline."""
    order = list(dict.fromkeys([q.case for q in questions] + [s.case for s in scenarios]))
    per_case = []
    for case in order:
        qs = [q for q in questions if q.case == case]
        ss = [s for s in scenarios if s.case == case]
        who = [*QUESTION_FORECASTERS, "outside"]
        per_case.append(
            CaseScore(
                case=case,
                questions=len(qs),
                question_brier={w: _mean(_per(qs, question_brier, w)) for w in who
                                if _per(qs, question_brier, w)},
                question_log={w: _mean(_per(qs, question_log, w)) for w in who
                              if _per(qs, question_log, w)},
                scenario_brier={w: _mean([scenario_brier(s.forecasts[w], s.outcome) for s in ss])
                                for w in SCENARIO_FORECASTERS if ss},
                scenario_rps={w: _mean([scenario_rps(s.forecasts[w], s.outcome)
                                        for s in ss if s.ordered])
                              for w in SCENARIO_FORECASTERS if any(s.ordered for s in ss)},
            )
        )  # fmt: skip
    pooled_brier = {w: _mean(_per(questions, question_brier, w)) for w in QUESTION_FORECASTERS}
    pooled_log = {w: _mean(_per(questions, question_log, w)) for w in QUESTION_FORECASTERS}
    pooled_scen = {
        w: _mean([scenario_brier(s.forecasts[w], s.outcome) for s in scenarios])
        for w in SCENARIO_FORECASTERS
    }
    diffs = []
    cases = [q.case for q in questions]
    for base in ("frozen", "half"):
        diffs.append(
            difference(_per(questions, question_brier, "model"),
                       _per(questions, question_brier, base), cases,
                       ("question Brier", "model", base))
        )  # fmt: skip
    mapped = [q for q in questions if "outside" in q.forecasts]
    diffs.append(
        difference(_per(mapped, question_brier, "model"), _per(mapped, question_brier, "outside"),
                   [q.case for q in mapped], ("question Brier", "model", "outside"))
    )  # fmt: skip
    for base in ("frozen", "uniform"):
        diffs.append(
            difference([scenario_brier(s.forecasts["model"], s.outcome) for s in scenarios],
                       [scenario_brier(s.forecasts[base], s.outcome) for s in scenarios],
                       [s.case for s in scenarios],
                       ("scenario Brier", "model", base))
        )  # fmt: skip
    reliability = calibration_table(
        [q.forecasts["model"] for q in questions], [q.outcome for q in questions], bins
    )
    recal = frozen_recal = None
    recalibrated: tuple[Difference, ...] = ()
    if len(set(cases)) >= 3:
        recal = recalibration(questions, "model")
        frozen_recal = recalibration(questions, "frozen")
        y = [q.outcome for q in questions]
        recal_scores = [question_brier(p, o) for p, o in zip(recal.mapped, y, strict=True)]
        frozen_mapped = [question_brier(p, o) for p, o in zip(frozen_recal.mapped, y, strict=True)]
        name = "model, recalibrated"
        recalibrated = (
            difference(recal_scores, _per(questions, question_brier, "frozen"), cases,
                       ("question Brier", name, "frozen")),
            difference(recal_scores, frozen_mapped, cases,
                       ("question Brier", name, "frozen, recalibrated")),
            difference(recal_scores, _per(questions, question_brier, "half"), cases,
                       ("question Brier", name, "half")),
        )  # fmt: skip
    return LibraryScores(
        cases=tuple(per_case), pooled_question_brier=pooled_brier,
        pooled_question_log=pooled_log, pooled_scenario_brier=pooled_scen,
        differences=tuple(diffs), reliability=reliability, recalibration=recal,
        questions=tuple(questions), scenarios=tuple(scenarios),
        frozen_recalibration=frozen_recal, recalibrated_differences=recalibrated,
    )  # fmt: skip
