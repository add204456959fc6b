"""Play a compiled crisis out over its rounds, for a whole batch of draws at once.

Each round: (1) scheduled calendar effects; (2) every actor's perceived world (static perceptions,
then beliefs mixed in by their current probability); (3) one round of the bargaining engine (the
EUM), which gives each ordered pair's expected utilities and interaction as the challenger sees it,
and moves positions; (4) the case's events, in the order declared, each firing with the probability
its formula gives, their effects applied at once (so a later event can answer an earlier one in the
same round: tit for tat); (5) questions that resolve this round are evaluated. After the last
round the scenario rules are evaluated, the first that holds naming the draw's scenario.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..bargaining.base import BargainingInputs, Engine
from ..bargaining.interactions import Interaction
from ..compile.calibration import scale_odds
from ..compile.expr import Formula, FormulaEvalError
from ..compile.observed import ObservedPlan
from ..compile.plan import INTERACTION_CODES, NEVER, CompiledCrisis, EffectPlan
from ..errors import CaseError, Problem
from .rounds import BargainingRound

# The interaction classes shown in explanations, in this order.
VIEW_CLASSES = ("conflict", "compromise", "compel", "capitulation", "stalemate", "agreement")

# which interaction codes each kind of `sees` counts: row r of _HITS, indexed by code
_KIND_ROW = {kind: r for r, kind in enumerate(INTERACTION_CODES)}
_HITS = np.array(
    [[code in codes for code in range(len(Interaction))] for codes in INTERACTION_CODES.values()]
)
_VIEW_ROWS = np.array([_KIND_ROW[kind] for kind in VIEW_CLASSES])
# the view class of each interaction code (the classes share the codes out, one class a code)
_CLASS_OF = np.argmax(_HITS[_VIEW_ROWS], axis=0)
assert (_HITS[_VIEW_ROWS].sum(axis=0) == 1).all()
# numpy sums this many numbers or fewer one after another (more: pairwise, in another order)
_SEQUENTIAL_SUM = 7
TOLERANCE = 1e-9  # how far outside [0, 1] a probability may stray by rounding

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class CrisisRun:
    """What happened in each draw of a batch."""

    fired: BoolArray  # (D, T, E): event e happened in round t
    scenario: NDArray[np.int64]  # (D,): index of the scenario rule that held
    questions: BoolArray  # (D, Q): yes / no
    views: NDArray[np.int8]  # (D, T, P, 2): each side's dominant view of the dyad (VIEW_CLASSES)
    # (D, T, P, len(TRACE_TERMS)): each dyad's terms (TRACE_TERMS) as the round's bargaining left
    # them, before the round's events: the values a formula reads before an effect moves them
    bargaining: FloatArray
    beliefs: FloatArray  # (D, T + 1, B): each belief's probability after each round
    final_position: FloatArray  # (D, N, K)
    ended: NDArray[np.int64]  # (D,): the round in which the crisis ended, or T if it ran to the end
    # conditioned on observations (`observed`): each draw's weight, the probability of what was
    # observed in its history; and where its weight fell to 0, the observation that did it
    # (t * E + e), else -1. None without observations.
    weight: FloatArray | None = None
    killed: NDArray[np.int64] | None = None


# What is kept of each dyad (a, b) each round, in this order: gap(a, b), prevails(a, b),
# eu(a, b) and eu(b, a), as `_State.trace` gives them.
TRACE_TERMS = ("gap", "prevails", "eu", "eu_back")

# The functions whose values come from a model rather than from the case's hand-written rates:
# the bargaining model and the positions it moves, and a fitted crisis game's probability
# (`game`, whose compiled call carries its value as its last argument: standoff.compile.games).
# `standoff check` watches a formula's use of one of them for being constant or at rest, and
# `standoff ablate` freezes them at their means (see `Probe`).
MODEL_TERMS = ("sees", "eu", "threat", "prevails", "gap", "position", "game")


def term_key(name: str, args: tuple[Any, ...]) -> tuple[str, ...]:
    """A model-derived term as `Probe` keys it: the function's name and its id arguments (a
    game's value, its last argument, is not part of what names it)."""
    return (name, *(a for a in args if isinstance(a, str)))


