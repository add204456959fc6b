"""Scores of recorded forecasts against the newest resolutions, with the rules of
`standoff score` (`standoff.backtest.scores`).

Each question is a two-category forecast (no, yes): its Brier score is the two-category form
(1 - p - (1 - o))^2 + (p - o)^2 = 2 (p - o)^2, in [0, 2], and its log score is -ln p(outcome)
(p floored at 1e-6). The scenarios of a record are one multi-category forecast, scored apart.
Every record counts: a case forecast five times over its life has five scores per question, and
its mean is the mean over those. Lower is better for both rules. The calibration table pools the
question forecasts. A question the observations of a conditioned forecast decided is not a
forecast and is not scored (`Record.observed`, read from the record's typed forecast,
`standoff.saved`: the rule of `standoff score`): each record lists such questions under
`observed`, and "scenario" there where its observations decided which scenario happens (its
scenarios are then not scored). Everything returned is JSON-ready (an empty bin's means are None).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..backtest.resolve import Scored, calibration, scored_json
from ..backtest.scores import brier, log_score, rps
from .record import Record, StoredResolution

# the newest resolution of each (case, kind, item), as `Ledger.resolutions` gives them
Resolved = Mapping[tuple[str, str, str], StoredResolution]


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _summary(scored: Iterable[tuple[int, Scored]], bins: int) -> dict[str, Any]:
    """n, the records scored, mean Brier and log score of the questions, the scenarios' own means,
    and the calibration table of the questions."""
    items = list(scored)
    questions = [s for _, s in items if s.kind == "question"]
    scenarios = [s for _, s in items if s.kind == "scenarios"]
    table = calibration(questions, bins) if questions else []
    return {
        "records": len({rid for rid, _ in items}),
        "n": len(questions),
        "brier": _mean([s.brier for s in questions]),
        "log": _mean([s.log for s in questions]),
        "scenarios": {
            "n": len(scenarios),
            "brier": _mean([s.brier for s in scenarios]),
            "log": _mean([s.log for s in scenarios]),
        },
        "calibration": [
            {k: (_clean(v) if isinstance(v, float) else v) for k, v in row.items()} for row in table
        ],
    }


def _score_record(record: Record, resolved: Resolved) -> tuple[list[Scored], list[str], str | None]:
    """The scored items of one record, its questions not yet resolved, and why its scenario
    could not be scored (None when it was, or is not resolved). Questions the observations
    decided are neither scored nor pending."""
    out: list[Scored] = []
    pending: list[str] = []
    scenarios: dict[str, float] = {}
    for kind, item, p in record.probabilities:
        if kind == "scenario":
            scenarios[item] = p
            continue
        if record.observed(item) is not None:
            continue
        resolution = resolved.get((record.case_id, "question", item))
        if resolution is None:
            pending.append(item)
            continue
        happened = int(resolution.happened)
        probs = [1 - p, p]
        out.append(
            Scored("question", item, probs, happened, brier(probs, happened),
                   log_score(probs, happened), rps(probs, happened))
        )  # fmt: skip
    problem = None
    resolution = resolved.get((record.case_id, "scenario", ""))
    if scenarios and resolution is not None and not _scenario_observed(record):
        happened_id = resolution.outcome
        ordered = resolution.scenario_order
        order = list(ordered) if ordered is not None else list(scenarios)
        if happened_id not in scenarios or sorted(order) != sorted(scenarios):
            problem = f"{happened_id!r} against the scenarios {', '.join(scenarios)}"
        else:
            probs = [scenarios[s] for s in order]
            k = order.index(happened_id)
            out.append(
                Scored("scenarios", happened_id, probs, k, brier(probs, k), log_score(probs, k),
                       rps(probs, k) if ordered is not None else None)
            )  # fmt: skip
    return out, pending, problem


def _scenario_observed(record: Record) -> bool:
    """Whether the record's observations decided which scenario happens (then its scenarios are
    not scored, by the rule of `standoff score`)."""
    return any(
        k == "scenario" and record.observed(i, "scenario") == "yes"
        for k, i, _ in record.probabilities
    )


def score_records(records: list[Record], resolved: Resolved, bins: int = 5) -> dict[str, Any]:
    """Per record, per case and overall scores (see the module's docstring); `unresolved` lists
    each case's recorded questions that no resolution covers yet."""
    per_record: list[dict[str, Any]] = []
    everything: list[tuple[int, Scored]] = []
    by_case: dict[str, list[tuple[int, Scored]]] = {}
    unresolved: dict[str, set[str]] = {}
    for record in records:
        scored, pending, problem = _score_record(record, resolved)
        if pending:
            unresolved.setdefault(record.case_id, set()).update(pending)
        if not scored and problem is None:
            continue
        pairs = [(record.id, s) for s in scored]
        everything += pairs
        by_case.setdefault(record.case_id, []).extend(pairs)
        scores = scored_json(scored, question_rps=False)
        per_record.append(
            {
                "id": record.id,
                "case": record.case_id,
                "recorded_at": record.recorded_at,
                "as_of": record.as_of,
                "n": scores.pop("n"),
                "observed": [
                    i
                    for k, i, _ in record.probabilities
                    if k == "question" and record.observed(i) is not None
                ]
                + (["scenario"] if _scenario_observed(record) else []),
                **scores,
                "scenario_problem": problem,
            }
        )
    return {
        "brier": "two-category Brier score of each question, 2 (p - outcome)^2, in [0, 2]",
        "log": "-ln p(outcome), p floored at 1e-6",
        "overall": _summary(everything, bins),
        "cases": {case: _summary(items, bins) for case, items in sorted(by_case.items())},
        "records": per_record,
        "unresolved": {case: sorted(items) for case, items in sorted(unresolved.items())},
    }
