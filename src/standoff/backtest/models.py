"""Predictions on DEU III issues: the bargaining engines, and the models that are not engines.

Each issue becomes one draw of a `BargainingInputs` with only the actors that took a position
(K = 1 issue, scale 0-100, saliences divided by 100). Issues with the same number of actors are
stacked on the draw axis and run as one batch; the engines are invariant to actor order and treat
draws independently, so this is exact (no padding with phantom actors, which would change the
EUM's risk attitudes and the SMP's votes).

Models that are not engines:

- `median`: the capability x salience weighted median of the positions (the "median actor";
  Black 1958; in DEU terms Thomson et al. 2006, ch. 10).
- `status-quo`: the reference point; where it is blank, the compromise prediction.
- `blend`: a convex combination of the compromise prediction, the weighted median, the reference
  point and the Commission's position, with weights per Council voting rule fitted by least
  absolute deviations on a simplex grid, on the training file only (see `fit_blend`).

Options (`Setup`) and what they change are documented in docs/backtests.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..bargaining import BargainingInputs, make_engine, weighted_mean, weighted_median
from ..run.executor import Block, Executor, run_blocks
from .capabilities import capability
from .deu3 import ACTORS, Dataset, Issue

FloatArray = NDArray[np.float64]
ISSUES_PER_BLOCK = 64  # issues a block holds when the issues run on an executor
EXTRA_MODELS = ("median", "status-quo", "blend")
MISSING_SALIENCE = ("mean", "fifty", "zero")
REFERENCE = ("ignore", "actor")
COM = ACTORS.index("com")


@dataclass(frozen=True)
class Setup:
    """How DEU III inputs become bargaining inputs.

    capabilities: `equal`, `gdp` or `council-votes`. institutions: how the Commission and the
    Parliament count (capabilities.capability). lisbon: `banzhaf` or `population` weights after
    1 November 2014. missing_salience: where a position is given and its salience is blank, the
    issue's mean salience over actors with both (`mean`), 50 (`fifty`), or 0 (`zero`: the actor
    then has no weight). reference: `ignore` the reference point, or add it as an `actor` with
    `reference_weight` times the present actors' total capability and salience 1 (issues without
    one get none). position_sd, salience_sd: the spread of the normal noise added per draw when
    draws > 1 (points on 0-100; clipped to the scale).
    """

    capabilities: str = "council-votes"
    institutions: str = "largest"
    lisbon: str = "banzhaf"
    missing_salience: str = "mean"
    reference: str = "ignore"
    reference_weight: float = 0.1
    position_sd: float = 10.0
    salience_sd: float = 10.0

    def __post_init__(self) -> None:
        if self.missing_salience not in MISSING_SALIENCE:
            raise ValueError(f"missing_salience must be one of {', '.join(MISSING_SALIENCE)}")
        if self.reference not in REFERENCE:
            raise ValueError(f"reference must be one of {', '.join(REFERENCE)}")


@dataclass(frozen=True)
class IssueInputs:
    """One issue's actors (present only): capability, position (0-100), salience (0-1)."""

    capability: FloatArray
    position: FloatArray
    salience: FloatArray


def issue_inputs(issue: Issue, gdp: FloatArray, setup: Setup) -> IssueInputs:
    present = issue.present
    cap = capability(issue, setup.capabilities, gdp, setup.institutions, setup.lisbon)[present]
    pos = issue.position[present]
    sal = issue.salience[present]
    if np.isnan(sal).any():
        known = sal[~np.isnan(sal)]
        fill = {
            "mean": float(known.mean()) if known.size else 50.0,
            "fifty": 50.0,
            "zero": 0.0,
        }[setup.missing_salience]
        sal = np.where(np.isnan(sal), fill, sal)
    sal = sal / 100.0
    if setup.reference == "actor" and not math.isnan(issue.reference):
        cap = np.append(cap, setup.reference_weight * cap.sum())
        pos = np.append(pos, issue.reference)
        sal = np.append(sal, 1.0)
    return IssueInputs(cap, pos, sal)


