import numpy as np
import pytest

from standoff.bargaining import Compromise
from standoff.bargaining.base import BargainingInputs, weighted_mean, weighted_median

from .engine_contract import EngineContract


class TestCompromiseContract(EngineContract):
    engine = Compromise


def one(capability, position, salience, low=0.0, high=100.0):
    position = np.asarray(position, dtype=float)
    if position.ndim == 1:
        position = position[:, None]
    salience = np.asarray(salience, dtype=float)
    if salience.ndim == 1:
        salience = salience[:, None]
    k = position.shape[1]
    return BargainingInputs(
        capability=np.asarray(capability, dtype=float)[None],
        position=position[None],
        salience=salience[None],
        low=np.full(k, low),
        high=np.full(k, high),
    )


def test_hand_computed_weighted_mean():
    # weights 2*1=2, 1*0.5=0.5, 3*0.5=1.5; (2*0 + 0.5*100 + 1.5*40) / 4 = 27.5
    inputs = one([2, 1, 3], [0, 100, 40], [1, 0.5, 0.5])
    traj = Compromise().run(inputs)
    assert traj.positions.shape == (1, 2, 3, 1)
    assert Compromise().settlement(inputs, traj)[0, 0] == pytest.approx(27.5)
    np.testing.assert_allclose(traj.final[0, :, 0], 27.5)


def test_hand_computed_two_issues():
    # issue 2: weights 2*0.2, 1*1, 3*0 -> (0.4*50 + 1*80) / 1.4 = 71.428...
    inputs = one([2, 1, 3], [[0, 50], [100, 80], [40, 10]], [[1, 0.2], [0.5, 1], [0.5, 0]])
    settled = Compromise().settlement(inputs, Compromise().run(inputs))
    np.testing.assert_allclose(settled[0], [27.5, 100 / 1.4])


def test_emissions_table_round_zero():
    """The EC emissions case (Scholz et al. 2011): weighted mean 7.39 and Condorcet median 7.0."""
    cap = [0.08, 0.08, 0.03, 0.16, 0.16, 0.16, 0.16, 0.05, 0.05, 0.08]
    pos = [4, 7, 4, 4, 10, 10, 10, 7, 4, 7]
    sal = [0.8, 0.4, 0.2, 0.8, 0.6, 0.6, 0.9, 0.1, 1.0, 0.7]
    inputs = one(cap, pos, sal, 4, 10)
    assert weighted_mean(inputs.position, inputs.capability, inputs.salience)[
        0, 0
    ] == pytest.approx(5.003 / 0.677)
    assert weighted_median(inputs.position, inputs.capability, inputs.salience)[0, 0] == 7.0


def test_median_exact_half_takes_the_lower_position():
    inputs = one([1, 1], [20, 60], [1, 1])
    assert weighted_median(inputs.position, inputs.capability, inputs.salience)[0, 0] == 20


def test_zero_weights_fall_back_to_plain_mean():
    inputs = one([1, 1], [20, 60], [0, 0])
    assert weighted_mean(inputs.position, inputs.capability, inputs.salience)[0, 0] == 40


def test_rounds_option():
    inputs = one([1, 3], [0, 100], [1, 1])
    traj = Compromise().run(inputs, rounds=4)
    assert traj.positions.shape[1] == 5
    np.testing.assert_allclose(traj.positions[0, 1:, :, 0], 75)