def term_text(key: tuple[str, ...]) -> str:
    """A term's call as a formula writes it, e.g. `sees('trump', 'kim', 'conflict')`."""
    name, *args = key
    return f"{name}({', '.join(repr(a) for a in args)})"


class Probe:
    """Records every model-derived term that formulas evaluate, keyed by the call as written
    (function name and its id arguments, `term_key`): its range and its mean over all draws and
    rounds of a run. With `frozen` values, each term so keyed returns its frozen value instead (an
    ablation: the models' influence on the formulas switched off, their averages kept)."""

    def __init__(self, frozen: dict[tuple[str, ...], float] | None = None) -> None:
        self.frozen = frozen or {}
        self.ranges: dict[tuple[str, ...], tuple[float, float]] = {}
        self.sums: dict[tuple[str, ...], tuple[float, int]] = {}
        self.round = 0  # the round (0-based) whose formulas the terms are being evaluated for

    def mean(self, key: tuple[str, ...]) -> float:
        total, count = self.sums[key]
        return total / count if count else 0.0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any) -> Any:
            key = term_key(name, args)
            value = np.asarray(fn(*args), dtype=float)
            if key in self.frozen:
                value = np.full(value.shape, self.frozen[key])
            low, high = (float(value.min()), float(value.max())) if value.size else (0.0, 0.0)
            if key in self.ranges:
                old = self.ranges[key]
                low, high = min(low, old[0]), max(high, old[1])
            self.ranges[key] = (low, high)
            total, count = self.sums.get(key, (0.0, 0))
            self.sums[key] = (total + float(value.sum()), count + value.size)
            return value

        return recorded


