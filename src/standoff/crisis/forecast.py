"""Crisis forecasts: scenario and question probabilities with intervals, words and explanations.

Draws come in groups of R replicates (the case's `crisis.replicates`): the R draws of a group share
one draw of every uncertain input and differ only in which events happen. That separates the two
sources of uncertainty in a probability: the chance that events fall one way or another given the
inputs, and the spread of that chance across the inputs. See docs/model.md, "Intervals".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..bargaining import make_engine, weighted_median
from ..case.schema import Case
from ..sample import Sampler, event_uniforms
from ..words import icd203
from .model import CompiledCrisis
from .simulate import VIEW_CLASSES, CrisisRun, simulate

Z90 = 1.6448536269514722


@dataclass(frozen=True)
class CrisisResult:
    case: Case
    plan: CompiledCrisis
    draws: int
    seed: int
    scenario: NDArray[np.int64]  # (D,)
    questions: NDArray[np.bool_]  # (D, Q)
    fired: NDArray[np.bool_]  # (D, T, E)
    views: NDArray[np.int8]  # (D, T, P, 2)
    beliefs: NDArray[np.float64]  # (D, T + 1, B)
    ended: NDArray[np.int64]  # (D,)
    settlement: NDArray[np.float64]  # (D, K)


def probability_interval(
    hits: NDArray[np.bool_], replicates: int
) -> tuple[float, tuple[float, float]]:
    """The share of draws where `hits` holds, and a 90% interval covering Monte Carlo error and
    the spread of the probability across input draws (method of moments over replicate groups)."""
    hits = np.asarray(hits, dtype=float)
    p = float(hits.mean())
    n_groups = len(hits) // replicates
    if n_groups < 2:
        se = np.sqrt(p * (1 - p) / len(hits))
        return p, (max(0.0, p - Z90 * se), min(1.0, p + Z90 * se))
    groups = hits[: n_groups * replicates].reshape(n_groups, replicates).mean(axis=1)
    between = float(groups.var(ddof=1))
    se = np.sqrt(between / n_groups)  # Monte Carlo error of p: groups are independent
    if replicates > 1:
        within = float(np.mean(groups * (1 - groups))) / (replicates - 1)
        spread = max(0.0, between - within)  # variance of the probability across inputs
    else:
        spread = 0.0
    if spread > 1e-12 and 0 < p < 1 and spread < p * (1 - p):
        from scipy import stats  # imported here: scipy.stats costs a second at start-up

        concentration = p * (1 - p) / spread - 1
        lo, hi = stats.beta.ppf([0.05, 0.95], p * concentration, (1 - p) * concentration)
    else:
        lo = hi = p
    return p, (max(0.0, float(lo) - Z90 * se), min(1.0, float(hi) + Z90 * se))


def run_crisis(
    case: Case,
    draws: int,
    seed: int,
    chunk_size: int,
    progress: Callable[[int], None] | None = None,
) -> CrisisResult:
    plan: CompiledCrisis = case.plan
    if plan is None:
        raise ValueError(f"case {case.id!r} has no crisis section")
    engine = make_engine(case.crisis.engine if case.crisis else "eum")
    replicates = plan.replicates
    sampler = Sampler(case, seed)
    n_rounds, n_events = plan.rounds, len(plan.events)
    parts: list[tuple[CrisisRun, NDArray[np.float64]]] = []
    for start in range(0, draws, chunk_size):
        stop = min(draws, start + chunk_size)
        group = np.arange(start, stop) // replicates
        g0 = int(group[0])
        sampled = sampler.draws(g0, int(group[-1]) + 1)
        index = group - g0
        inputs = sampled.inputs.take(index)
        params = {k: v[index] for k, v in sampled.params.items()}
        uniforms = event_uniforms(seed, start, stop, (n_rounds, n_events))
        run = simulate(plan, inputs, params, uniforms, engine)
        settled = weighted_median(run.final_position, inputs.capability, inputs.salience)
        parts.append((run, settled))
        if progress:
            progress(stop - start)

    def cat(name: str) -> Any:
        return np.concatenate([getattr(run, name) for run, _ in parts])

    return CrisisResult(
        case=case, plan=plan, draws=draws, seed=seed,
        scenario=cat("scenario"), questions=cat("questions"), fired=cat("fired"),
        views=cat("views"),
        beliefs=cat("beliefs"), ended=cat("ended"),
        settlement=np.concatenate([s for _, s in parts]),
    )  # fmt: skip


def _num(x: float) -> float:
    return round(float(x), 6)


def _paths(result: CrisisResult, members: NDArray[np.bool_], top: int = 3) -> list[dict[str, Any]]:
    """The most common orders in which events first happened, among the given draws."""
    fired = result.fired[members]
    if fired.shape[0] == 0:
        return []
    n_rounds, n_events = fired.shape[1], fired.shape[2]
    ever = fired.any(axis=1)
    first = np.where(ever, fired.argmax(axis=1), n_rounds)  # (D, E)
    order = np.argsort(first * n_events + np.arange(n_events), axis=1)
    sequence = np.where(np.take_along_axis(first, order, axis=1) < n_rounds, order, -1)
    rows, counts = np.unique(sequence, axis=0, return_counts=True)
    ranked = np.argsort(-counts, kind="stable")[:top]
    ids = [event.id for event in result.plan.events]
    return [
        {
            "path": [ids[e] for e in rows[r] if e >= 0] or ["(nothing)"],
            "share": _num(counts[r] / fired.shape[0]),
        }
        for r in ranked
    ]


def _views(result: CrisisResult, members: NDArray[np.bool_]) -> list[dict[str, Any]]:
    """For each dyad: how often each side saw each kind of interaction (rounds while the crisis
    ran), and how often the two sides' views differed."""
    out: list[dict[str, Any]] = []
    views = result.views[members]
    if views.shape[0] == 0:
        return out
    n_rounds = views.shape[1]
    running = np.arange(n_rounds)[None, :] <= result.ended[members][:, None]
    actors = result.case.actor_ids
    for p, (a, b) in enumerate(result.plan.dyads):
        entry: dict[str, Any] = {"dyad": [actors[a], actors[b]]}
        for side, who in ((0, actors[a]), (1, actors[b])):
            v = views[:, :, p, side][running]
            entry[who] = {name: _num(np.mean(v == c)) for c, name in enumerate(VIEW_CLASSES)}
        entry["views_differ"] = _num(np.mean((views[:, :, p, 0] != views[:, :, p, 1])[running]))
        out.append(entry)
    return out


