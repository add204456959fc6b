"""Crisis forecasts from simulated histories: scenario and question probabilities with intervals
and words, the event paths and dyadic views behind each scenario, and the timeline.

Draws come in groups of R replicates (the case's `crisis.replicates`): the R draws of a group share
one draw of every uncertain input and differ only in which events happen. That separates the two
sources of uncertainty in a probability: the chance that events fall one way or another given the
inputs, and the spread of that chance across the inputs. See docs/model.md, "Draws, replicates and
intervals".
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..case.schema import Case
from ..compile.expr import Formula
from ..compile.plan import SIGNATURES, CompiledCrisis
from ..result import (
    BeliefTimeline,
    DyadTrace,
    DyadView,
    EventTimeline,
    PathShare,
    Probability,
    QuestionForecast,
    ScenarioForecast,
    SideTrace,
    SideView,
    Spread,
    Timeline,
)
from ..simulate.crisis import TRACE_TERMS, VIEW_CLASSES
from ..simulate.histories import CrisisTally
from ..words import icd203

Z90 = 1.6448536269514722


SPREAD_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
LOW_CUT, HIGH_CUT = 0.05, 0.5  # "under 5%", "over 50%"
SPLIT_SHARE = 0.10  # two-peaked: at least this share of input draws at each end


def probability(hits: NDArray[np.bool_], replicates: int) -> Probability:
    """The share of draws where `hits` holds; its 90% Monte Carlo interval; and its spread across
    input draws, from groups of `replicates` consecutive draws that share one input draw.

    With x_g the share in group g (G groups of R), the variance of the true probability across
    input draws is estimated by the method of moments, V = var(x_g) - mean(x_g (1 - x_g)) / (R - 1)
    (floored at 0), and each x_g is shrunk towards p by sqrt(V / var(x_g)): the shrunk shares have
    the mean p and the variance V, so the binomial noise of R replicates no longer widens the
    spread, while the shape (a split into two groups of inputs, say) is kept. The Monte Carlo
    error of p is sqrt(var(x_g) / G), the groups being independent.
    """
    x = np.asarray(hits, dtype=bool)
    n_groups = len(x) // replicates if replicates > 0 else 0
    grouped = x[: n_groups * replicates].reshape(n_groups, replicates).sum(axis=1)
    return probability_of(int(x.sum()), len(x), grouped, replicates)


def probability_of(
    count: int, draws: int, group_hits: NDArray[np.int64], replicates: int
) -> Probability:
    """`probability` from counts: `count` hits in `draws` draws, and the hits in each whole
    group of `replicates` consecutive draws (the same numbers, without the draws)."""
    p = count / draws
    n_groups = len(group_hits)
    if n_groups < 2:
        se = float(np.sqrt(p * (1 - p) / draws))
        return Probability(p, icd203(p), (max(0.0, p - Z90 * se), min(1.0, p + Z90 * se)), None)
    groups = np.asarray(group_hits, dtype=np.int64) / replicates
    between = float(groups.var(ddof=1))
    se = float(np.sqrt(between / n_groups))
    mc = (max(0.0, p - Z90 * se), min(1.0, p + Z90 * se))
    if replicates > 1:
        within = float(np.mean(groups * (1 - groups))) / (replicates - 1)
        spread = max(0.0, between - within)
    else:
        spread = between  # one history per input draw: the noise cannot be separated
    shrink = float(np.sqrt(spread / between)) if between > 0 else 0.0
    true = np.clip(p + (groups - p) * shrink, 0.0, 1.0)
    quantiles = tuple(float(q) for q in np.quantile(true, SPREAD_QUANTILES))
    below, above = float(np.mean(true < LOW_CUT)), float(np.mean(true > HIGH_CUT))
    return Probability(p, icd203(p), mc, _spread(quantiles, n_groups, replicates, below, above))


def _spread(
    quantiles: tuple[float, ...], groups: int, replicates: int, below: float, above: float
) -> Spread:
    """The spread across input draws: its quantiles (SPREAD_QUANTILES), and the shares of input
    draws under LOW_CUT and over HIGH_CUT (two-peaked when both reach SPLIT_SHARE)."""
    return Spread(
        quantiles=(quantiles[0], quantiles[1], quantiles[2], quantiles[3], quantiles[4]),
        groups=groups,
        replicates=replicates,
        below=below,
        above=above,
        two_peaked=below >= SPLIT_SHARE and above >= SPLIT_SHARE,
    )


def weighted_quantiles(
    values: NDArray[np.float64], weights: NDArray[np.float64], qs: tuple[float, ...]
) -> tuple[float, ...]:
    """Quantiles of a weighted sample: for each q, the smallest value whose cumulative weight
    share reaches q (the inverse of the weighted empirical distribution function)."""
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    total = cum[-1]
    at = np.searchsorted(cum, np.asarray(qs) * total, side="left")
    return tuple(float(v[min(int(i), len(v) - 1)]) for i in at)


def weighted_probability(
    hits: NDArray[np.float64],
    weight: NDArray[np.float64],
    weight_sq: NDArray[np.float64],
    replicates: int,
) -> Probability:
    """`probability_of` for weighted histories (conditioned on observations), from each input
    draw's (group's) weighted hits Y_g, weight W_g and sum of squared weights.

    p = sum Y_g / sum W_g. Its Monte Carlo error treats the groups as independent draws of a ratio
    estimator: var(p) = G / (G - 1) sum (Y_g - p W_g)^2 / (sum W_g)^2, G the groups with weight.
    The spread across input draws is the method of moments of `probability_of` with group g
    weighed by its share of the weight, W_g / W, and its binomial noise taken over its effective
    number of replicates W_g^2 / sum w^2."""
    total = float(weight.sum())
    p = float(hits.sum()) / total
    live = weight > 0
    n_groups = int(live.sum())
    y, w, w2 = hits[live], weight[live], weight_sq[live]
    if n_groups < 2:
        return Probability(p, icd203(p), (p, p), None)
    se = float(np.sqrt(n_groups / (n_groups - 1) * np.sum((y - p * w) ** 2))) / total
    mc = (max(0.0, p - Z90 * se), min(1.0, p + Z90 * se))
    share = w / total
    x = y / w
    between = float(np.sum(share * (x - p) ** 2))
    effective = w * w / w2  # effective replicates per group
    noisy = effective > 1.0
    noise = np.where(noisy, x * (1 - x) / np.where(noisy, effective - 1.0, 1.0), 0.0)
    spread = max(0.0, between - float(np.sum(share * noise)))
    shrink = float(np.sqrt(spread / between)) if between > 0 else 0.0
    true = np.clip(p + (x - p) * shrink, 0.0, 1.0)
    q = weighted_quantiles(true, share, SPREAD_QUANTILES)
    below, above = float(np.sum(share[true < LOW_CUT])), float(np.sum(share[true > HIGH_CUT]))
    return Probability(p, icd203(p), mc, _spread(q, n_groups, replicates, below, above))


def events_read(formula: Formula | None) -> tuple[str, ...]:
    """The events a rule reads (the event arguments of happened(), count(), since() and the
    like), each once; none for `otherwise`."""
    if formula is None:
        return ()
    found: list[str] = []
    for node in ast.walk(formula.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        signature = SIGNATURES.get(node.func.id)
        for kind, arg in zip(signature.kinds if signature else (), node.args, strict=False):
            if kind == "event" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append(arg.value)
    return tuple(dict.fromkeys(found))


def paths(tally: CrisisTally, plan: CompiledCrisis, s: int, top: int = 3) -> tuple[PathShare, ...]:
    """The most common orders in which the events that define the scenarios (those the scenario
    rules read) first happened, among the draws of scenario s; every event where the rules read
    none. Other events are left out of each path, so that events that repeat or come and go do
    not split a scenario into paths of a few draws each. Ties in the order of the event
    indices, as rows."""
    counted = tally.paths[s]
    members = sum(counted.values())
    if members == 0:
        return ()
    ids = [event.id for event in plan.events]
    defining = {e for rule in plan.scenarios for e in events_read(rule.formula)}
    keep = {n for n, e in enumerate(ids) if e in defining} or set(range(len(ids)))
    projected: dict[tuple[int, ...], Any] = {}
    for row, c in counted.items():
        path = tuple(e for e in row if e in keep)  # -1 (none) is never kept
        projected[path] = projected.get(path, 0) + c
    rows = sorted(projected)
    ranked = sorted(range(len(rows)), key=lambda r: -projected[rows[r]])[:top]
    return tuple(
        PathShare(
            events=tuple(ids[e] for e in rows[r]) or ("(nothing)",),
            share=float(np.float64(projected[rows[r]]) / members),
        )
        for r in ranked
    )


def views(tally: CrisisTally, plan: CompiledCrisis, case: Case, s: int) -> tuple[DyadView, ...]:
    """For each dyad: how often each side saw each kind of interaction (rounds while the crisis
    ran) among the draws of scenario s, and how often the two sides' views differed."""
    cells = tally.running[s]
    if not tally.paths[s] or not cells > 0:  # no draws (or, conditioned, no weight)
        return ()
    counts = tally.view_counts[s]  # (P, 2, C)
    actors = case.actor_ids
    out: list[DyadView] = []
    for p, (a, b) in enumerate(plan.dyads):
        sides = tuple(
            SideView(
                actor=actors[who],
                shares={
                    name: float(
                        np.float64(counts[p, side, c] if c < counts.shape[-1] else 0) / cells
                    )
                    for c, name in enumerate(VIEW_CLASSES)
                },
            )
            for side, who in ((0, a), (1, b))
        )
        differ = float(np.float64(tally.differ[s, p]) / cells)
        out.append(DyadView((actors[a], actors[b]), (sides[0], sides[1]), differ))
    return tuple(out)