class _State:
    def __init__(
        self,
        plan: CompiledCrisis,
        inputs: BargainingInputs,
        params: dict[str, FloatArray],
        probe: Probe | None = None,
    ):
        self.probe = probe
        self.plan = plan
        self.inputs = inputs
        self.params = params
        d = inputs.draws
        e, t = len(plan.events), plan.rounds
        self.position = inputs.position.copy()
        self.salience = inputs.salience.copy()
        self.capability = inputs.capability.copy()
        self.span = (inputs.high - inputs.low).astype(float)
        self.belief = (
            np.stack([params[b.prior] for b in plan.beliefs], axis=1)
            if plan.beliefs
            else np.zeros((d, 0))
        )
        self.counts = np.zeros((d, e), dtype=np.int64)
        self.last = np.full((d, e), -NEVER, dtype=np.int64)
        self.fired = np.zeros((d, t, e), dtype=bool)
        self.alive = np.ones(d, dtype=bool)
        self.ended = np.full(d, t, dtype=np.int64)
        self.rung = np.zeros(d, dtype=np.int64)
        self.round = 0
        self.event_index = {ev.id: i for i, ev in enumerate(plan.events)}
        # the salience weights the formulas read this round: taken when the round's bargaining
        # results are (absorb), and taken again only for the actors whose saliences an effect
        # has changed since
        self._weight: FloatArray = np.empty_like(self.salience)
        self._stale_weight = set(range(self.salience.shape[1]))

    def absorb(self, bargaining: BargainingRound) -> None:
        """Take this round's per-issue dyadic results. They are read only for the pairs that
        formulas and views ask about (see `share` and `dyad`)."""
        self._bargaining = bargaining
        for i in self._stale_weight:  # every actor at first, then those a salience effect moved
            salience = self.salience[:, i, :]  # (D, K)
            total = salience.sum(axis=1)
            self._weight[:, i, :] = np.where(
                total[:, None] > 0,
                salience / np.where(total > 0, total, 1)[:, None],
                1.0 / salience.shape[1],
            )  # each of i's issues weighted by its salience, as of this round
        self._stale_weight.clear()
        self._cache: dict[tuple[str, int, int, int], FloatArray] = {}
        self._pair_codes: dict[tuple[int, int], NDArray[np.int8]] = {}

    def share(self, kind: str, i: int, j: int, k: int = -1) -> FloatArray:
        """(D,) the salience-weighted share of i's issues on which i sees `kind` with j; with an
        issue k, 1 where i sees it on k and 0 where not."""
        key = (kind, i, j, k)
        if key not in self._cache:
            hits = _HITS[_KIND_ROW[kind]][self._codes(i, j)]  # (D, K)
            self._cache[key] = (
                (self._weight[:, i, :] * hits).sum(axis=1) if k < 0 else hits[:, k].astype(float)
            )
        return self._cache[key]

    def view_shares(self, i: int, j: int) -> FloatArray:
        """(D, len(VIEW_CLASSES)) `share(kind, i, j)` of every view class, computed together
        (the same numbers) and kept for the formulas that ask for one."""
        keys = [(kind, i, j, -1) for kind in VIEW_CLASSES]
        if all(key in self._cache for key in keys):
            return np.stack([self._cache[key] for key in keys], axis=1)
        codes, weight = self._codes(i, j), self._weight[:, i, :]  # (D, K) each
        d, k = codes.shape
        if k <= _SEQUENTIAL_SUM:
            # each issue's weight added to its class's share in issue order, from 0: numpy's
            # sum over so few issues adds them in that order, so the shares are share()'s
            bins = _CLASS_OF[codes] + (np.arange(d) * len(VIEW_CLASSES))[:, None]
            by_draw = (
                np.bincount(bins.ravel(), weights=weight.ravel(), minlength=d * len(VIEW_CLASSES))
                .astype(np.float64, copy=False)  # float already (weighted); typed so
                .reshape(d, len(VIEW_CLASSES))
            )
            shares: FloatArray = np.ascontiguousarray(by_draw.T)  # (C, D)
        else:  # as share() sums them (a 3-D sum may add in another order)
            shares = np.stack([(weight * _HITS[r][codes]).sum(axis=1) for r in _VIEW_ROWS])
        for key, values in zip(keys, shares, strict=True):
            self._cache.setdefault(key, values)
        return shares.T

    def _codes(self, i: int, j: int) -> NDArray[np.int8]:
        """(D, K) the Interaction codes i sees with j on each issue this round."""
        if (i, j) not in self._pair_codes:
            self._pair_codes[i, j] = self._bargaining.pair("code", i, j)
        return self._pair_codes[i, j]

    def dyad(self, quantity: str, i: int, j: int, k: int = -1) -> FloatArray:
        """(D,) a dyadic quantity of the bargaining model (eu, threat, prevails) for i against j,
        weighted over i's issues by i's salience, or on issue k."""
        key = (quantity, i, j, k)
        if key not in self._cache:
            # eu: E^i(U_ij); threat: E^i(U_ji), what i expects j to gain against i; prevails:
            # P^i(i:j), i's chance of prevailing as i sees it
            name = {"eu": "eu_self", "threat": "eu_other", "prevails": "p_win"}[quantity]
            values = self._bargaining.pair(name, i, j)  # (D, K)
            if quantity == "prevails":
                # where the two hold the same position there is nothing to contest, and
                # neither prevails: an even chance
                values = np.where(self._codes(i, j) == Interaction.NONE, np.float32(0.5), values)
            self._cache[key] = (
                (self._weight[:, i, :] * values).sum(axis=1)
                if k < 0
                else values[:, k].astype(float)
            )
        return self._cache[key]

    def gap(self, i: int, j: int, k: int = -1) -> FloatArray:
        """(D,) |x_i - x_j| as a share of the issue's scale; over all issues weighted by i's
        salience when no issue is named."""
        distance = np.abs(self.position[:, i, :] - self.position[:, j, :]) / self.span  # (D, K)
        if k >= 0:
            return np.asarray(distance[:, k])
        return np.asarray((self._weight[:, i, :] * distance).sum(axis=1))

    def trace(self, i: int, j: int) -> FloatArray:
        """(D, len(TRACE_TERMS)) the dyad's terms now, the values the formulas read: gap(i, j),
        prevails(i, j), eu(i, j) and eu(j, i)."""
        return np.stack(
            [
                self.gap(i, j),
                self.dyad("prevails", i, j),
                self.dyad("eu", i, j),
                self.dyad("eu", j, i),
            ],
            axis=1,
        )

    # -- formula context --------------------------------------------------------------------
    def functions(self, upto: int) -> dict[str, Callable[..., Any]]:
        """Context functions for formulas evaluated in round `upto` (history through it)."""
        ev = self.event_index
        actor = {a: n for n, a in enumerate(self.inputs.actors)}
        issue = {i: k for k, i in enumerate(self.inputs.issues)}
        beliefs = {b.id: n for n, b in enumerate(self.plan.beliefs)}
        date = self.plan.dates[upto]

        def since(e: str) -> Any:
            last = self.last[:, ev[e]]
            return np.where(last >= 0, upto - last, NEVER)

        functions: dict[str, Callable[..., Any]] = {
            "happened": lambda e: self.counts[:, ev[e]] > 0,
            "count": lambda e: self.counts[:, ev[e]],
            "since": since,
            "now": lambda e: self.fired[:, upto, ev[e]],
            "last": lambda e: (
                self.fired[:, upto - 1, ev[e]] if upto > 0 else np.zeros(len(self.alive), bool)
            ),
            "sees": lambda i, j, kind, k=None: self.share(
                kind, actor[i], actor[j], -1 if k is None else issue[k]
            ),
            "eu": lambda i, j, k=None: self.dyad("eu", actor[i], actor[j], _opt(issue, k)),
            "threat": lambda i, j, k=None: self.dyad("threat", actor[i], actor[j], _opt(issue, k)),
            "prevails": lambda i, j, k=None: self.dyad(
                "prevails", actor[i], actor[j], _opt(issue, k)
            ),
            "gap": lambda i, j, k=None: self.gap(actor[i], actor[j], _opt(issue, k)),
            "position": lambda i, k: self.position[:, actor[i], issue[k]],
            "salience": lambda i, k: self.salience[:, actor[i], issue[k]],
            "capability": lambda i: self.capability[:, actor[i]],
            "belief": lambda b: self.belief[:, beliefs[b]],
            "after": lambda day: date >= dt.date.fromisoformat(day),
            "before": lambda day: date < dt.date.fromisoformat(day),
            # a fitted game's probability, computed by the formula itself (its last argument)
            "game": lambda game, player1, player2, what, value: value,
        }
        if self.probe is not None:
            self.probe.round = upto
            for name in MODEL_TERMS:
                functions[name] = self.probe.wrap(name, functions[name])
        return functions

    def names(self, upto: int) -> dict[str, Any]:
        return {**self.params, "round": upto + 1, "rounds": self.plan.rounds, "rung": self.rung}

    def evaluate(
        self, formula: Formula, upto: int, where: BoolArray | None = None, subject: str = ""
    ) -> FloatArray:
        """The formula's value in each draw. An infinite or undefined value, in the formula's
        result or along the way, in a draw selected by `where` (all when None) is an error."""
        names = {
            **self.params,
            "round": float(upto + 1),
            "rounds": float(self.plan.rounds),
            "rung": self.rung,
        }
        try:
            value = formula.evaluate(names, self.functions(upto), where)
        except FormulaEvalError as err:
            bad = np.broadcast_to(np.asarray(err.bad, dtype=bool), self.alive.shape)
            raise self.error(formula, upto, f"{subject}{err}", bad, err.node) from None
        out = np.broadcast_to(np.asarray(value, dtype=float), self.alive.shape)
        bad = ~np.isfinite(out)
        if where is not None:
            bad &= where
        if bad.any():
            raise self.error(formula, upto, f"{subject}the value is infinite or undefined", bad)
        return out

    def error(
        self, formula: Formula, upto: int, what: str, bad: BoolArray, node: Any = None
    ) -> CaseError:
        """A run-time fault of a formula, at the line it was written, with the round, the share of
        draws it hit and one such draw's parameter values."""
        file, line, name = formula.origin or ("<formula>", 1, "formula")
        line = formula.line_of(node)
        first = int(np.flatnonzero(bad)[0])
        used = sorted(formula.names & set(self.params))
        values = ", ".join(f"{k}={float(self.params[k][first]):.6g}" for k in used)
        message = (
            f"{what} in round {upto + 1} (ending {self.plan.dates[upto]}) in "
            f"{bad.mean():.1%} of draws ({int(bad.sum())} of {bad.size}); e.g. draw {first}"
            + (f" with {values}" if values else "")
            + f"; formula: {formula.text}"
        )
        return CaseError([Problem(file, line, name, message)])

    # -- effects ------------------------------------------------------------------------------
    def apply(self, effect: EffectPlan, where: BoolArray) -> None:
        if not where.any():
            return
        amount = {name: self.params[label] for name, label in effect.amounts.items()}
        i, k = effect.actor, effect.issue
        if effect.kind == "shift":
            x = self.position[:, i, k]
            if "by" in amount:
                new = x + amount["by"]
            elif "to" in amount:
                new = amount["to"]
            else:
                new = x + amount["fraction"] * (self.position[:, effect.toward, k] - x)
            self.position[:, i, k] = np.where(
                where, np.clip(new, self.inputs.low[k], self.inputs.high[k]), x
            )
        elif effect.kind == "salience":
            s = self.salience[:, i, k]
            new = (
                s + amount["add"]
                if "add" in amount
                else s * amount["scale"]
                if "scale" in amount
                else amount["set"]
            )
            self.salience[:, i, k] = np.where(where, np.clip(new, 0, 1), s)
            self._stale_weight.add(i)
        elif effect.kind == "capability":
            c = self.capability[:, i]
            new = (
                c + amount["add"]
                if "add" in amount
                else c * amount["scale"]
                if "scale" in amount
                else amount["set"]
            )
            self.capability[:, i] = np.where(where, np.maximum(new, 0), c)
        elif effect.kind == "belief":
            p = np.clip(self.belief[:, effect.belief], 1e-9, 1 - 1e-9)
            odds = p / (1 - p) * amount["ratio"]
            self.belief[:, effect.belief] = np.where(
                where, odds / (1 + odds), self.belief[:, effect.belief]
            )
        elif effect.kind == "end":
            self.ended = np.where(where & self.alive, self.round, self.ended)
            self.alive = self.alive & ~where