def _samples(inputs: IssueInputs, draws: int, setup: Setup, seed: Any) -> IssueInputs:
    """(draws, N) perturbed copies; draw 0 is always the central values."""
    n = inputs.position.size
    pos = np.broadcast_to(inputs.position, (draws, n)).copy()
    sal = np.broadcast_to(inputs.salience, (draws, n)).copy()
    if draws > 1:
        rng = np.random.default_rng(seed)
        pos[1:] = np.clip(pos[1:] + rng.normal(0, setup.position_sd, (draws - 1, n)), 0, 100)
        noise = rng.normal(0, setup.salience_sd / 100.0, (draws - 1, n))
        sal[1:] = np.clip(sal[1:] + noise, 0, 1)
    cap = np.broadcast_to(inputs.capability, (draws, n)).copy()
    return IssueInputs(cap, pos, sal)


def run_engine(
    name: str,
    per_issue: list[IssueInputs],
    draws: int = 1,
    seed: int = 0,
    setup: Setup | None = None,
    options: dict[str, Any] | None = None,
    executor: Executor | None = None,
) -> FloatArray:
    """(issues, draws) settlements of engine `name`, issues stacked on the draw axis by actor
    count. Non-engine models `median` and `compromise` go through the same path. With an
    `executor`, blocks of ISSUES_PER_BLOCK issues run on it (the same numbers: each issue's
    draws are seeded by its index, and the engines treat draws independently)."""
    task = SettleIssues(name, tuple(per_issue), draws, seed, setup or Setup(), dict(options or {}))
    if executor is None or not per_issue:
        return task(Block(0, len(per_issue)))
    parts = run_blocks(task, len(per_issue), ISSUES_PER_BLOCK, executor, stage="backtest")
    return np.concatenate(parts)


@dataclass(frozen=True)
class SettleIssues:
    """The task of `run_engine`: the settlements of issues [start, stop), (issues, draws). Issue
    k's draws come from the k-th child of `SeedSequence(seed)`, whichever block holds it."""

    name: str
    per_issue: tuple[IssueInputs, ...]
    draws: int
    seed: int
    setup: Setup
    options: dict[str, Any]

    def __call__(self, block: Block) -> FloatArray:
        name, draws = self.name, self.draws
        seeds = np.random.SeedSequence(self.seed).spawn(block.stop)[block.start :]
        issues = self.per_issue[block.start : block.stop]
        sampled = [_samples(x, draws, self.setup, s) for x, s in zip(issues, seeds, strict=True)]
        out = np.full((len(issues), draws), np.nan)
        groups: dict[int, list[int]] = defaultdict(list)
        for k, x in enumerate(sampled):
            groups[x.position.shape[1]].append(k)
        engine = None if name == "median" else make_engine(name, **self.options).positions_only()
        for _n, members in sorted(groups.items()):
            if _n == 0:  # no actor took a position: no model can say anything; left nan, unscored
                continue
            cap = np.concatenate([sampled[k].capability for k in members])
            pos = np.concatenate([sampled[k].position for k in members])[:, :, None]
            sal = np.concatenate([sampled[k].salience for k in members])[:, :, None]
            if engine is None:
                settled = weighted_median(pos, cap, sal)
            elif name == "compromise":
                settled = weighted_mean(pos, cap, sal)
            else:
                inputs = BargainingInputs(
                    capability=cap, position=pos, salience=sal,
                    low=np.zeros(1), high=np.full(1, 100.0),
                )  # fmt: skip
                settled = engine.settlement(inputs, engine.run(inputs))
            out[members] = settled[:, 0].reshape(len(members), draws)
        return out


