"""Predictions on DEU III issues: the bargaining engines, and the models that are not engines.

Each issue becomes one draw of a `BargainingInputs` with only the actors that took a position
(K = 1 issue, scale 0-100, saliences divided by 100, the reference point as the status quo).
Issues with the same number of actors are stacked on the draw axis and run as one batch; the
engines are invariant to actor order and treat draws independently, so this is exact (no padding
with phantom actors, which would change the EUM's risk attitudes and the SMP's votes).

Two engines need more than one issue's actors:

- `procedural` reads the institutions: the Council's voting rule (a quota of the present member
  states' votes: 62/87 before Nice, 255/345 under Nice, 65% under Lisbon; all of them under
  unanimity), the Commission as agenda setter, the Parliament as a veto player under co-decision
  (`institution_options`). Its issues are batched by actors and institutions.
- `exchange` trades across the issues of one proposal: each proposal becomes one draw with every
  actor that took a position on any of its issues (an actor without a position on an issue sits
  there with salience 0, so it carries no weight and trades nothing there), and the settlements
  go back to the issues (`SettleProposals`).

Models that are not engines:

- `median`: the capability x salience weighted median of the positions (the "median actor";
  Black 1958; in DEU terms Thomson et al. 2006, ch. 10).
- `status-quo`: the reference point; where it is blank, the compromise prediction.
- `blend`: a convex combination of the compromise prediction, the weighted median, the reference
  point and the Commission's position, with weights per Council voting rule fitted by least
  absolute deviations on a simplex grid, on the training file only (see `fit_blend`).
- `best`: the single model, switch by voting rule or stack of every engine's prediction that
  cross-validation on the training issues chooses (`best.py`).

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
from .capabilities import capability, treaty
from .deu3 import ACTORS, Dataset, Issue

FloatArray = NDArray[np.float64]
ISSUES_PER_BLOCK = 64  # issues a block holds when the issues run on an executor
EXTRA_MODELS = ("median", "status-quo", "blend", "best")
MISSING_SALIENCE = ("mean", "fifty", "zero")
REFERENCE = ("ignore", "actor")
COM = ACTORS.index("com")
REFERENCE_ACTOR = "rp"  # the name of the reference point when it joins as an actor
#: Share of the present member states' votes a qualified majority needs, by treaty: 62 of 87
#: votes before Nice, 255 of 345 under Nice, 65% under Lisbon (its population criterion, taken on
#: the states' weights; the 55% of states is not modelled). Unanimity needs them all.
QMV_QUOTA: dict[str, float] = {"pre-nice": 62 / 87, "nice": 255 / 345, "lisbon": 0.65}
PROPOSAL_ENGINES = ("exchange",)  # engines run on all the issues of a proposal at once


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
    """One issue's actors (present only): capability, position (0-100), salience (0-1); the
    reference point (NaN where blank), the actors' names, the proposal, the Council's voting rule
    (`QMV` or `Unan`), the procedure (`COD` or `CNS`) and the quota a qualified majority needs.
    Inputs made without actor names (not by `issue_inputs`) take the i-th actor of every issue of
    a proposal to be the same actor; without a proposal an issue negotiates alone."""

    capability: FloatArray
    position: FloatArray
    salience: FloatArray
    reference: float = math.nan
    actors: tuple[str, ...] = ()
    proposal: str = ""
    voting: str = "QMV"
    procedure: str = "COD"
    quota: float = QMV_QUOTA["nice"]


def issue_inputs(issue: Issue, gdp: FloatArray, setup: Setup) -> IssueInputs:
    present = issue.present
    cap = capability(issue, setup.capabilities, gdp, setup.institutions, setup.lisbon)[present]
    pos = issue.position[present]
    sal = issue.salience[present]
    names = tuple(a for a, here in zip(ACTORS, present, strict=True) if here)
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
        names = (*names, REFERENCE_ACTOR)
    quota = 1.0 if issue.voting == "Unan" else QMV_QUOTA[treaty(issue)]
    return IssueInputs(
        cap, pos, sal, issue.reference, names, issue.proposal, issue.voting,
        issue.procedure.upper(), quota,
    )  # fmt: skip


def institution_options(name: str, issue: IssueInputs) -> dict[str, Any]:
    """The options engine `name` takes from an issue's institutions: for `procedural`, the
    Council's quota, the Commission as the setter, the Parliament as a veto player under
    co-decision, and neither (nor the reference point as an actor) voting in the Council."""
    if name != "procedural":
        return {}
    return {
        "quota": issue.quota,
        "setter": "com",
        "veto": ("ep",) if issue.procedure == "COD" else (),
        "non_voters": ("com", "ep", REFERENCE_ACTOR),
    }


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
    return replace(inputs, capability=cap, position=pos, salience=sal)


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
    count (and, for `procedural`, actors and institutions). Non-engine models `median` and
    `compromise` go through the same path; `exchange` runs each proposal's issues together
    (`SettleProposals`, in this process). With an `executor`, blocks of ISSUES_PER_BLOCK issues
    run on it (the same numbers: each issue's draws are seeded by its index, and the engines treat
    draws independently)."""
    if name in PROPOSAL_ENGINES:
        proposals = SettleProposals(name, tuple(per_issue), draws, seed, setup or Setup(),
                                    dict(options or {}))  # fmt: skip
        return proposals()
    task = SettleIssues(name, tuple(per_issue), draws, seed, setup or Setup(), dict(options or {}))
    if executor is None or not per_issue:
        return task(Block(0, len(per_issue)))
    parts = run_blocks(task, len(per_issue), ISSUES_PER_BLOCK, executor, stage="backtest")
    return np.concatenate(parts)