def _opt(index: dict[str, int], ident: str | None) -> int:
    return -1 if ident is None else index[ident]


def dominant_view(state: _State, i: int, j: int) -> NDArray[np.int8]:
    """(D,) index into VIEW_CLASSES of the interaction i sees with j on most of its stakes."""
    return np.argmax(state.view_shares(i, j), axis=1).astype(np.int8)


def simulate(
    plan: CompiledCrisis,
    inputs: BargainingInputs,
    params: dict[str, FloatArray],
    uniforms: FloatArray,
    engine: Engine,
    probe: Probe | None = None,
    observed: ObservedPlan | None = None,
) -> CrisisRun:
    """Run the crisis for a batch of draws. `uniforms` (D, T, E) decide which events happen.
    A `probe` records the range of every model-derived term the formulas use.

    With `observed`, each observed event in each observed round happens exactly as observed (its
    uniform is not used), and each draw's weight is multiplied by the probability, under that
    draw's history so far, of what was observed: p where it happened, 1 - p where it did not (an
    event that could not happen, the crisis having ended or a `once` event having happened, has
    p = 0). The weighted histories are then exact draws from the histories conditioned on the
    observations (sequential importance sampling with the prior as proposal for everything not
    observed)."""
    state = _State(plan, inputs, params, probe)
    bargaining = BargainingRound(plan, inputs, params, engine)
    d = inputs.draws
    n_rounds, n_events = plan.rounds, len(plan.events)
    views = np.zeros((d, n_rounds, len(plan.dyads), 2), dtype=np.int8)
    traced = np.zeros((d, n_rounds, len(plan.dyads), len(TRACE_TERMS)))
    beliefs = np.zeros((d, n_rounds + 1, len(plan.beliefs)))
    beliefs[:, 0] = state.belief
    questions = np.zeros((d, len(plan.questions)), dtype=bool)
    weight = np.ones(d) if observed is not None else None
    killed = np.full(d, -1, dtype=np.int64) if observed is not None else None
    columns = {e: c for c, e in enumerate(observed.events)} if observed is not None else {}
    calendar: dict[int, list[EffectPlan]] = {}
    for index, effects in plan.calendar:
        calendar.setdefault(index, []).extend(effects)

    for t in range(n_rounds):
        state.round = t
        for effect in calendar.get(t, []):
            state.apply(effect, state.alive)
        bargaining.step(state.position, state.salience, state.capability, state.belief)
        state.absorb(bargaining)
        share = plan.shares[t] if plan.shares else 1.0
        moved = (
            bargaining.moved
            if share == 1.0
            else state.position + share * (bargaining.moved - state.position)
        )
        if plan.inertia > 0.0:  # audience costs: a move too small to pay for is not taken
            worth = np.abs(moved - state.position) > plan.inertia * state.salience * state.span
            moved = np.where(worth, moved, state.position)
        state.position = np.where(state.alive[:, None, None], moved, state.position)
        for p, (a, b) in enumerate(plan.dyads):
            views[:, t, p, 0] = dominant_view(state, a, b)
            views[:, t, p, 1] = dominant_view(state, b, a)
            traced[:, t, p] = state.trace(a, b)
        for e, event in enumerate(plan.events):
            probability = state.evaluate(event.probability, t, state.alive, f"event {event.id!r}: ")
            outside = state.alive & ((probability < -TOLERANCE) | (probability > 1 + TOLERANCE))
            if outside.any():
                example = probability[int(np.flatnonzero(outside)[0])]
                raise state.error(
                    event.probability,
                    t,
                    f"the probability of event {event.id!r} is {example:.6g}, outside 0 to 1,",
                    outside,
                )
            probability = np.clip(probability, 0.0, 1.0)  # within TOLERANCE of the bounds
            probability = scale_odds(probability, plan.odds_factor)
            fire = state.alive & (uniforms[:, t, e] < probability)
            if event.once:
                fire &= state.counts[:, e] == 0
            if observed is not None and t < observed.rounds and e in columns:
                assert weight is not None and killed is not None
                possible = state.alive & (state.counts[:, e] == 0 if event.once else True)
                chance = np.where(possible, probability, 0.0)
                seen = bool(observed.fired[t, columns[e]])
                before = weight > 0
                weight *= chance if seen else 1.0 - chance
                killed[before & (weight <= 0)] = t * n_events + e
                fire = possible if seen else np.zeros(d, dtype=bool)
            state.fired[:, t, e] = fire
            state.counts[:, e] += fire
            state.last[:, e] = np.where(fire, t, state.last[:, e])
            if event.rung:
                state.rung = np.where(fire, event.rung, state.rung)
            for effect in event.effects:
                state.apply(effect, fire)
        beliefs[:, t + 1] = state.belief
        for q, (rule, index) in enumerate(plan.questions):
            if index == t:
                assert rule.formula is not None
                questions[:, q] = (
                    np.asarray(state.evaluate(rule.formula, t, None, f"question {rule.id!r}: "))
                    != 0
                )

    scenario = np.full(d, -1, dtype=np.int64)
    for s, rule in enumerate(plan.scenarios):
        holds = (
            np.ones(d, bool)
            if rule.formula is None
            else state.evaluate(rule.formula, n_rounds - 1, None, f"scenario {rule.id!r}: ") != 0
        )
        scenario = np.where((scenario < 0) & holds, s, scenario)
    assert n_events == state.fired.shape[2]
    return CrisisRun(
        fired=state.fired,
        scenario=scenario,
        questions=questions,
        views=views,
        bargaining=traced,
        beliefs=beliefs,
        final_position=state.position,
        ended=state.ended,
        weight=weight,
        killed=killed,
    )
