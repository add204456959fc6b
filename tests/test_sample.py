import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standoff.case.loader import load_yaml_text
from standoff.compile import load
from standoff.simulate.sample import BLOCK, Sampler, block_seed, central_inputs, slots

CASE = """
id: t
issues:
  - {id: a, range: [0, 10]}
  - {id: b}
actors:
  - id: x
    capability: 1 to 3
    stances:
      a: {position: 2 to 4, salience: 0.5}
      b: {position: 'normal(50, 10)', salience: 'beta(2, 2)'}
  - id: y
    capability: 2
    risk: 'uniform(-0.5, 0.5)'
    stances:
      a: {position: 'triangular(5, 6, 9)', salience: 0.2 to 0.4}
      b: {position: 70, salience: 1}
perceptions:
  x:
    y: {capability: 5 to 8, stances: {a: {position: 1}}}
"""


@pytest.fixture(scope="module")
def case():
    return load_yaml_text(CASE, "t.yaml")


def test_block_seed_is_the_spawned_child():
    children = np.random.SeedSequence(42).spawn(5)
    for b in range(5):
        assert (
            block_seed(42, b).generate_state(4).tolist() == children[b].generate_state(4).tolist()
        )


def test_shapes_and_ranges(case):
    d = Sampler(case, 1).draws(0, 3000)
    inp = d.inputs
    assert inp.capability.shape == (3000, 2)
    assert inp.position.shape == (3000, 2, 2)
    assert inp.perceived_position.shape == (3000, 2, 2, 2)
    assert np.all(inp.position[:, :, 0] >= 0) and np.all(inp.position[:, :, 0] <= 10)
    assert np.all((inp.salience >= 0) & (inp.salience <= 1))
    assert np.all(inp.capability >= 0)
    assert np.all(inp.capability[:, 1] == 2)
    # beliefs: x sees y's position on a as 1, y sees the truth about x
    assert np.all(inp.perceived_position[:, 0, 1, 0] == 1)
    np.testing.assert_array_equal(inp.perceived_position[:, 1, 0], inp.position[:, 0])
    np.testing.assert_array_equal(inp.perceived_position[:, 0, 0], inp.position[:, 0])
    assert np.all(inp.perceived_capability[:, 0, 1] >= 0)
    assert "belief[x→y].capability" in d.uncertain
    assert "capability[y]" not in d.uncertain  # fixed inputs are not uncertain


def test_interval_is_a_90_percent_interval(case):
    d = Sampler(case, 7).draws(0, 20000)
    cap = d.inputs.capability[:, 0]  # 1 to 3, unbounded above: lognormal
    assert np.mean(cap < 1) == pytest.approx(0.05, abs=0.01)
    assert np.mean(cap > 3) == pytest.approx(0.05, abs=0.01)
    assert np.median(cap) == pytest.approx(np.sqrt(3), rel=0.03)
    pos = d.inputs.position[:, 0, 0]  # 2 to 4 on [0, 10]: normal
    assert np.median(pos) == pytest.approx(3, abs=0.03)


@settings(max_examples=25, deadline=None)
@given(
    start=st.integers(0, 3 * BLOCK),
    length=st.integers(1, 2 * BLOCK),
    chunk=st.integers(1, 1500),
    seed=st.integers(0, 2**32),
)
def test_any_chunking_gives_the_same_draws(start, length, chunk, seed):
    case = load_yaml_text(CASE, "t.yaml")
    whole = Sampler(case, seed).draws(start, start + length)
    sampler = Sampler(case, seed)
    parts = [
        sampler.draws(s, min(s + chunk, start + length))
        for s in range(start, start + length, chunk)
    ]
    np.testing.assert_array_equal(
        np.concatenate([p.inputs.position for p in parts]), whole.inputs.position
    )
    np.testing.assert_array_equal(
        np.concatenate([p.inputs.perceived_capability for p in parts]),
        whole.inputs.perceived_capability,
    )
    for key, values in whole.uncertain.items():
        np.testing.assert_array_equal(np.concatenate([p.uncertain[key] for p in parts]), values)


def test_seeds_differ(case):
    a = Sampler(case, 1).draws(0, 10).inputs.capability
    b = Sampler(case, 2).draws(0, 10).inputs.capability
    assert not np.array_equal(a, b)


def test_central_values(case):
    inp = central_inputs(case)
    assert inp.capability[0, 0] == pytest.approx(np.sqrt(3))  # lognormal median
    assert inp.position[0, 0, 0] == 3
    assert inp.position[0, 0, 1] == 50
    assert inp.salience[0, 0, 1] == 0.5  # beta(2, 2) mean on [0, 1]
    assert inp.position[0, 1, 0] == 6  # triangular mode
    assert inp.perceived_position[0, 0, 1, 0] == 1


def test_slots_cover_every_input(case):
    keys = [s.key for s in slots(case)]
    labels = [s.label for s in slots(case)]
    assert len(keys) == len(set(keys)) == len(set(labels)) == 2 * (2 + 2 * 2) + 2


def test_slots_are_named_from_the_case():
    """Each input has structured fields and a reader's label from the case's own names."""
    compiled = load("us-dprk-2018")
    by_key = {s.key: s for s in slots(compiled.case, compiled.crisis)}
    kim = next(a for a in compiled.case.actors if a.id == "kim")
    position = by_key["position[kim, sequencing]"].ref
    assert (position.actor, position.issue, position.attribute) == ("kim", "sequencing", "position")
    assert position.label.startswith(f"{kim.name}: position on ")
    prior = by_key["beliefs.president_independent.prior"].ref
    assert (prior.belief, prior.attribute, prior.actor) == ("president_independent", "prior", "kim")
    for slot in by_key.values():
        assert slot.label and "[" not in slot.label  # never an internal key


def test_builtin_case_samples():
    compiled = load("us-dprk-2018")
    case = compiled.case
    d = Sampler(case, 0, compiled.crisis).draws(0, 100)
    assert d.inputs.position.shape == (100, len(case.actors), len(case.issues))
    assert "beliefs.president_independent.prior" in d.params
    assert "beliefs.president_independent.trump.capability" in d.uncertain
    assert np.all(d.params["beliefs.president_independent.prior"] >= 0.0)
