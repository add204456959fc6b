"""Indicators: the observable events that best tell the scenarios apart.

For each event e and month k, let A be "e has happened by the end of round k". Over the simulated
histories, the mutual information I(A; scenario) measures how much observing A (or its absence)
says about which scenario unfolds (Cover & Thomas, *Elements of Information Theory*, ch. 2). For
each event the most informative month within the first half of the horizon is kept (a watch list
is for early signs: by the horizon, the events that define a scenario tell it trivially); the list
ranks events by it and shows how each scenario's probability moves if A is seen, or not, by then.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..compile.plan import CompiledCrisis
from ..result import Indicator
from ..simulate.histories import CrisisTally

MIN_SHARE = 0.01  # ignore observations that almost never, or almost always, happen


def _entropy(p: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return np.asarray(terms.sum(axis=-1))


def _share(part: NDArray[np.float64], whole: NDArray[Any]) -> NDArray[np.float64]:
    """part / whole per row, 0 where the whole is 0 (no draws, or no weight)."""
    whole = np.asarray(whole, dtype=float)[:, None]
    return np.asarray(np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), 0.0))


def indicators(
    tally: CrisisTally, plan: CompiledCrisis, top: int = 8, after: int = 0
) -> tuple[Indicator, ...]:
    """The `top` most informative early observations, most informative first. `after`: rounds
    already observed (a conditioned forecast), which are not early signs of anything."""
    scenario_ids = [rule.id for rule in plan.scenarios]
    n_scenarios = len(scenario_ids)
    if n_scenarios == 0 or not plan.events:  # nothing to tell apart (the loader requires scenarios)
        return ()
    draws = tally.total
    in_scenario = tally.in_scenario.astype(float)  # (S,)
    prior = in_scenario / draws
    out: list[Indicator] = []
    for e, event in enumerate(plan.events):
        n_seen = tally.happened[:, e]  # (T,)
        p_seen = n_seen / draws
        n_not = draws - n_seen
        joint = tally.seen_in[:, e, :].astype(float)  # (T, S)
        given_seen = _share(joint, n_seen)  # (T, S)
        given_not = _share(in_scenario[None, :] - joint, n_not)
        information = _entropy(prior) - (
            p_seen * _entropy(given_seen) + (1 - p_seen) * _entropy(given_not)
        )
        rounds = np.arange(len(p_seen))
        early = (rounds >= after) & (rounds < after + max(1, -(-(len(p_seen) - after) // 2)))
        usable = early & (p_seen >= MIN_SHARE) & (p_seen <= 1 - MIN_SHARE)
        if not usable.any():
            continue
        k = int(np.argmax(np.where(usable, information, -1.0)))
        out.append(
            Indicator(
                event=event.id,
                label=event.label or event.id,
                round=k + 1,
                date=plan.dates[k].isoformat(),
                p_seen=float(p_seen[k]),
                information=float(max(information[k], 0.0)),
                if_seen=dict(zip(scenario_ids, map(float, given_seen[k]), strict=True)),
                if_not_seen=dict(zip(scenario_ids, map(float, given_not[k]), strict=True)),
                prior=dict(zip(scenario_ids, map(float, prior), strict=True)),
            )
        )
    out.sort(key=lambda ind: -ind.information)
    return tuple(out[:top])
