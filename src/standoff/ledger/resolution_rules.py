"""The rule resolutions are held to once their case has a recorded forecast: the rule of
`standoff score`, with its messages, the case's records standing for the forecast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ..errors import CaseError, Problem
from ..saved import SavedForecast, SavedItem
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
    from ..backtest.resolve import UNRESOLVED, pair_problems, score
    from ..case.yamlread import line_of
    from ..suggest import closest

    case_id = data.get("case")
    if not records:
        return []
    # every item any record forecast: the first record's p, "observed" where a record's
    # observations decided it
    questions: dict[str, SavedItem] = {}
    scenarios: dict[str, SavedItem] = {}
    for record in records:
        for kind, item, p in record.probabilities:
            pool = scenarios if kind == "scenario" else questions
            seen = record.observed(item, kind)
            known = pool.setdefault(item, SavedItem(p, observed=seen))
            if seen is not None and known.observed != seen:
                pool[item] = replace(known, observed=seen)
    where = dict(lines)
    problems: list[Problem] = []
    asked = SavedForecast(questions, case=case_id if isinstance(case_id, str) else None)
    try:  # the questions, by the rule and with the words of `standoff score`
        score(asked, {**data, "scenario": None, "scenario_order": None}, file, where)
    except CaseError as e:
        problems += e.problems
    recorded = SavedForecast({}, scenarios)
    problems += pair_problems(recorded, dict(data), file, where)
    decided = recorded.observed_scenario
    named = data.get("scenario")
    named = named if isinstance(named, str) else None
    if decided is not None and named in scenarios and named != decided:
        try:  # against what a record's observations decided: the words of `standoff score`
            score(recorded, {"questions": {}, "scenario": named}, file, where)
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
