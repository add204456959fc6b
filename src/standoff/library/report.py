"""The library's scores as JSON and as a reliability figure (forecast bins against observed
frequency)."""

from __future__ import annotations

import math
from typing import Any

from .forecasts import CaseForecast
from .score import Difference, LibraryScores, Recalibration


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def _nums(d: Any) -> dict[str, float | None]:
    return {k: _num(v) for k, v in d.items()}


def difference_json(d: Difference) -> dict[str, Any]:
    return {
        "measure": d.measure, "forecast": d.forecaster, "baseline": d.baseline, "items": d.n,
        "cases": d.cases,
        "forecast_mean": _num(d.forecast_mean), "baseline_mean": _num(d.baseline_mean),
        "difference": _num(d.mean), "interval_90": [_num(d.low), _num(d.high)],
        "forecast_better": d.better,
    }  # fmt: skip


def library_json(
    scores: LibraryScores,
    forecasts: list[CaseForecast],
    unscored: list[str],
    draws: int,
    seed: int,
) -> dict[str, Any]:
    """Everything `standoff library score --json` writes."""
    recal = scores.recalibration
    by_case = {c.case: c for c in scores.cases}
    cases = []
    for f in forecasts:
        c = by_case.get(f.case)
        cases.append({
            "case": f.case, "title": f.title, "as_of": f.as_of, "unresolved": list(f.unresolved),
            "questions": [
                {"id": q.id, "outcome": q.outcome, **{k: _num(v) for k, v in q.forecasts.items()}}
                for q in f.questions
            ],
            "scenarios": [
                {"ids": list(s.ids), "happened": s.ids[s.outcome], "ordered": s.ordered,
                 **{k: [_num(p) for p in v] for k, v in s.forecasts.items()}}
                for s in f.scenarios
            ],
            "question_brier": _nums(c.question_brier) if c else {},
            "question_log": _nums(c.question_log) if c else {},
            "scenario_brier": _nums(c.scenario_brier) if c else {},
            "scenario_rps": _nums(c.scenario_rps) if c else {},
        })  # fmt: skip
    return {
        "draws": draws,
        "seed": seed,
        "scales": {
            "question_brier": "(p - o)^2, 0 (best) to 1",
            "question_log": "-ln p(outcome), 0 (best) and up",
            "scenario_brier": "sum over scenarios of (p - o)^2, 0 (best) to 2",
            "interval_90": "90% paired bootstrap interval over cases of the mean difference "
            "(forecast minus baseline; below zero: the forecast is better)",
        },
        "cases": cases,
        "unscored": unscored,
        "pooled": {
            "questions": len(scores.questions),
            "scenario_sets": len(scores.scenarios),
            "question_brier": _nums(scores.pooled_question_brier),
            "question_log": _nums(scores.pooled_question_log),
            "scenario_brier": _nums(scores.pooled_scenario_brier),
        },
        "differences": [difference_json(d) for d in scores.differences],
        "reliability": [
            {k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in scores.reliability
        ],
        "recalibration": None if recal is None else _recalibration(recal),
        "frozen_recalibration": (
            None
            if scores.frozen_recalibration is None
            else _recalibration(scores.frozen_recalibration)
        ),
        "recalibrated_differences": [difference_json(d) for d in scores.recalibrated_differences],
    }


def _recalibration(recal: Recalibration) -> dict[str, Any]:
    return {
        "map": "logit p' = a + b logit p, fitted leave-one-case-out",
        "forecaster": recal.forecaster,
        "a": _num(recal.a), "b": _num(recal.b),
        "question_brier_raw": _num(recal.raw),
        "question_brier_recalibrated": _num(recal.brier),
        "difference": difference_json(recal.difference),
        "improves": recal.improves,
    }  # fmt: skip


def reliability_figure(scores: LibraryScores, title: str) -> str:
    """The reliability diagram of the model's question probabilities as SVG text: each bin's
    mean forecast against the share that happened, the point's area by its count."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    try:
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="calibrated")
        rows = [r for r in scores.reliability if r["n"]]
        xs = [r["forecast"] for r in rows]
        ys = [r["observed"] for r in rows]
        sizes = [30 + 12 * r["n"] for r in rows]
        ax.scatter(xs, ys, s=sizes, color="#1f5f8b", zorder=3, label="questions (area: count)")
        for r in rows:
            ax.annotate(str(r["n"]), (r["forecast"], r["observed"]), textcoords="offset points",
                        xytext=(8, -4), fontsize=8)  # fmt: skip
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("forecast probability (bin mean)")
        ax.set_ylabel("share that happened")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", fontsize=8, frameon=False, markerscale=0.4)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Title": title})
        return buffer.getvalue()
    finally:
        plt.close(fig)