def features(data: Dataset, setup: Setup) -> dict[str, FloatArray]:
    """Per-issue features of the blend: compromise, weighted median, reference point (the
    compromise where blank) and the Commission's position (the compromise where blank)."""
    base = replace(setup, reference="ignore")
    per_issue = [issue_inputs(i, data.gdp, base) for i in data.issues]
    compromise = run_engine("compromise", per_issue, setup=base)[:, 0]
    median = run_engine("median", per_issue, setup=base)[:, 0]
    reference = np.array([i.reference for i in data.issues])
    commission = np.array([i.position[COM] for i in data.issues])
    return {
        "compromise": compromise,
        "median": median,
        "reference": np.where(np.isnan(reference), compromise, reference),
        "commission": np.where(np.isnan(commission), compromise, commission),
    }


BLEND_FEATURES = ("compromise", "median", "reference", "commission")


def _simplex(step: float, k: int) -> FloatArray:
    n = round(1 / step)
    rows = [c for c in product(range(n + 1), repeat=k - 1) if sum(c) <= n]
    grid = np.array([[*c, n - sum(c)] for c in rows], float) / n
    return grid


def fit_blend(
    feats: dict[str, FloatArray], outcome: FloatArray, voting: list[str], step: float = 0.05
) -> dict[str, FloatArray]:
    """Weights on BLEND_FEATURES per voting rule minimizing the mean absolute error (a grid over
    the simplex with `step`); a rule with no training issues gets the pooled fit."""
    x = np.stack([feats[f] for f in BLEND_FEATURES], axis=1)  # (issues, F)
    grid = _simplex(step, x.shape[1])  # (G, F)
    # an issue no actor took a position on has nan features (no model predicts it): not fitted on
    ok = ~np.isnan(outcome) & np.isfinite(x).all(axis=1)
    rules = np.asarray(voting)

    def best(mask: NDArray[np.bool_]) -> FloatArray:
        pred = x[mask] @ grid.T  # (n, G)
        mae = np.abs(pred - outcome[mask][:, None]).mean(axis=0)
        return grid[int(np.argmin(mae))]

    if not ok.any():
        raise ValueError("no training issues with outcomes to fit the blend on")
    pooled = best(ok)
    fitted = {}
    for rule in sorted(set(voting)):
        mask = ok & (rules == rule)
        fitted[rule] = best(mask) if mask.sum() >= 5 else pooled
    fitted["*"] = pooled
    return fitted


def apply_blend(
    feats: dict[str, FloatArray], weights: dict[str, FloatArray], voting: list[str]
) -> FloatArray:
    x = np.stack([feats[f] for f in BLEND_FEATURES], axis=1)
    w = np.stack([weights.get(rule, weights["*"]) for rule in voting])
    return (x * w).sum(axis=1)


def group_folds(groups: list[str], k: int, seed: int = 0) -> NDArray[np.intp]:
    """Fold of each issue: proposals are dealt to k folds at random (issues of a proposal stay
    together)."""
    names = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = {names[j]: i % k for i, j in enumerate(order)}
    return np.array([fold_of[g] for g in groups], dtype=np.intp)


def cross_validated_blend(
    feats: dict[str, FloatArray],
    outcome: FloatArray,
    voting: list[str],
    groups: list[str],
    k: int = 5,
    seed: int = 0,
    fold: NDArray[np.intp] | None = None,
) -> FloatArray:
    """Out-of-fold blend predictions: each fold predicted by weights fitted on the others. The
    folds are `group_folds(groups, k, seed)` unless given (`fold`, one label per issue)."""
    fold = group_folds(groups, k, seed) if fold is None else np.asarray(fold)
    pred = np.full(outcome.shape, np.nan)
    for f in np.unique(fold):
        train = fold != f
        sub = {name: v[train] for name, v in feats.items()}
        w = fit_blend(sub, outcome[train], [v for v, t in zip(voting, train, strict=True) if t])
        test = ~train
        pred[test] = apply_blend(
            {n: v[test] for n, v in feats.items()},
            w,
            [v for v, t in zip(voting, test, strict=True) if t],
        )
    return pred
