"""Score a saved crisis forecast (the JSON of `standoff forecast --json`) against resolutions.

A resolution file is YAML:

    case: us-dprk-2018
    resolved: 2019-08-15
    scenario: talks_continue          # the scenario that happened, or `unresolved`
    scenario_order: [a, b, c]         # optional: the scenarios are ordered; adds the RPS
    questions:
      second_summit: yes              # or {outcome: yes, note: "...", source: "..."}
      armed_clash: no
      sanctions_lifted: unresolved    # not known yet: listed as unresolved, not scored

Each question is a two-category forecast (no, yes) scored with the Brier score (two-category form,
sum over both categories, in [0, 2]), the log score and the RPS; the scenarios are one
multi-category forecast. Questions pool into a calibration table. Scoring rules: `scores.py`.

The pair must match exactly, or nothing is scored (every problem is `FILE:LINE: field: problem`):
the `case:` of the resolutions names the forecast's case; every question of the forecast is
resolved (yes, no or `unresolved`) and every resolved question is in the forecast; `scenario:` is
given (a scenario of the forecast, or `unresolved`) when the forecast has scenarios; unknown keys
are errors. Nothing is silently dropped: unresolved items are listed by `standoff score`.

The forecast is read back typed (`standoff.saved.from_json`), never by key. A question that the
observations of a conditioned forecast decided (`SavedItem.observed`, `"observed": "yes"` in the
forecast JSON) is not a forecast and is not scored, here and by the ledger alike: it is listed as
observed; a resolution that contradicts it is an error. So are the scenarios where the
observations decided which one happens (`SavedForecast.observed_scenario`).
`standoff check` holds a resolution file to the case it is of with the same rules
(`case_problems`), the case standing for every forecast of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..case.yamlread import line_of, read_text_file, read_yaml, unknown_keys
from ..errors import CaseError, Problem
from ..saved import SavedForecast, SavedItem, from_json
from ..suggest import closest, suggest
from .scores import brier, calibration_table, log_score, rps

if TYPE_CHECKING:
    from ..case.schema import Case

UNRESOLVED = "unresolved"
TOP_KEYS = ("case", "resolved", "scenario", "scenario_order", "questions", "note", "source")
QUESTION_KEYS = ("outcome", "note", "source")
Lines = dict[tuple[str | int, ...], int]


@dataclass(frozen=True)
class Scored:
    kind: str  # "question" or "scenarios"
    id: str
    probabilities: list[float]
    outcome: int
    brier: float
    log: float
    rps: float | None


def read_forecast(path: Path) -> SavedForecast:
    """A forecast JSON of `standoff forecast --json`, read back typed (`standoff.saved`). Raises
    CaseError (`SavedForecastError`) at the file, line and field of every problem."""
    return from_json(read_text_file(path), file=str(path))


def _outcome(value: Any) -> bool | str | None:
    """True or False (yes, no), UNRESOLVED, or None when it is neither."""
    if isinstance(value, dict):
        value = value.get("outcome")
    if isinstance(value, bool) or value == UNRESOLVED:
        return value
    return None


def read_resolutions(path: Path) -> tuple[dict[str, Any], Lines]:
    """A resolution file, its shape checked (see the module's docstring). Raises CaseError."""
    return parse_resolutions(read_text_file(path), str(path))


def parse_resolutions(text: str, file: str) -> tuple[dict[str, Any], Lines]:
    """`read_resolutions` of text already read."""
    data, lines = read_yaml(text, file)
    if not isinstance(data, dict):
        raise CaseError(
            [
                Problem(
                    file,
                    1,
                    "(top level)",
                    "expected a mapping with case, scenario and questions (see docs/backtests.md)",
                )
            ]
        )
    problems = unknown_keys(data, TOP_KEYS, (), file, lines)
    questions = data.get("questions")
    if not isinstance(questions, dict):
        problems.append(
            Problem(
                file,
                line_of(lines, ("questions",)),
                "questions",
                "missing: give `questions:` with each question's id and yes, no or unresolved"
                if questions is None
                else "expected a mapping of question id: yes, no or unresolved",
            )
        )
    else:
        for ident, value in questions.items():
            line = line_of(lines, ("questions", ident))
            if isinstance(value, dict):
                problems += unknown_keys(value, QUESTION_KEYS, ("questions", ident), file, lines)
            if _outcome(value) is None:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"questions.{ident}",
                        "outcome must be yes or no (or unresolved: not scored yet)",
                    )
                )
    for key in ("case", "scenario"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(Problem(file, line_of(lines, (key,)), key, "not an id"))
    order = data.get("scenario_order")
    if order is not None:
        if not isinstance(order, list) or not all(isinstance(s, str) for s in order):
            problems.append(
                Problem(
                    file,
                    line_of(lines, ("scenario_order",)),
                    "scenario_order",
                    "expected a list of scenario ids, e.g. [talks_collapse, talks_continue]",
                )
            )
        elif len(set(order)) != len(order):
            problems.append(
                Problem(
                    file, line_of(lines, ("scenario_order",)), "scenario_order", "repeats an id"
                )
            )
    if problems:
        raise CaseError(sorted(problems, key=lambda p: p.line))
    return data, lines


def pair_problems(
    forecast: SavedForecast,
    resolutions: dict[str, Any],
    file: str,
    lines: Lines,
    of: str = "forecast",
) -> list[Problem]:
    """Why these resolutions are not for this forecast (`of` names it in messages: "forecast",
    or "case" when a case stands for it): another case, a question of the forecast not resolved,
    the scenario not resolved though the forecast has scenarios."""
    problems: list[Problem] = []
    ours, theirs = resolutions.get("case"), forecast.case
    if ours is not None and theirs is not None and ours != theirs:
        problems.append(
            Problem(
                file,
                line_of(lines, ("case",)),
                "case",
                f"these resolutions are for {ours!r}, the {of} is {'of ' if of != 'case' else ''}"
                f"{theirs!r}",
            )
        )
    resolved = resolutions["questions"]
    missing = [q for q in forecast.questions if q not in resolved]
    if missing:
        problems.append(
            Problem(
                file,
                lines.get(("questions", "<key>"), line_of(lines, ("questions",))),
                "questions",
                f"not resolved: {', '.join(missing)} (in the {of}); give each yes, no or "
                f"{UNRESOLVED}",
            )
        )
    if forecast.scenarios and resolutions.get("scenario") is None:
        problems.append(
            Problem(
                file,
                1,
                "scenario",
                f"missing: the {of} has scenarios; give the one that happened, or "
                f"`scenario: {UNRESOLVED}`",
            )
        )
    return problems


def observed(forecast: SavedForecast) -> list[str]:
    """The questions the forecast's observations decided, and "scenario" where they decided which
    scenario happens (listed, not scored)."""
    out = list(forecast.observed_questions)
    if forecast.observed_scenario is not None:
        out.append("scenario")
    return out


def unresolved(forecast: SavedForecast, resolutions: dict[str, Any]) -> list[str]:
    """The ids the resolutions mark `unresolved` (listed, not scored)."""
    out = [q for q, v in resolutions["questions"].items() if _outcome(v) == UNRESOLVED]
    if forecast.scenarios and resolutions.get("scenario") == UNRESOLVED:
        out.append("scenario")
    return out


def score(forecast: SavedForecast, resolutions: dict[str, Any], file: str = "(resolutions)",
          lines: dict[tuple[str | int, ...], int] | None = None,
          of: str = "forecast") -> list[Scored]:  # fmt: skip
    """Score every resolved question (and the scenario) that the forecast holds. The pair must
    match (`pair_problems`); a resolution for an id the forecast lacks is a problem too, and so is
    one that contradicts what the forecast's observations decided. Items marked `unresolved` (see
    `unresolved`) and questions the observations decided (see `observed`) are not scored."""
    lines = lines or {}
    problems = pair_problems(forecast, resolutions, file, lines, of)
    out: list[Scored] = []
    for ident, value in resolutions["questions"].items():
        item = forecast.questions.get(ident)
        if item is None:
            line = line_of(lines, ("questions", ident))
            known = list(forecast.questions)
            hint = suggest("question", ident, known, listed="its questions")
            problems.append(Problem(file, line, f"questions.{ident}", f"not in the {of}{hint}"))
            continue
        outcome = _outcome(value)
        if outcome == UNRESOLVED:
            continue
        seen = item.observed
        if seen is not None:
            if (seen == "yes") != bool(outcome):
                problems.append(
                    Problem(
                        file,
                        line_of(lines, ("questions", ident)),
                        f"questions.{ident}",
                        f"resolved {'yes' if outcome else 'no'}, but the observations the "
                        f"forecast was conditioned on decided it {seen}; check the two files",
                    )
                )
            continue
        p = item.p
        happened = int(bool(outcome))
        probs = [1 - p, p]
        out.append(
            Scored("question", ident, probs, happened, brier(probs, happened),
                   log_score(probs, happened), rps(probs, happened))
        )  # fmt: skip
    scenario = resolutions.get("scenario")
    scenarios = forecast.scenarios
    decided = forecast.observed_scenario
    if decided is not None and scenario is not None and scenario not in (UNRESOLVED, decided):
        problems.append(
            Problem(
                file,
                line_of(lines, ("scenario",)),
                "scenario",
                f"resolved {scenario!r}, but the observations the forecast was conditioned on "
                f"decided it {decided!r}; check the two files",
            )
        )
    if decided is None and scenario is not None and scenario != UNRESOLVED:
        order = resolutions.get("scenario_order") or list(scenarios)
        if scenario not in scenarios or sorted(order) != sorted(scenarios):
            line = line_of(lines, ("scenario",))
            if scenario not in scenarios:
                line, field = line_of(lines, ("scenario",)), "scenario"
                what = f"{scenario!r} is not a scenario of the {of}"
                close = closest(scenario, scenarios)
                what += f"; did you mean {close!r}?" if close is not None else ""
            else:
                line, field = line_of(lines, ("scenario_order",)), "scenario_order"
                what = f"the order does not list exactly the {of}'s scenarios"
            problems.append(
                Problem(file, line, field, f"{what} ({', '.join(scenarios) or 'none'})")
            )
        else:
            probs = [scenarios[s].p for s in order]
            k = order.index(scenario)
            ordered = "scenario_order" in resolutions
            out.append(
                Scored("scenarios", scenario, probs, k, brier(probs, k), log_score(probs, k),
                       rps(probs, k) if ordered else None)
            )  # fmt: skip
    if problems:
        raise CaseError(sorted(problems, key=lambda p: p.line))
    return out


def case_problems(
    case: Case, resolutions: dict[str, Any], file: str, lines: Lines
) -> list[Problem]:
    """Resolutions held to the case they are of, by the rules `score` holds them to a forecast
    of it: its id, every question resolved and none it lacks, the scenario one of its."""
    stand_in = SavedForecast(
        case=case.id,
        questions={q.id: SavedItem(0.5) for q in case.questions},
        scenarios={s.id: SavedItem(1 / len(case.scenarios)) for s in case.scenarios},
    )
    try:
        score(stand_in, resolutions, file, lines, of="case")
    except CaseError as e:
        return e.problems
    return []


def calibration(scored: list[Scored], bins: int = 5) -> list[dict[str, float]]:
    """Calibration over the questions: forecast P(yes) against how often yes happened."""
    qs = [s for s in scored if s.kind == "question"]
    return calibration_table([s.probabilities[1] for s in qs], [s.outcome for s in qs], bins)


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def scored_json(scored: list[Scored], question_rps: bool = True) -> dict[str, Any]:
    """One forecast's scores as JSON, as `standoff score --json` and `standoff ledger score
    --json` give them: the number of questions scored, their mean Brier and log scores, each
    question's (with its RPS where `question_rps`) and the scenarios'."""
    questions = [s for s in scored if s.kind == "question"]
    scenario = next((s for s in scored if s.kind == "scenarios"), None)

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 6) if values else None

    return {
        "n": len(questions),
        "brier": mean([s.brier for s in questions]),
        "log": mean([s.log for s in questions]),
        "questions": {
            s.id: {
                "p": round(s.probabilities[1], 6),
                "outcome": "yes" if s.outcome else "no",
                "brier": round(s.brier, 6),
                "log": round(s.log, 6),
                **({"rps": _round(s.rps)} if question_rps else {}),
            }
            for s in questions
        },
        "scenario": None
        if scenario is None
        else {
            "happened": scenario.id,
            "p": round(scenario.probabilities[scenario.outcome], 6),
            "brier": round(scenario.brier, 6),
            "log": round(scenario.log, 6),
            "rps": _round(scenario.rps),
        },
    }
