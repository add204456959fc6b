"""The crisis's bargaining round computed once per distinct state (`simulate/rounds.py`) gives,
bit for bit, what computing every draw and issue afresh gives."""

import numpy as np
import pytest

import standoff.simulate.rounds as rounds
from standoff.compile import load
from standoff.pipeline.tasks import _crisis_engine
from standoff.simulate.rounds import BargainingRound, distinct_rows
from standoff.simulate.sample import Sampler


def test_distinct_rows_groups_equal_rows_byte_for_byte():
    table = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [0.0, -0.0], [0.0, 0.0], [3.0, 4.0]])
    first, inverse = distinct_rows(table)
    assert np.array_equal(table[first[inverse]], table)
    assert len(first) == 4  # -0.0 and 0.0 differ in their bytes: kept apart
    assert inverse[0] == inverse[2] and inverse[1] == inverse[5] and inverse[3] != inverse[4]
    empty_first, empty_inverse = distinct_rows(np.zeros((0, 3)))
    assert empty_first.size == 0 and empty_inverse.size == 0


def test_distinct_rows_survives_a_hash_collision(monkeypatch):
    # every row hashes alike: the check byte for byte must catch it and compare whole rows
    monkeypatch.setattr(rounds, "_multipliers", lambda width: np.zeros(width, dtype=np.uint64))
    rng = np.random.default_rng(3)
    table = rng.integers(0, 3, (200, 4)).astype(float)
    first, inverse = distinct_rows(table)
    assert np.array_equal(table[first[inverse]], table)
    assert len(first) == len(np.unique(table, axis=0))


def _flagship_block(draws: int = 300):
    compiled = load("us-dprk-2018")
    plan = compiled.crisis
    group = np.arange(draws) // plan.replicates
    sampled = Sampler(compiled.case, 11, plan).draws(0, int(group[-1]) + 1)
    inputs = sampled.inputs.take(group)
    params = {k: v[group] for k, v in sampled.params.items()}
    return plan, inputs, params, _crisis_engine(plan.engine)


def _full(bargaining, position, salience, capability, belief):
    """Every draw and issue computed afresh, as one engine call per issue over all draws."""
    d, n, k = position.shape
    every = np.arange(d)
    moved = np.empty((d, n, k))
    code = np.empty((d, k, n, n), dtype=np.int8)
    eu = np.empty((d, k, n, n), dtype=np.float32)
    for issue in range(k):
        inputs = bargaining.bargaining_inputs(every, issue, position, salience, capability, belief)
        trajectory = bargaining.engine.run(inputs, 1)
        moved[:, :, issue] = trajectory.positions[:, 1, :, 0]
        code[:, issue] = trajectory.dyadic.interaction[:, 0, 0]
        eu[:, issue] = trajectory.dyadic.eu_self[:, 0, 0]
    return moved, code, eu


def test_memoized_rounds_equal_computing_every_draw():
    plan, inputs, params, engine = _flagship_block()
    bargaining = BargainingRound(plan, inputs, params, engine)
    rng = np.random.default_rng(5)
    position, salience = inputs.position.copy(), inputs.salience.copy()
    capability = inputs.capability.copy()
    belief = np.stack([params[b.prior] for b in plan.beliefs], axis=1)
    d = position.shape[0]
    for t in range(6):
        bargaining.step(position, salience, capability, belief)
        moved, code, eu = _full(bargaining, position, salience, capability, belief)
        assert np.array_equal(bargaining.moved, moved)
        assert np.array_equal(bargaining.latest("code"), code)
        assert np.array_equal(bargaining.latest("eu_self"), eu)
        assert np.array_equal(bargaining.pair("eu_self", 0, 1), eu[:, :, 0, 1])
        # the history moves on: positions as bargained, and some draws' saliences, capabilities
        # and beliefs changed by events
        position = moved.copy()
        hit = rng.random(d) < 0.2
        salience[hit, 0, t % 3] = np.clip(salience[hit, 0, t % 3] * 0.7, 0, 1)
        capability[rng.random(d) < 0.1, 1] *= 1.1
        belief[rng.random(d) < 0.1, 0] *= 0.5


def test_replicates_share_their_first_round():
    plan, inputs, params, engine = _flagship_block(draws=300)
    bargaining = BargainingRound(plan, inputs, params, engine)
    belief = np.stack([params[b.prior] for b in plan.beliefs], axis=1)
    bargaining.step(inputs.position, inputs.salience, inputs.capability, belief)
    groups = -(-300 // plan.replicates)
    # the first round computes each issue once per draw of the inputs
    assert bargaining.computed == groups * inputs.position.shape[2]
    # the same state again next round: nothing is computed
    bargaining.step(inputs.position, inputs.salience, inputs.capability, belief)
    assert bargaining.computed == groups * inputs.position.shape[2]


@pytest.mark.parametrize("case", ["us-dprk-2018", "cuba-1962"])
def test_forecast_is_unchanged_by_how_many_states_are_shared(case, monkeypatch):
    """With no two draws ever sharing a computed state (every key made unique), the forecast is
    the same, byte for byte."""
    from standoff.pipeline.forecast import run
    from standoff.serialize import forecast_json

    compiled = load(case)
    shared = forecast_json(run(compiled, draws=400, seed=9, chunk_size=150))

    def unique_rows(table):  # every row its own state
        return np.arange(len(table)), np.arange(len(table))

    def no_repeat(self, position, salience, capability, belief):
        self.previous = [None] * position.shape[2]  # never reuse last round's results
        return original(self, position, salience, capability, belief)

    original = BargainingRound.step
    monkeypatch.setattr(rounds, "distinct_rows", unique_rows)
    monkeypatch.setattr(BargainingRound, "step", no_repeat)
    alone = forecast_json(run(compiled, draws=400, seed=9, chunk_size=150))
    assert shared == alone
