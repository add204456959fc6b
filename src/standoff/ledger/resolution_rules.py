"""The rule resolutions are held to once their case has a recorded forecast: the rule of
`standoff score`, with its messages, the case's records standing for the forecast."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import CaseError, Problem
from ..saved import SavedForecast, SavedItem
from ..suggest import closest
from .record import Record

if TYPE_CHECKING:
    from ..backtest.resolve import Resolutions


def resolution_problems(records: Sequence[Record], given: Resolutions) -> list[Problem]:
    """Why resolutions (read by `read_resolutions`) cannot be stored for their case, whose
    recorded forecasts are `records`: they stand for the forecast of `standoff score`, whose rule
    they follow with its messages (`standoff.backtest.resolve.score`): every question any record
    forecast is resolved (yes, no or `unresolved`), none that no record has, none against what a
    record's observations decided, and the scenario given where the records have scenarios, and
    one of theirs (as `scenario_order` must list theirs). None for a case with no record yet
    (nothing to hold them to), sorted by line."""
    from ..backtest.resolve import UNRESOLVED, pair_problems, score

    if not records:
        return []
    case_id = given.case
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
    problems: list[Problem] = []
    asked = SavedForecast(questions, case=case_id)
    try:  # the questions, by the rule and with the words of `standoff score`
        score(asked, replace(given, scenario=None, scenario_order=None))
    except CaseError as e:
        problems += e.problems
    recorded = SavedForecast({}, scenarios)
    problems += pair_problems(recorded, given)
    decided = recorded.observed_scenario
    named = given.scenario
    if decided is not None and named in scenarios and named != decided:
        try:  # against what a record's observations decided: the words of `standoff score`
            score(recorded, replace(given, questions={}, case=None, scenario_order=None))
        except CaseError as e:
            problems += e.problems
    wanted: list[tuple[str, str]] = []
    if named is not None and named != UNRESOLVED:
        wanted.append(("scenario", named))
    order = given.scenario_order
    if order is not None:
        wanted += [("scenario_order", s) for s in order]
    for field, ident in wanted:
        if ident in scenarios:
            continue
        message = f"{ident!r}: no recorded forecast of {case_id!r} has this scenario"
        close = closest(ident, scenarios)
        if close is not None:
            message += f"; did you mean {close!r}?"
        listed = ", ".join(scenarios)
        message += f" (its scenarios: {listed})" if scenarios else " (they have none)"
        problems.append(Problem(given.file, given.line(field), field, message + "; nothing stored"))
    if (
        order is not None
        and all(s in scenarios for s in order)
        and sorted(order) != sorted(scenarios)
    ):
        problems.append(
            Problem(given.file, given.line("scenario_order"), "scenario_order",
                    "the order does not list exactly the scenarios the recorded forecasts "
                    f"of {case_id!r} have ({', '.join(scenarios)}); nothing stored")
        )  # fmt: skip
    return sorted(problems, key=lambda p: p.line)
