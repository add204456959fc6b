"""The `condorcet` engine: KTAB's probabilistic Condorcet election over the actors' positions."""

import numpy as np
import pytest

from standoff.bargaining import Condorcet
from standoff.bargaining.base import BargainingInputs

from .engine_contract import EngineContract


class TestCondorcetContract(EngineContract):
    engine = Condorcet


class TestCondorcetMarkovContract(EngineContract):
    engine = staticmethod(lambda: Condorcet(pce="markov_uniform", settle="median"))


def one(capability, position, salience=None):
    n = len(position)
    salience = np.ones(n) if salience is None else np.asarray(salience, float)
    return BargainingInputs(
        capability=np.asarray(capability, dtype=float)[None],
        position=np.asarray(position, dtype=float)[None, :, None],
        salience=salience[None, :, None],
        low=np.zeros(1),
        high=np.full(1, 100.0),
    )


def settle(inputs, **options):
    engine = Condorcet(**options)
    return engine.settlement(inputs, engine.run(inputs))[0, 0]


def test_symmetric_three_actors_by_hand():
    """Equal weights at 0, 50, 100. The middle wins each contest 2/3 (C = 1 against 1/2); the
    ends tie (1 against 1). Conditional PCE: p_0 ~ 1/2 * 1/3 * 1/2 = 1/12, p_50 ~ 2/3 * 1/2 * 2/3
    = 2/9, p_100 ~ 1/12; normalized 3/14, 4/7, 3/14 (up to KTAB's 1e-8 in each coalition)."""
    inputs = one([1, 1, 1], [0, 50, 100])
    p = Condorcet().probabilities(inputs)[0, 0]
    np.testing.assert_allclose(p, [3 / 14, 4 / 7, 3 / 14], atol=1e-7)
    assert settle(inputs) == pytest.approx(50)
    assert settle(inputs, settle="mode") == 50


def test_two_actors_by_hand():
    """Weights 1 and 3 at 0 and 100: P(0 > 100) = 1 / (1 + 3) = 1/4, so p = (1/4, 3/4) and the
    expected outcome 75; the mode and the median are the heavier actor's position."""
    inputs = one([1, 3], [0, 100])
    np.testing.assert_allclose(Condorcet().probabilities(inputs)[0, 0], [0.25, 0.75], atol=1e-7)
    assert settle(inputs) == pytest.approx(75, abs=1e-5)
    assert settle(inputs, settle="mode") == 100
    assert settle(inputs, settle="median") == 100


def test_salience_weights_the_votes():
    # salience 0.25 on the heavier actor: weights 1 and 0.75, P(0 > 100) = 1 / 1.75
    inputs = one([1, 3], [0, 100], salience=[1, 0.25])
    assert settle(inputs) == pytest.approx(100 * 0.75 / 1.75, abs=1e-5)


def test_the_markov_election_agrees_on_two_actors():
    # uniform challenges between two options: the stationary state of P is (1/4, 3/4) as well
    inputs = one([1, 3], [0, 100])
    assert settle(inputs, pce="markov_uniform") == pytest.approx(75, abs=1e-3)


def test_a_stronger_victory_function_sharpens_the_election():
    inputs = one([1, 3], [0, 100])
    # f(C) = C^2: P(0 > 100) = 1 / (1 + 9)
    assert settle(inputs, victory="square") == pytest.approx(90, abs=1e-5)


@pytest.mark.parametrize("options", [{"victory": "cubic"}, {"pce": "borda"}, {"settle": "mean"}])
def test_unknown_options_are_errors(options):
    with pytest.raises(ValueError):
        Condorcet(**options)
