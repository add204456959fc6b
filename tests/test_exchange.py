"""The `exchange` engine: Stokman and Van Oosten's exchange of voting positions."""

import numpy as np
import pytest

from standoff.bargaining import Compromise, Exchange
from standoff.bargaining.base import BargainingInputs, weighted_mean
from standoff.bargaining.exchange import pairs

from .engine_contract import EngineContract, random_inputs


class TestExchangeContract(EngineContract):
    engine = Exchange


class TestExchangeRoundsContract(EngineContract):
    engine = staticmethod(lambda: Exchange(max_rounds=20))
    rounds = None


def two_by_two():
    """A cares about issue 1 (0.9 against 0.1), B about issue 2 (0.8 against 0.2); A sits at 0 on
    both, B at 100 on both, equal capabilities."""
    return BargainingInputs(
        capability=np.array([[1.0, 1.0]]),
        position=np.array([[[0.0, 0.0], [100.0, 100.0]]]),
        salience=np.array([[[0.9, 0.1], [0.2, 0.8]]]),
        low=np.zeros(2),
        high=np.full(2, 100.0),
    )


def test_one_exchange_by_hand():
    """Expected outcomes 20/1.1 = 18.18 and 80/0.9 = 88.89: A below, B above on both issues, and
    0.9 * 0.8 > 0.1 * 0.2, so B moves on issue 1 and A on issue 2. Rate b/a = 1.1/0.9. B could move
    O_1 by 0.2 * 100 / 1.1 = 18.18, A could move O_2 by 0.1 * 100 / (0.9 * 1.1/0.9) = 9.09: A moves
    all the way (to 100 on issue 2) and B half way (a * 1.1 / 0.2 = 50 points, to 50 on issue 1).
    Each gains a (0.72 - 0.02) / 0.9 = 7.07."""
    inputs = two_by_two()
    engine = Exchange()
    traj = engine.run(inputs)
    np.testing.assert_allclose(traj.final[0], [[0, 100], [50, 100]], atol=1e-9)
    assert traj.rounds_run.tolist() == [1]
    assert traj.diagnostics["gain"][0, 0] == pytest.approx(100 / 11 * 0.7 / 0.9)
    np.testing.assert_allclose(engine.settlement(inputs, traj)[0], [10 / 1.1, 100], atol=1e-9)
    # the same gain both ways, computed from the outcomes
    a, b = 20 / 1.1 - 10 / 1.1, 100 - 80 / 0.9
    assert 0.9 * a - 0.1 * b == pytest.approx(0.8 * b - 0.2 * a)


def test_no_exchange_without_a_difference_in_priorities():
    inputs = two_by_two()
    same = BargainingInputs(
        capability=inputs.capability,
        position=inputs.position,
        salience=np.array([[[0.5, 0.5], [0.5, 0.5]]]),
        low=inputs.low,
        high=inputs.high,
    )
    traj = Exchange().run(same)
    assert traj.rounds_run.tolist() == [0]
    np.testing.assert_array_equal(traj.final, same.position)


def test_no_exchange_between_actors_on_the_same_side():
    """Actors 0 and 1 have opposite priorities but both sit below both expected outcomes (72 and
    79.1, pulled up by the heavy actor 2): they never trade with each other, only with actor 2.
    Each exchange moves one position of each trader, so actor 2 moves as often as 0 and 1."""
    inputs = BargainingInputs(
        capability=np.array([[1.0, 1.0, 5.0]]),
        position=np.array([[[0.0, 0.0], [20.0, 30.0], [100.0, 100.0]]]),
        salience=np.array([[[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]]]),
        low=np.zeros(2),
        high=np.full(2, 100.0),
    )
    moved = np.abs(Exchange().run(inputs).final[0] - inputs.position[0]) > 0
    assert moved[2].sum() == moved[0].sum() + moved[1].sum() > 0


def test_a_single_issue_is_the_compromise():
    inputs = random_inputs(4, 6, 1, seed=5)
    engine = Exchange(max_rounds=5)
    np.testing.assert_allclose(
        engine.settlement(inputs, engine.run(inputs)),
        Compromise().settlement(inputs, Compromise().run(inputs)),
    )


def test_every_position_slot_trades_at_most_once_a_round():
    inputs = random_inputs(3, 7, 3, seed=11)
    traj = Exchange().run(inputs)
    moved = np.abs(traj.final - inputs.position) > 0  # (D, N, K) positions that moved
    # a moved slot is a mover in exactly one exchange; each exchange moves two slots
    assert moved.sum() % 2 == 0 and moved.any()
    # exchanges move the outcome towards both traders: the total gain is positive
    assert np.all(traj.diagnostics["gain"] > 0)


def test_later_rounds_keep_trading_until_nothing_gains():
    inputs = random_inputs(2, 6, 3, seed=2)
    one = Exchange(max_rounds=1).run(inputs)
    many = Exchange(max_rounds=50).run(inputs)
    assert one.positions.shape[1] == 2
    assert many.rounds_run.max() > 1
    np.testing.assert_array_equal(many.positions[:, 1], one.positions[:, 1])
    # the outcome after each round is the weighted mean of the positions
    outcome = weighted_mean(many.final, inputs.capability, inputs.salience)
    np.testing.assert_allclose(Exchange().settlement(inputs, many), outcome)


def test_pairs_lists_each_exchange_once():
    i, j, k, m = pairs(3, 2)
    assert len(i) == 3 * 2  # 3 pairs of actors, 2 ordered pairs of issues
    assert np.all(i < j) and np.all(k != m)


@pytest.mark.parametrize("options", [{"max_rounds": -1}, {"max_rounds": 1.5}, {"tolerance": 2}])
def test_bad_options_are_errors(options):
    with pytest.raises(ValueError):
        Exchange(**options)
