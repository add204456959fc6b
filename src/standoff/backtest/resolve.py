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

The file is read once, into `Resolutions` (`read_resolutions`), and read by its attributes from
then on, never by key, as the forecast is: `standoff score`, `standoff check`, the ledger and the
library alike. Each item keeps the line it was read at, so later problems name it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from ..case.yamlread import line_of, read_text_file, read_yaml, unknown_keys
from ..errors import CaseError, Problem
from ..saved import SavedForecast, SavedItem, from_json
from ..suggest import closest, suggest
from .scores import brier, calibration_table, log_score, rps

if TYPE_CHECKING:
    from ..case.schema import Case

UNRESOLVED: Final = "unresolved"
IN_MEMORY = "(resolutions)"  # the file named in problems of resolutions given as data
TOP_KEYS = ("case", "resolved", "scenario", "scenario_order", "questions", "note", "source")
QUESTION_KEYS = ("outcome", "note", "source")
Lines = dict[tuple[str | int, ...], int]
Outcome = Literal["yes", "no", "unresolved"]


@dataclass(frozen=True)
class QuestionResolution:
    """What happened to one question: `outcome` yes, no or `unresolved` (not known yet: listed,
    not scored), the file's `note` and `source` where it gives them, and the line it is at."""

    outcome: Outcome
    note: str | None = None
    source: str | None = None
    line: int = 1

    @property
    def resolved(self) -> bool:
        return self.outcome != UNRESOLVED

    @property
    def happened(self) -> bool:
        """Whether it happened (yes); False for no, and for `unresolved` (check `resolved`)."""
        return self.outcome == "yes"


@dataclass(frozen=True)
class Resolutions:
    """A resolution file read back typed (see the module's docstring). `questions` keeps the
    file's order; `scenario` is the scenario that happened, `unresolved`, or None where the file
    gives none; `scenario_order` the order of the scenarios where the file gives one (then the
    scenarios are scored with the RPS), else None; `resolved_on` the file's `resolved:` date (ISO).
    `file` and `lines` (each value's key path to its line) place the problems found later."""

    questions: Mapping[str, QuestionResolution]
    case: str | None = None
    scenario: str | None = None
    scenario_order: tuple[str, ...] | None = None
    resolved_on: str | None = None
    note: str | None = None
    source: str | None = None
    file: str = IN_MEMORY
    lines: Lines = field(default_factory=dict, compare=False, repr=False)

    def line(self, *path: str | int) -> int:
        """The line of a key path (`"scenario"`, `"questions"`, ...), or of its nearest parent."""
        return line_of(self.lines, path)

    @property
    def unresolved_questions(self) -> tuple[str, ...]:
        """The questions marked `unresolved` (listed, not scored)."""
        return tuple(q for q, r in self.questions.items() if not r.resolved)

    @property
    def scenario_resolved(self) -> bool:
        """Whether the file names the scenario that happened (not None, not `unresolved`)."""
        return self.scenario is not None and self.scenario != UNRESOLVED


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
    if isinstance(value, Mapping):
        value = value.get("outcome")
    if isinstance(value, bool) or value == UNRESOLVED:
        return value
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_resolutions(path: Path) -> Resolutions:
    """A resolution file, its shape checked (see the module's docstring), read back typed.
    Raises CaseError."""
    return parse_resolutions(read_text_file(path), str(path))


def parse_resolutions(text: str, file: str) -> Resolutions:
    """`read_resolutions` of text already read."""
    data, lines = read_yaml(text, file)
    return resolutions_from(data, file, lines)


