"""Score a saved crisis forecast (the JSON of `standoff forecast --json`) against resolutions.

A resolution file is YAML:

    case: us-dprk-2018
    resolved: 2019-08-15
    scenario: talks_continue          # the scenario that happened (optional)
    scenario_order: [a, b, c]         # optional: the scenarios are ordered; adds the RPS
    questions:
      second_summit: yes              # or {outcome: yes, note: "...", source: "..."}
      armed_clash: no

Each question is a two-category forecast (no, yes) scored with the Brier score (two-category form,
sum over both categories, in [0, 2]), the log score and the RPS; the scenarios are one
multi-category forecast. Questions pool into a calibration table. Scoring rules: `scores.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..case.yamlread import line_of, read_yaml
from ..errors import CaseError, Problem
from .scores import brier, calibration_table, log_score, rps


@dataclass(frozen=True)
class Scored:
    kind: str  # "question" or "scenarios"
    id: str
    probabilities: list[float]
    outcome: int
    brier: float
    log: float
    rps: float | None


def read_forecast(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError([Problem(file, 1, "(file)", "no such file")]) from None
    except json.JSONDecodeError as e:
        raise CaseError([Problem(file, e.lineno, "(json)", e.msg)]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CaseError([Problem(file, 1, "(file)", f"cannot read: {e}")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), dict):
        raise CaseError([Problem(file, 1, "questions", "not a crisis forecast (no questions)")])
    for part in ("questions", "scenarios"):
        for ident, item in (data.get(part) or {}).items():
            p = item.get("p") if isinstance(item, dict) else None
            if not isinstance(p, int | float) or not 0 <= p <= 1:
                raise CaseError([Problem(file, 1, f"{part}.{ident}.p", "not a probability")])
    return data


def _outcome(value: Any) -> bool | None:
    if isinstance(value, dict):
        value = value.get("outcome")
    return value if isinstance(value, bool) else None


def read_resolutions(path: Path) -> tuple[dict[str, Any], dict[tuple[str | int, ...], int]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseError([Problem(file, 1, "(file)", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CaseError([Problem(file, 1, "(file)", f"cannot read: {e}")]) from None
    data, lines = read_yaml(text, file)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise CaseError([Problem(file, 1, "(top level)", "expected a mapping")])
    questions = data.get("questions")
    if not isinstance(questions, dict):
        problems.append(Problem(file, line_of(lines, ("questions",)), "questions", "missing"))
    else:
        for ident, value in questions.items():
            if _outcome(value) is None:
                line = line_of(lines, ("questions", ident))
                problems.append(
                    Problem(file, line, f"questions.{ident}", "outcome must be yes or no")
                )
    scenario = data.get("scenario")
    if scenario is not None and not isinstance(scenario, str):
        problems.append(Problem(file, line_of(lines, ("scenario",)), "scenario", "not an id"))
    if problems:
        raise CaseError(problems)
    return data, lines


def score(forecast: dict[str, Any], resolutions: dict[str, Any], file: str = "(resolutions)",
          lines: dict[tuple[str | int, ...], int] | None = None) -> list[Scored]:  # fmt: skip
    """Score every resolved question (and the scenario) that the forecast holds. A resolution for
    an id the forecast lacks is a problem."""
    lines = lines or {}
    problems: list[Problem] = []
    out: list[Scored] = []
    for ident, value in resolutions["questions"].items():
        item = forecast["questions"].get(ident)
        if item is None:
            line = line_of(lines, ("questions", ident))
            problems.append(Problem(file, line, f"questions.{ident}", "not in the forecast"))
            continue
        p = float(item["p"])
        happened = int(bool(_outcome(value)))
        probs = [1 - p, p]
        out.append(
            Scored("question", ident, probs, happened, brier(probs, happened),
                   log_score(probs, happened), rps(probs, happened))
        )  # fmt: skip
    scenario = resolutions.get("scenario")
    scenarios = forecast.get("scenarios") or {}
    if scenario is not None:
        order = resolutions.get("scenario_order") or list(scenarios)
        if scenario not in scenarios or sorted(order) != sorted(scenarios):
            line = line_of(lines, ("scenario",))
            problems.append(
                Problem(file, line, "scenario", f"{scenario!r} or the order does not match "
                        f"the forecast's scenarios ({', '.join(scenarios)})")
            )  # fmt: skip
        else:
            probs = [float(scenarios[s]["p"]) for s in order]
            k = order.index(scenario)
            ordered = "scenario_order" in resolutions
            out.append(
                Scored("scenarios", scenario, probs, k, brier(probs, k), log_score(probs, k),
                       rps(probs, k) if ordered else None)
            )  # fmt: skip
    if problems:
        raise CaseError(problems)
    return out


def calibration(scored: list[Scored], bins: int = 5) -> list[dict[str, float]]:
    """Calibration over the questions: forecast P(yes) against how often yes happened."""
    qs = [s for s in scored if s.kind == "question"]
    return calibration_table([s.probabilities[1] for s in qs], [s.outcome for s in qs], bins)