def summarize(result: CrisisResult) -> dict[str, Any]:
    plan, case = result.plan, result.case
    replicates = plan.replicates
    scenarios: dict[str, Any] = {}
    for s, rule in enumerate(plan.scenarios):
        members = result.scenario == s
        p, (lo, hi) = probability_interval(members, replicates)
        scenarios[rule.id] = {
            "p": _num(p), "interval": [_num(lo), _num(hi)], "words": icd203(p),
            "paths": _paths(result, members), "interactions": _views(result, members),
        }  # fmt: skip
    questions: dict[str, Any] = {}
    for q, (rule, index) in enumerate(plan.questions):
        spec = next(x for x in case.questions if x.id == rule.id)
        p, (lo, hi) = probability_interval(result.questions[:, q], replicates)
        questions[rule.id] = {
            "p": _num(p), "interval": [_num(lo), _num(hi)], "words": icd203(p),
            "text": spec.text, "resolves": plan.dates[index].isoformat(), "criteria": spec.criteria,
            "when": str(spec.when),
        }  # fmt: skip
    by_round = np.cumsum(result.fired, axis=1) > 0  # (D, T, E)
    events = {
        event.id: {
            "label": event.label,
            "by_round": [_num(v) for v in by_round[:, :, e].mean(axis=0)],
        }
        for e, event in enumerate(plan.events)
    }
    beliefs = {
        spec.id: {"mean_by_round": [_num(v) for v in result.beliefs[:, :, b].mean(axis=0)]}
        for b, spec in enumerate(plan.beliefs)
    }
    settlement: dict[str, Any] = {}
    for k, issue in enumerate(case.issues):
        values = result.settlement[:, k]
        settlement[issue.id] = {
            "label": issue.label, "median": _num(np.median(values)),
            "interval": [_num(np.quantile(values, 0.05)), _num(np.quantile(values, 0.95))],
            "mean": _num(values.mean()),
        }  # fmt: skip
    return {
        "scenarios": scenarios, "questions": questions, "settlement": settlement,
        "events": events, "beliefs": beliefs,
        "rounds": [d.isoformat() for d in plan.dates], "replicates": replicates,
    }  # fmt: skip