def resolutions_from(data: Any, file: str = IN_MEMORY, lines: Lines | None = None) -> Resolutions:
    """The resolutions in `data`, the mapping a resolution file parses to (`lines`: its values'
    lines, where it was read from a file), checked as `read_resolutions` checks a file. Raises
    CaseError listing every problem, sorted by line."""
    lines = lines or {}
    if not isinstance(data, Mapping):
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
    problems = unknown_keys(dict(data), TOP_KEYS, (), file, lines)
    questions = data.get("questions")
    resolved: dict[str, QuestionResolution] = {}
    if not isinstance(questions, Mapping):
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
            if isinstance(value, Mapping):
                at = ("questions", ident)
                problems += unknown_keys(dict(value), QUESTION_KEYS, at, file, lines)
            outcome = _outcome(value)
            if outcome is None:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"questions.{ident}",
                        "outcome must be yes or no (or unresolved: not scored yet)",
                    )
                )
                continue
            detail = value if isinstance(value, Mapping) else {}
            resolved[str(ident)] = QuestionResolution(
                UNRESOLVED if outcome == UNRESOLVED else "yes" if outcome else "no",
                _text(detail.get("note")),
                _text(detail.get("source")),
                line,
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
    return Resolutions(
        questions=resolved,
        case=data.get("case"),
        scenario=data.get("scenario"),
        scenario_order=None if order is None else tuple(order),
        resolved_on=_text(data.get("resolved")),
        note=_text(data.get("note")),
        source=_text(data.get("source")),
        file=file,
        lines=dict(lines),
    )


def pair_problems(
    forecast: SavedForecast, resolutions: Resolutions, of: str = "forecast"
) -> list[Problem]:
    """Why these resolutions are not for this forecast (`of` names it in messages: "forecast",
    or "case" when a case stands for it): another case, a question of the forecast not resolved,
    the scenario not resolved though the forecast has scenarios."""
    problems: list[Problem] = []
    file = resolutions.file
    ours, theirs = resolutions.case, forecast.case
    if ours is not None and theirs is not None and ours != theirs:
        problems.append(
            Problem(
                file,
                resolutions.line("case"),
                "case",
                f"these resolutions are for {ours!r}, the {of} is {'of ' if of != 'case' else ''}"
                f"{theirs!r}",
            )
        )
    missing = [q for q in forecast.questions if q not in resolutions.questions]
    if missing:
        problems.append(
            Problem(
                file,
                resolutions.lines.get(("questions", "<key>"), resolutions.line("questions")),
                "questions",
                f"not resolved: {', '.join(missing)} (in the {of}); give each yes, no or "
                f"{UNRESOLVED}",
            )
        )
    if forecast.scenarios and resolutions.scenario is None:
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


def unresolved(forecast: SavedForecast, resolutions: Resolutions) -> list[str]:
    """The ids the resolutions mark `unresolved` (listed, not scored)."""
    out = list(resolutions.unresolved_questions)
    if forecast.scenarios and resolutions.scenario == UNRESOLVED:
        out.append("scenario")
    return out


def score(forecast: SavedForecast, resolutions: Resolutions, of: str = "forecast") -> list[Scored]:
    """Score every resolved question (and the scenario) that the forecast holds. The pair must
    match (`pair_problems`); a resolution for an id the forecast lacks is a problem too, and so is
    one that contradicts what the forecast's observations decided. Items marked `unresolved` (see
    `unresolved`) and questions the observations decided (see `observed`) are not scored."""
    file = resolutions.file
    problems = pair_problems(forecast, resolutions, of)
    out: list[Scored] = []
    for ident, resolution in resolutions.questions.items():
        item = forecast.questions.get(ident)
        if item is None:
            known = list(forecast.questions)
            hint = suggest("question", ident, known, listed="its questions")
            problems.append(
                Problem(file, resolution.line, f"questions.{ident}", f"not in the {of}{hint}")
            )
            continue
        if not resolution.resolved:
            continue
        outcome = resolution.happened
        seen = item.observed
        if seen is not None:
            if (seen == "yes") != outcome:
                problems.append(
                    Problem(
                        file,
                        resolution.line,
                        f"questions.{ident}",
                        f"resolved {resolution.outcome}, but the observations the "
                        f"forecast was conditioned on decided it {seen}; check the two files",
                    )
                )
            continue
        p = item.p
        happened = int(outcome)
        probs = [1 - p, p]
        out.append(
            Scored("question", ident, probs, happened, brier(probs, happened),
                   log_score(probs, happened), rps(probs, happened))
        )  # fmt: skip
    scored, scenario_problems = _score_scenario(forecast, resolutions, of)
    out += scored
    problems += scenario_problems
    if problems:
        raise CaseError(sorted(problems, key=lambda p: p.line))
    return out


def _score_scenario(
    forecast: SavedForecast, resolutions: Resolutions, of: str
) -> tuple[list[Scored], list[Problem]]:
    """The scenario's score (none where it is not resolved, or the observations decided it), or
    why it cannot be scored: not a scenario of the forecast, an order that does not list exactly
    its scenarios, against what the observations decided."""
    file = resolutions.file
    scenario = resolutions.scenario
    scenarios = forecast.scenarios
    decided = forecast.observed_scenario
    if decided is not None and scenario is not None and scenario not in (UNRESOLVED, decided):
        return [], [
            Problem(
                file,
                resolutions.line("scenario"),
                "scenario",
                f"resolved {scenario!r}, but the observations the forecast was conditioned on "
                f"decided it {decided!r}; check the two files",
            )
        ]
    if decided is not None or scenario is None or scenario == UNRESOLVED:
        return [], []
    order = list(resolutions.scenario_order or scenarios)
    if scenario not in scenarios:
        what = f"{scenario!r} is not a scenario of the {of}"
        close = closest(scenario, scenarios)
        what += f"; did you mean {close!r}?" if close is not None else ""
        line, field_ = resolutions.line("scenario"), "scenario"
    elif sorted(order) != sorted(scenarios):
        line, field_ = resolutions.line("scenario_order"), "scenario_order"
        what = f"the order does not list exactly the {of}'s scenarios"
    else:
        probs = [scenarios[s].p for s in order]
        k = order.index(scenario)
        ordered = resolutions.scenario_order is not None
        scored = Scored("scenarios", scenario, probs, k, brier(probs, k), log_score(probs, k),
                        rps(probs, k) if ordered else None)  # fmt: skip
        return [scored], []
    return [], [Problem(file, line, field_, f"{what} ({', '.join(scenarios) or 'none'})")]


def case_problems(case: Case, resolutions: Resolutions) -> list[Problem]:
    """Resolutions held to the case they are of, by the rules `score` holds them to a forecast
    of it: its id, every question resolved and none it lacks, the scenario one of its."""
    stand_in = SavedForecast(
        case=case.id,
        questions={q.id: SavedItem(0.5) for q in case.questions},
        scenarios={s.id: SavedItem(1 / len(case.scenarios)) for s in case.scenarios},
    )
    try:
        score(stand_in, resolutions, of="case")
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