def scenarios(tally: CrisisTally, plan: CompiledCrisis, case: Case) -> tuple[ScenarioForecast, ...]:
    specs = {s.id: s for s in case.scenarios}
    out: list[ScenarioForecast] = []
    for s, rule in enumerate(plan.scenarios):
        spec = specs[rule.id]
        out.append(
            ScenarioForecast(
                id=rule.id,
                label=spec.label or rule.id,
                description=spec.description,
                rule=str(spec.when),
                probability=_probability(tally, s),
                paths=paths(tally, plan, s),
                views=views(tally, plan, case, s),
                reads=events_read(rule.formula),
            )
        )
    return tuple(out)


def _probability(tally: CrisisTally, column: int) -> Probability:
    """The probability of hit column `column` (a scenario, or n_scenarios + a question)."""
    if tally.posterior is not None:
        post = tally.posterior
        return weighted_probability(
            post.hits[:, column], post.weight, post.weight_sq, tally.replicates
        )
    return probability_of(
        int(tally.hits[column]), tally.draws, tally.groups[:, column], tally.replicates
    )


def questions(tally: CrisisTally, plan: CompiledCrisis, case: Case) -> tuple[QuestionForecast, ...]:
    specs = {q.id: q for q in case.questions}
    out: list[QuestionForecast] = []
    for q, (rule, index) in enumerate(plan.questions):
        spec = specs[rule.id]
        out.append(
            QuestionForecast(
                id=rule.id,
                text=spec.text,
                criteria=spec.criteria,
                rule=str(spec.when),
                # as written (the horizon when not given); the question is evaluated on the
                # history up to the end of the round that holds that date
                resolves=spec.resolves or case.horizon or plan.dates[index],
                probability=_probability(tally, len(plan.scenarios) + q),
            )
        )
    return tuple(out)


