"""The `procedural` engine: the setter's proposal within the win set of the status quo."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from standoff.bargaining import Procedural
from standoff.bargaining.base import BargainingInputs, weighted_mean
from standoff.bargaining.procedural import core

from .engine_contract import CONTRACT, EngineContract, cases, permute_actors


class TestProceduralContract(EngineContract):
    engine = Procedural


class TestProceduralQualifiedMajorityContract(EngineContract):
    engine = staticmethod(lambda: Procedural(quota=0.7))


NAMES = ("com", "ep", "a", "b", "c")


def one(position, capability=None, reference=None, salience=None, names=NAMES):
    n = len(position)
    position = np.asarray(position, dtype=float)[None, :, None]
    capability = np.ones(n) if capability is None else np.asarray(capability, float)
    salience = np.ones(n) if salience is None else np.asarray(salience, float)
    return BargainingInputs(
        capability=capability[None],
        position=position,
        salience=salience[None, :, None],
        low=np.zeros(1),
        high=np.full(1, 100.0),
        reference=None if reference is None else np.array([[reference]], dtype=float),
        actors=tuple(names[:n]),
    )


def settle(inputs, **options):
    engine = Procedural(**options)
    return engine.settlement(inputs, engine.run(inputs))[0, 0]


def test_core_ends_by_hand():
    # votes 1, 1, 1 at 20, 50, 80; a quota of 0.66 needs two: counted from the top 80, 50 -> 50;
    # from the bottom 20, 50 -> 50. Unanimity needs all three: 20 and 80.
    x = np.array([[[20.0], [50.0], [80.0]]])
    v = np.ones_like(x)
    assert [float(e[0, 0]) for e in core(x, v, 0.66)] == [50.0, 50.0]
    assert [float(e[0, 0]) for e in core(x, v, 1.0)] == [20.0, 80.0]


def test_setter_gets_its_ideal_point_when_it_passes():
    # the setter "com" at 90 does not vote; voters at 20, 50, 80; d = 0; two of three pass 90
    inputs = one([90, 20, 50, 80], reference=0, names=("com", "a", "b", "c"))
    assert settle(inputs, quota=0.66, setter="com", non_voters="com") == 90


def test_setter_is_held_to_the_pivot_mirror_image():
    # d = 10, pivot at 50: a proposal passes up to 2 * 50 - 10 = 90 (the pivot indifferent)
    inputs = one([100, 20, 50, 80], reference=10, names=("com", "a", "b", "c"))
    assert settle(inputs, quota=0.66, setter="com", non_voters=["com"]) == 90
    # under unanimity the pivot is the voter at 20: up to 30
    assert settle(inputs, quota=1.0, setter="com", non_voters=["com"]) == 30


def test_status_quo_inside_the_core_stands():
    inputs = one([100, 20, 50, 80], reference=40, names=("com", "a", "b", "c"))
    assert settle(inputs, quota=1.0, setter="com", non_voters=["com"]) == 40


def test_a_veto_player_limits_the_change():
    # the Parliament at 30 accepts only up to 2 * 30 - 0 = 60
    inputs = one([90, 30, 50, 60, 80], reference=0)
    assert settle(inputs, quota=0.66, setter="com", non_voters="com,ep") == 90
    assert settle(inputs, quota=0.66, setter="com", non_voters="com,ep", veto="ep") == 60


def test_a_move_down_mirrors_a_move_up():
    inputs = one([0, 80, 50, 20], reference=90, names=("com", "a", "b", "c"))
    assert settle(inputs, quota=0.66, setter="com", non_voters="com") == 10


def test_the_mean_as_setter_and_a_missing_setter_fall_back_to_it():
    inputs = one([90, 20, 50, 80], capability=[1, 2, 1, 1], reference=0)
    mean = float(weighted_mean(inputs.position, inputs.capability, inputs.salience)[0, 0])
    # votes 1, 2, 1, 1; 0.51 of 5 counted from the top is reached at 50: anything up to 100 passes
    assert settle(inputs, quota=0.51) == pytest.approx(mean)
    assert settle(inputs, quota=0.51, setter="president") == pytest.approx(mean)
    # under unanimity (the default) only up to 2 * 20 - 0 = 40
    assert settle(inputs) == 40


def test_without_a_reference_point_the_setter_is_held_to_the_core():
    inputs = one([95, 20, 50, 80], names=("com", "a", "b", "c"))
    assert settle(inputs, quota=0.66, setter="com", non_voters="com") == 50
    assert settle(inputs, quota=1.0, setter="com", non_voters="com") == 80


def test_weights_are_votes():
    # setter at 95, d = 10, voters at 20, 50, 80. Votes 1, 1, 3 (total 5): counted from the top,
    # 0.6 of 5 is reached at 80 alone (up to 150 passes), 0.7 at 50 (up to 90), 0.9 at 20 (30).
    heavy = one(
        [95, 20, 50, 80], capability=[1, 1, 1, 3], reference=10, names=("com", "a", "b", "c")
    )
    options = {"setter": "com", "non_voters": "com"}
    assert [settle(heavy, quota=q, **options) for q in (0.6, 0.7, 0.9)] == [95, 90, 30]
    # with equal votes 0.6 of 3 needs the voters at 80 and 50: up to 90
    equal = replace(heavy, capability=np.ones((1, 4)))
    assert settle(equal, quota=0.6, **options) == 90


@pytest.mark.parametrize("quota", [0.5, 0, 1.5])
def test_quota_must_be_a_majority(quota):
    with pytest.raises(ValueError, match="quota"):
        Procedural(quota=quota)


def with_reference(case):
    inputs = case.inputs()
    rng = np.random.default_rng(case.seed)
    ref = rng.uniform(0, 1, (inputs.draws, inputs.n_issues)) * (inputs.high - inputs.low)
    names = tuple(f"a{i}" for i in range(case.actors))
    return replace(inputs, reference=ref, actors=names)


@CONTRACT
@given(cases(), st.data())
def test_with_roles_order_and_batching_do_not_matter(case, data):
    inputs = with_reference(case)
    engine = Procedural(quota=0.7, setter="a0", veto=["a1"], non_voters=["a0"])
    settled = engine.settlement(inputs, engine.run(inputs))
    assert np.all((settled >= inputs.low) & (settled <= inputs.high))
    perm = np.array(data.draw(st.permutations(range(case.actors))))
    permuted = replace(permute_actors(inputs, perm), reference=inputs.reference)
    np.testing.assert_allclose(engine.settlement(permuted, engine.run(permuted)), settled)
    d = data.draw(st.integers(0, case.draws - 1))
    alone = inputs.take(slice(d, d + 1))
    np.testing.assert_allclose(engine.settlement(alone, engine.run(alone))[0], settled[d])


@CONTRACT
@given(cases())
def test_the_outcome_beats_or_is_the_status_quo(case):
    """Whatever is chosen, a qualified majority of voters and every veto player prefer it to the
    status quo (or are indifferent), or it is the status quo."""
    inputs = with_reference(case)
    engine = Procedural(quota=0.7, veto=["a1"])
    x = engine.settlement(inputs, engine.run(inputs))
    d = inputs.reference
    p = inputs.position
    for_it = np.abs(x[:, None] - p) <= np.abs(d[:, None] - p) + 1e-9
    votes = inputs.capability[:, :, None]
    share = (votes * for_it).sum(axis=1) / votes.sum(axis=1)
    changed = np.abs(x - d) > 1e-9
    assert np.all(~changed | (share >= 0.7 - 1e-9))
    if case.actors > 1:
        assert np.all(~changed | for_it[:, 1])
