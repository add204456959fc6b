"""The `nash` engine: the weighted Nash bargaining solution with the status quo as disagreement."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from standoff.bargaining import NashBargaining
from standoff.bargaining.base import BargainingInputs, weighted_mean

from .engine_contract import CONTRACT, EngineContract, cases, permute_actors


class TestNashContract(EngineContract):
    engine = NashBargaining


class TestNashLinearContract(EngineContract):
    engine = staticmethod(lambda: NashBargaining(utility="linear"))


def one(capability, position, salience=None, reference=None, low=0.0, high=100.0):
    position = np.asarray(position, dtype=float)[None, :, None]
    salience = np.ones_like(position) if salience is None else np.asarray(salience, float)
    return BargainingInputs(
        capability=np.asarray(capability, dtype=float)[None],
        position=position,
        salience=salience.reshape(position.shape),
        low=np.array([low]),
        high=np.array([high]),
        reference=None if reference is None else np.array([[reference]], dtype=float),
    )


def settle(inputs, **options):
    engine = NashBargaining(**options)
    return engine.settlement(inputs, engine.run(inputs))[0, 0]


def test_two_actors_quadratic_by_hand():
    # maximize log[x (80 - x)] + log[x (120 - x)]: 2/x = 1/(80 - x) + 1/(120 - x),
    # x^2 - 150 x + 4800 = 0, x = (150 - sqrt(3300)) / 2
    assert settle(one([1, 1], [40, 60], reference=0)) == pytest.approx(
        (150 - np.sqrt(3300)) / 2, abs=1e-9
    )


def test_two_actors_linear_by_hand():
    # gains x and x up to 40; then 80 - x and x: the product peaks at the nearer actor
    assert settle(one([1, 1], [40, 60], reference=0), utility="linear") == pytest.approx(40)


def test_weights_pull_towards_the_heavier_actor():
    # weights 3 and 1: 3/x - 3/(80 - x) + 1/x - 1/(120 - x) = 0 solved by bisection
    x = settle(one([3, 1], [40, 60], reference=0))
    assert 3 / x - 3 / (80 - x) + 1 / x - 1 / (120 - x) == pytest.approx(0, abs=1e-12)
    assert x < settle(one([1, 1], [40, 60], reference=0))
    # the salience weighting alone ignores capability
    assert settle(one([3, 1], [40, 60], reference=0), weights="salience") == pytest.approx(
        (150 - np.sqrt(3300)) / 2
    )


def test_a_single_actor_gets_its_position():
    assert settle(one([2], [70], reference=10)) == pytest.approx(70)


def test_status_quo_stands_where_no_agreement_is_better_for_all():
    # actors on both sides of the status quo, or one at it: nothing gains for everyone
    assert settle(one([1, 1, 1], [20, 60, 80], reference=50)) == 50
    assert settle(one([1, 1, 1], [0, 60, 80], reference=0)) == 0


def test_an_actor_without_weight_does_not_block():
    inputs = one([1, 1, 1], [0, 40, 60], salience=[0, 1, 1], reference=0)
    assert settle(inputs) == pytest.approx((150 - np.sqrt(3300)) / 2)


def test_actors_below_the_status_quo_mirror_those_above():
    above = settle(one([1, 2], [40, 60], reference=0))
    below = settle(one([1, 2], [60, 40], reference=100))
    assert below == pytest.approx(100 - above)


def test_without_a_reference_point_the_compromise():
    inputs = one([2, 1, 3], [0, 100, 40], salience=[1, 0.5, 0.5])
    assert settle(inputs) == pytest.approx(27.5)
    nan = replace(inputs, reference=np.array([[np.nan]]))
    assert settle(nan) == pytest.approx(27.5)


def test_a_far_status_quo_tends_to_the_weighted_mean():
    """Achen (2006): as the disagreement point recedes, the solution nears the weighted mean."""
    cap, pos, sal = [2, 1, 3], [10, 90, 40], [1, 0.5, 0.5]
    mean = (2 * 10 + 0.5 * 90 + 1.5 * 40) / 4
    near = settle(one(cap, pos, sal, reference=0, low=-1e9))
    far = settle(one(cap, pos, sal, reference=-1e9, low=-1e9))
    assert abs(far - mean) < 1e-3 < abs(near - mean)


def test_a_reference_off_the_scale_is_an_error():
    with pytest.raises(ValueError, match="outside its issue's scale"):
        settle(one([1, 1], [40, 60], reference=120))


def test_unknown_options_are_errors():
    with pytest.raises(ValueError, match="utility"):
        NashBargaining(utility="cubic")
    with pytest.raises(ValueError, match="weights"):
        NashBargaining(weights="gdp")


def with_reference(case):
    inputs = case.inputs()
    rng = np.random.default_rng(case.seed)
    ref = rng.uniform(0, 1, (inputs.draws, inputs.n_issues)) * (inputs.high - inputs.low)
    ref = np.where(rng.uniform(size=ref.shape) < 0.4, inputs.low, ref)  # often at an end
    return replace(inputs, reference=ref)


@CONTRACT
@given(cases(), st.data())
def test_with_a_reference_order_and_batching_do_not_matter(case, data):
    inputs = with_reference(case)
    engine = NashBargaining()
    settled = engine.settlement(inputs, engine.run(inputs))
    assert np.all((settled >= inputs.low) & (settled <= inputs.high))
    perm = np.array(data.draw(st.permutations(range(case.actors))))
    permuted = replace(permute_actors(inputs, perm), reference=inputs.reference)
    np.testing.assert_allclose(
        engine.settlement(permuted, engine.run(permuted)), settled, atol=1e-7
    )
    d = data.draw(st.integers(0, case.draws - 1))
    alone = inputs.take(slice(d, d + 1))
    np.testing.assert_allclose(engine.settlement(alone, engine.run(alone))[0], settled[d])


@CONTRACT
@given(cases())
def test_the_solution_is_no_worse_than_the_status_quo_for_anyone(case):
    inputs = with_reference(case)
    engine = NashBargaining()
    x = engine.settlement(inputs, engine.run(inputs))
    d = inputs.reference
    gain = (d[:, None] - inputs.position) ** 2 - (x[:, None] - inputs.position) ** 2
    assert np.all(gain >= -1e-9 * (inputs.high - inputs.low) ** 2)


def test_the_weighted_mean_helper_is_the_no_reference_answer():
    rng = np.random.default_rng(3)
    inputs = BargainingInputs(
        capability=rng.uniform(1, 5, (4, 5)),
        position=rng.uniform(0, 100, (4, 5, 2)),
        salience=rng.uniform(0.1, 1, (4, 5, 2)),
        low=np.zeros(2),
        high=np.full(2, 100.0),
    )
    engine = NashBargaining()
    np.testing.assert_allclose(
        engine.settlement(inputs, engine.run(inputs)),
        weighted_mean(inputs.position, inputs.capability, inputs.salience),
    )
