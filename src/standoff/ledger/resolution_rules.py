"""The rule resolutions are held to once their case has a recorded forecast: the rule of
`standoff score`, with its messages, the case's records standing for the forecast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import CaseError, Problem
from .record import Record


def resolution_problems(
    records: Sequence[Record],
    data: Mapping[str, Any],
    file: str,
    lines: Mapping[tuple[str | int, ...], int],
) -> list[Problem]:
    """Why resolutions (read by `read_resolutions`) cannot be stored for their case, whose
    recorded forecasts are `records`: they stand for the forecast of `standoff score`, whose rule
    they follow with its messages (`standoff.backtest.resolve.score`): every question any record
    forecast is resolved (yes, no or `unresolved`), none that no record has, none against what a
    record's observations decided, and the scenario given where the records have scenarios, and
    one of theirs (as `scenario_order` must list theirs). None for a case with no record yet
    (nothing to hold them to), sorted by line."""
    from ..backtest.resolve import UNRESOLVED, observed_scenario, pair_problems, score
    from ..case.yamlread import line_of
    from ..suggest import closest

    case_id = data.get("case")
    if not records:
        return []
    questions: dict[str, dict[str, Any]] = {}
    scenarios: dict[str, dict[str, Any]] = {}
    for record in records:
        for kind, item, p in record.probabilities:
            if kind == "scenario":
                entry = scenarios.setdefault(item, {"p": p})
                if (seen := record.observed(item, "scenario")) is not None:
                    entry["observed"] = seen
                continue
            entry = questions.setdefault(item, {"p": p})
            if (seen := record.observed(item)) is not None:
                entry["observed"] = seen
    where = dict(lines)
    problems: list[Problem] = []
    asked = {"case": case_id, "questions": questions, "scenarios": {}}
    try:  # the questions, by the rule and with the words of `standoff score`
        score(asked, {**data, "scenario": None, "scenario_order": None}, file, where)
    except CaseError as e:
        problems += e.problems
    problems += pair_problems({"questions": {}, "scenarios": scenarios}, dict(data), file,
                              where)  # fmt: skip
    decided = observed_scenario({"scenarios": scenarios})
    named = data.get("scenario")
    named = named if isinstance(named, str) else None
    if decided is not None and named in scenarios and named != decided:
        try:  # against what a record's observations decided: the words of `standoff score`
            score({"questions": {}, "scenarios": scenarios},
                  {"questions": {}, "scenario": named}, file, where)  # fmt: skip
        except CaseError as e:
            problems += e.problems
    wanted: list[tuple[str, str]] = []
    if isinstance(named, str) and named != UNRESOLVED:
        wanted.append(("scenario", named))
    order = data.get("scenario_order")
    if isinstance(order, list):
        wanted += [("scenario_order", s) for s in order if isinstance(s, str)]
    for field, ident in wanted:
        if ident in scenarios:
            continue
        message = f"{ident!r}: no recorded forecast of {case_id!r} has this scenario"
        close = closest(ident, scenarios)
        if close is not None:
            message += f"; did you mean {close!r}?"
        listed = ", ".join(scenarios)
        message += f" (its scenarios: {listed})" if scenarios else " (they have none)"
        problems.append(
            Problem(file, line_of(where, (field,)), field, message + "; nothing stored")
        )
    if (
        isinstance(order, list)
        and all(s in scenarios for s in order)
        and sorted(order) != sorted(scenarios)
    ):
        problems.append(
            Problem(file, line_of(where, ("scenario_order",)), "scenario_order",
                    "the order does not list exactly the scenarios the recorded forecasts "
                    f"of {case_id!r} have ({', '.join(scenarios)}); nothing stored")
        )  # fmt: skip
    return sorted(problems, key=lambda p: p.line)