@dataclass(frozen=True)
class Settlements:
    """What a settling task holds: the engine's name and options, each issue's inputs, the draws
    per issue, the seed and the noise set-up."""

    name: str
    per_issue: tuple[IssueInputs, ...]
    draws: int
    seed: int
    setup: Setup
    options: dict[str, Any]


@dataclass(frozen=True)
class SettleIssues(Settlements):
    """The task of `run_engine`: the settlements of issues [start, stop), (issues, draws). Issue
    k's draws come from the k-th child of `SeedSequence(seed)`, whichever block holds it."""

    def __call__(self, block: Block) -> FloatArray:
        name, draws = self.name, self.draws
        seeds = np.random.SeedSequence(self.seed).spawn(block.stop)[block.start :]
        issues = self.per_issue[block.start : block.stop]
        sampled = [_samples(x, draws, self.setup, s) for x, s in zip(issues, seeds, strict=True)]
        out = np.full((len(issues), draws), np.nan)
        groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for k, x in enumerate(issues):
            extra = institution_options(name, x)
            key = (*sorted(extra.items()), x.actors) if extra else ()
            groups[(x.position.size, key)].append(k)
        for (_n, key), members in sorted(groups.items(), key=lambda g: repr(g[0])):
            if _n == 0:  # no actor took a position: no model can say anything; left nan, unscored
                continue
            cap = np.concatenate([sampled[k].capability for k in members])
            pos = np.concatenate([sampled[k].position for k in members])[:, :, None]
            sal = np.concatenate([sampled[k].salience for k in members])[:, :, None]
            if name == "median":
                settled = weighted_median(pos, cap, sal)
            elif name == "compromise":
                settled = weighted_mean(pos, cap, sal)
            else:
                first = issues[members[0]]
                options = {**institution_options(name, first), **self.options}
                engine = make_engine(name, **options).positions_only()
                ref = np.repeat([issues[k].reference for k in members], draws)[:, None]
                inputs = BargainingInputs(
                    capability=cap, position=pos, salience=sal,
                    low=np.zeros(1), high=np.full(1, 100.0), reference=ref,
                    actors=first.actors if key else (),
                )  # fmt: skip
                settled = engine.settlement(inputs, engine.run(inputs))
            out[members] = settled[:, 0].reshape(len(members), draws)
        return out


