"""The outside view beside a forecast: each scenario and question the case maps to an ICB outcome
(`reference_class.compare`) set beside its class's rate, with large gaps flagged (the case's
probability outside the 90% interval of the class's rate). A question the observations of a
conditioned forecast decided is shown as observed (its answer) and never flagged: it is no longer
a forecast to set beside its class (docs/observations.md). The class itself is read and checked
by `case/reference_class.py`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..case.reference_class import BLOCK, class_rates
from ..outside.view import BaseRates, OutsideView, Target

if TYPE_CHECKING:
    from ..case.schema import Case
    from ..case.source import SourceMap
    from ..result import ForecastResult


def outside_view(
    case: Case,
    source: SourceMap,
    forecasts: Mapping[str, tuple[str, str, float]],
    rates: tuple[BaseRates, dict[str, Target]] | None = None,
) -> OutsideView | None:
    """The outside view of a case with a reference class (None without one). `forecasts` maps
    each scenario and question id to (kind, label, probability); `rates`: the class's
    `class_rates`, where already computed. CaseError as `class_rates`."""
    from ..outside.view import compare

    found = rates if rates is not None else class_rates(case, source)
    if found is None:
        return None
    base, targets = found
    return OutsideView(base, compare(base, targets, forecasts))


def outside_json(view: OutsideView) -> dict[str, Any]:
    from ..outside.view import rates_json

    data = rates_json(view.rates)
    data["large_gap_rule"] = "the case's probability lies outside the class rate's 90% interval"
    data["comparisons"] = [
        {**c.to_json(), "observed": "yes" if view.observed[c.id] else "no"}
        if c.id in view.observed
        else c.to_json()
        for c in view.comparisons
    ]
    return data


def attach(
    result: ForecastResult,
    source: SourceMap,
    rates: tuple[BaseRates, dict[str, Target]] | None = None,
) -> ForecastResult:
    """The forecast with its outside view (unchanged when the case declares no reference class),
    from the class's `class_rates` where given. Cheap: one pass over the ICB rows, read once per
    process (and scipy's special functions, imported at the first use)."""
    import dataclasses

    if getattr(result.case, BLOCK, None) is None:
        return result
    forecasts = {s.id: ("scenario", s.label or s.id, s.probability.p) for s in result.scenarios}
    forecasts.update(
        {q.id: ("question", q.text or q.id, q.probability.p) for q in result.questions}
    )
    view = outside_view(result.case, source, forecasts, rates)
    observed = {q.id: q.observed for q in result.questions if q.observed is not None}
    observed.update({s.id: s.observed for s in result.scenarios if s.observed is not None})
    if view is not None and observed:
        view = dataclasses.replace(
            view,
            comparisons=tuple(
                dataclasses.replace(c, gap=False) if c.id in observed else c
                for c in view.comparisons
            ),
            observed=observed,
        )
    return dataclasses.replace(result, outside_view=view)