def timeline(tally: CrisisTally, plan: CompiledCrisis, case: Case) -> Timeline:
    """The probability that each event has happened by each round, the mean of each belief, and
    how the bargaining of each dyad moved."""
    by_round = tally.happened / tally.total  # (T, E)
    means = tally.belief_means()  # (T + 1, B)
    return Timeline(
        dates=plan.dates,
        events=tuple(
            EventTimeline(
                id=event.id,
                label=event.label,
                by_round=tuple(float(v) for v in by_round[:, e]),
            )
            for e, event in enumerate(plan.events)
        ),
        beliefs=tuple(
            BeliefTimeline(
                id=spec.id,
                mean_by_round=tuple(float(v) for v in means[:, b]),
            )
            for b, spec in enumerate(plan.beliefs)
        ),
        running=tuple(float(v) for v in np.asarray(tally.trace_running) / tally.total),
        dyads=bargaining(tally, plan, case),
    )


def bargaining(tally: CrisisTally, plan: CompiledCrisis, case: Case) -> tuple[DyadTrace, ...]:
    """Per dyad, round by round: the mean gap, prevails and each side's eu over the draws still
    running in the round, and the share of them in which each side's dominant view is each
    class (None in a round no draw reaches)."""
    means = tally.trace_means()  # (T, P, len(TRACE_TERMS))
    shares = tally.trace_view_shares()  # (T, P, 2, C)
    term = {name: n for n, name in enumerate(TRACE_TERMS)}
    actors = case.actor_ids
    out: list[DyadTrace] = []
    for p, (a, b) in enumerate(plan.dyads):
        sides = tuple(
            SideTrace(
                actor=actors[who],
                views={name: _rounds(shares[:, p, side, c]) for c, name in enumerate(VIEW_CLASSES)},
            )
            for side, who in ((0, a), (1, b))
        )
        out.append(
            DyadTrace(
                actors=(actors[a], actors[b]),
                gap=_rounds(means[:, p, term["gap"]]),
                prevails=_rounds(means[:, p, term["prevails"]]),
                eu=_rounds(means[:, p, term["eu"]]),
                eu_back=_rounds(means[:, p, term["eu_back"]]),
                sides=(sides[0], sides[1]),
            )
        )
    return tuple(out)


def _rounds(values: NDArray[np.float64]) -> tuple[float | None, ...]:
    """Per-round values; None for a round that no draw (no weight) reaches (NaN)."""
    return tuple(float(v) if np.isfinite(v) else None for v in values)