@dataclass(frozen=True)
class SettleProposals(Settlements):
    """The settlements (issues, draws) of an engine that bargains over every issue of a proposal
    at once (`exchange`). Each proposal is one draw over the actors that took a position on any of
    its issues; an actor absent from an issue sits at that issue's weighted mean with salience 0
    (no weight, nothing to trade). Each issue's draws are those `SettleIssues` gives it (the k-th
    child of `SeedSequence(seed)`), so the input noise is the same for every model. An actor's
    capability is the largest it has on the proposal's issues, its salience on each issue scaled
    so that capability x salience is that issue's exactly."""

    def __call__(self) -> FloatArray:
        draws = self.draws
        seeds = np.random.SeedSequence(self.seed).spawn(len(self.per_issue))
        sampled = [
            _samples(x, draws, self.setup, s) for x, s in zip(self.per_issue, seeds, strict=True)
        ]
        proposals: dict[str, list[int]] = defaultdict(list)
        for k, x in enumerate(self.per_issue):
            if x.position.size:  # an issue no actor took a position on stays unpredicted
                # an issue without a proposal negotiates alone
                proposals[x.proposal or f"(issue {k})"].append(k)
        built = {p: self._proposal([sampled[k] for k in ks]) for p, ks in proposals.items()}
        shapes: dict[tuple[int, int], list[str]] = defaultdict(list)
        for p, (_cap, pos, _sal) in built.items():
            shapes[pos.shape[1:]].append(p)
        out = np.full((len(self.per_issue), draws), np.nan)
        engine = make_engine(self.name, **self.options).positions_only()
        for (_n, k), members in sorted(shapes.items()):
            cap = np.concatenate([built[p][0] for p in members])
            pos = np.concatenate([built[p][1] for p in members])
            sal = np.concatenate([built[p][2] for p in members])
            inputs = BargainingInputs(capability=cap, position=pos, salience=sal,
                                      low=np.zeros(k), high=np.full(k, 100.0))  # fmt: skip
            settled = engine.settlement(inputs, engine.run(inputs)).reshape(len(members), draws, k)
            for m, p in enumerate(members):
                for column, issue in enumerate(proposals[p]):
                    out[issue] = settled[m, :, column]
        return out

    def _proposal(self, issues: list[IssueInputs]) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(D, N), (D, N, K), (D, N, K): one proposal's issues over the union of their actors."""
        issues = [x if x.actors else replace(x, actors=_unnamed(x)) for x in issues]
        order = [*ACTORS, REFERENCE_ACTOR, *(a for x in issues for a in x.actors)]
        names = list(dict.fromkeys(a for a in order if any(a in x.actors for x in issues)))
        d, n, k = self.draws, len(names), len(issues)
        weight = np.zeros((d, n, k))
        pos = np.zeros((d, n, k))
        for column, x in enumerate(issues):
            w = x.capability * x.salience  # (D, present)
            total = w.sum(axis=1, keepdims=True)
            mean = np.where(total > 0, (w * x.position).sum(axis=1, keepdims=True) / np.where(
                total > 0, total, 1.0), x.position.mean(axis=1, keepdims=True))  # fmt: skip
            pos[:, :, column] = mean
            rows = [names.index(a) for a in x.actors]
            pos[:, rows, column] = x.position
            weight[:, rows, column] = w
        cap = np.zeros((d, n))
        for x in issues:
            rows = [names.index(a) for a in x.actors]
            cap[:, rows] = np.maximum(cap[:, rows], x.capability)
        sal = np.where(cap[:, :, None] > 0, weight / np.where(cap > 0, cap, 1.0)[:, :, None], 0.0)
        return cap, pos, np.clip(sal, 0.0, 1.0)


def _unnamed(x: IssueInputs) -> tuple[str, ...]:
    """Names for actors given without them: the i-th actor of every issue is the same actor."""
    return tuple(f"#{i}" for i in range(x.position.shape[-1]))


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
