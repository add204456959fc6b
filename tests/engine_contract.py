"""Properties every bargaining engine must have. A test module subclasses `EngineContract` and sets
`engine` (a factory) to get these tests for its engine; tests/test_ci_guarantees.py fails if an
engine in `standoff.bargaining.ENGINES` has no subclass.

The property tests draw their cases with hypothesis: 1-7 actors, 1-3 issues, 1-6 draws, a seed for
the numbers, a scale, and (in the perception cases) which of perceived capability, position and
salience each actor holds. A failing case is reported as a compact `Case(...)`; rebuild its
inputs with `Case(...).inputs()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from standoff.bargaining.base import BargainingInputs, Engine, FloatArray, Trajectory

PERCEIVED = ("capability", "position", "salience")

# Modest, as several contract classes run every property (STANDOFF_CONTRACT_EXAMPLES=500 for a
# longer hunt). deadline=None because the first call of a numba kernel compiles it. Inherited
# @given tests run on several classes by design.
CONTRACT = settings(
    max_examples=int(os.environ.get("STANDOFF_CONTRACT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
)


def random_inputs(
    draws: int, actors: int, issues: int, seed: int, scale: float = 100.0
) -> BargainingInputs:
    """A batch of random cases on a 0-scale scale, with distinct positions."""
    rng = np.random.default_rng(seed)
    return BargainingInputs(
        capability=rng.uniform(1, 100, (draws, actors)),
        position=rng.uniform(0, scale, (draws, actors, issues)),
        salience=rng.uniform(0.1, 1.0, (draws, actors, issues)),
        risk=np.zeros((draws, actors)),
        low=np.zeros(issues),
        high=np.full(issues, scale),
        actors=tuple(f"a{i}" for i in range(actors)),
        issues=tuple(f"i{k}" for k in range(issues)),
    )


def with_diagonal(seen: FloatArray, truth: FloatArray) -> FloatArray:
    """`seen` [d, i, j, ...] with what each actor believes about itself set to the truth."""
    out = np.array(seen, dtype=float)
    n = out.shape[1]
    out[:, np.arange(n), np.arange(n)] = truth
    return out


def add_perceptions(
    inputs: BargainingInputs, seed: int, which: tuple[str, ...]
) -> BargainingInputs:
    """`inputs` with random misperceptions of the named attributes (capability, position,
    salience), each on its valid range, the diagonal (beliefs about oneself) the truth."""
    rng = np.random.default_rng(seed)
    d, n, k = inputs.position.shape
    low, high = inputs.low, inputs.high
    perceived: dict[str, FloatArray] = {}
    if "capability" in which:
        seen = inputs.capability[:, None, :] * rng.uniform(0.25, 4.0, (d, n, n))
        perceived["perceived_capability"] = with_diagonal(seen, inputs.capability)
    if "position" in which:
        noise = rng.normal(0.0, 0.3, (d, n, n, k)) * (high - low)
        seen = np.clip(inputs.position[:, None] + noise, low, high)
        perceived["perceived_position"] = with_diagonal(seen, inputs.position)
    if "salience" in which:
        seen = np.clip(inputs.salience[:, None] + rng.normal(0.0, 0.3, (d, n, n, k)), 0.05, 1.0)
        perceived["perceived_salience"] = with_diagonal(seen, inputs.salience)
    return replace(inputs, **perceived)


def truthful_perceptions(inputs: BargainingInputs) -> BargainingInputs:
    """`inputs` with every perception given explicitly and equal to the truth."""
    return replace(
        inputs,
        perceived_capability=np.array(inputs.seen_capability()),
        perceived_position=np.array(inputs.seen_position()),
        perceived_salience=np.array(inputs.seen_salience()),
    )


def permute_actors(inputs: BargainingInputs, perm: NDArray[np.intp]) -> BargainingInputs:
    """The same inputs with the actors reordered: the actor axis, and both the believer (i) and
    the believed (j) axes of the perceptions."""

    def both(a: FloatArray | None) -> FloatArray | None:
        return None if a is None else a[:, perm][:, :, perm]

    return BargainingInputs(
        capability=inputs.capability[:, perm],
        position=inputs.position[:, perm],
        salience=inputs.salience[:, perm],
        risk=None if inputs.risk is None else inputs.risk[:, perm],
        perceived_capability=both(inputs.perceived_capability),
        perceived_position=both(inputs.perceived_position),
        perceived_salience=both(inputs.perceived_salience),
        low=inputs.low,
        high=inputs.high,
        actors=tuple(inputs.actors[p] for p in perm) if inputs.actors else (),
        issues=inputs.issues,
    )


@dataclass(frozen=True)
class Case:
    """What hypothesis draws: sizes, a seed for the numbers, the scale, the perceptions held."""

    draws: int
    actors: int
    issues: int
    seed: int
    scale: float = 100.0
    perceived: tuple[str, ...] = ()

    def inputs(self) -> BargainingInputs:
        inputs = random_inputs(self.draws, self.actors, self.issues, self.seed, self.scale)
        if self.perceived:
            inputs = add_perceptions(inputs, self.seed + 1, self.perceived)
        return inputs


def cases(perceptions: bool = False, min_actors: int = 1) -> st.SearchStrategy[Case]:
    perceived: st.SearchStrategy[tuple[str, ...]] = (
        st.lists(st.sampled_from(PERCEIVED), min_size=1, max_size=3, unique=True).map(
            lambda names: tuple(sorted(names))
        )
        if perceptions
        else st.just(())
    )
    return st.builds(
        Case,
        draws=st.integers(1, 6),
        actors=st.integers(min_actors, 7),
        issues=st.integers(1, 3),
        seed=st.integers(0, 2**32 - 2),
        scale=st.sampled_from([1.0, 10.0, 100.0]),
        perceived=perceived,
    )


any_case = st.one_of(cases(), cases(perceptions=True))


class EngineContract:
    engine: ClassVar[Callable[[], Engine]]
    rounds: ClassVar[int | None] = 3

    def make(self) -> Engine:
        return type(self).engine()

    def run(self, inputs: BargainingInputs) -> tuple[Trajectory, FloatArray]:
        engine = self.make()
        traj = engine.run(inputs, self.rounds)
        return traj, engine.settlement(inputs, traj)

    @CONTRACT
    @given(any_case)
    def test_shapes_finite_and_on_the_scale(self, case: Case) -> None:
        inputs = case.inputs()
        traj, settled = self.run(inputs)
        d, r1, n, k = traj.positions.shape
        assert (d, n, k) == (case.draws, case.actors, case.issues)
        assert r1 >= 1
        assert traj.rounds_run.shape == (case.draws,)
        assert np.all(traj.rounds_run >= 0) and np.all(traj.rounds_run <= r1 - 1)
        np.testing.assert_array_equal(traj.positions[:, 0], inputs.position)
        assert np.all(np.isfinite(traj.positions))
        assert np.all(traj.positions >= inputs.low - 1e-9)
        assert np.all(traj.positions <= inputs.high + 1e-9)
        assert settled.shape == (case.draws, case.issues)
        assert np.all(np.isfinite(settled))
        assert np.all(settled >= inputs.low - 1e-9) and np.all(settled <= inputs.high + 1e-9)

    @CONTRACT
    @given(any_case, st.data())
    def test_draws_are_independent(self, case: Case, data: st.DataObject) -> None:
        """Each draw's result is the same alone as in a batch: no leakage across the draw axis."""
        inputs = case.inputs()
        engine = self.make()
        batch = engine.run(inputs, self.rounds)
        d = data.draw(st.integers(0, case.draws - 1), label="draw")
        alone = engine.run(inputs.take(slice(d, d + 1)), self.rounds)
        r = alone.positions.shape[1]
        assert r <= batch.positions.shape[1]
        assert alone.rounds_run[0] == batch.rounds_run[d]
        np.testing.assert_allclose(alone.positions[0], batch.positions[d, :r], rtol=0, atol=1e-9)
        np.testing.assert_allclose(
            batch.positions[d, r:],
            np.broadcast_to(alone.positions[0, -1], batch.positions[d, r:].shape),
            rtol=0,
            atol=1e-9,
        )

    @CONTRACT
    @given(any_case)
    def test_reproducible(self, case: Case) -> None:
        inputs = case.inputs()
        a, settled_a = self.run(inputs)
        b, settled_b = self.run(inputs)
        np.testing.assert_array_equal(a.positions, b.positions)
        np.testing.assert_array_equal(a.rounds_run, b.rounds_run)
        np.testing.assert_array_equal(settled_a, settled_b)

    @CONTRACT
    @given(any_case, st.data())
    def test_actor_order_does_not_matter(self, case: Case, data: st.DataObject) -> None:
        inputs = case.inputs()
        perm = np.array(data.draw(st.permutations(range(case.actors)), label="perm"))
        permuted = permute_actors(inputs, perm)
        a, settled_a = self.run(inputs)
        b, settled_b = self.run(permuted)
        np.testing.assert_array_equal(b.rounds_run, a.rounds_run)
        np.testing.assert_allclose(b.positions, a.positions[:, :, perm], rtol=0, atol=1e-7)
        np.testing.assert_allclose(settled_b, settled_a, rtol=0, atol=1e-7)

    @CONTRACT
    @given(cases())
    def test_perceiving_the_truth_is_no_perception(self, case: Case) -> None:
        """Perceptions given explicitly and equal to the truth give exactly the result of none."""
        inputs = case.inputs()
        a, settled_a = self.run(inputs)
        b, settled_b = self.run(truthful_perceptions(inputs))
        np.testing.assert_array_equal(b.positions, a.positions)
        np.testing.assert_array_equal(b.rounds_run, a.rounds_run)
        np.testing.assert_array_equal(settled_b, settled_a)

    @CONTRACT
    @given(cases(min_actors=2))
    def test_unanimous_actors_stay_put(self, case: Case) -> None:
        inputs = case.inputs()
        same = np.broadcast_to(inputs.position[:, :1], inputs.position.shape).copy()
        unanimous = replace(inputs, position=same)
        traj, settled = self.run(unanimous)
        np.testing.assert_allclose(
            traj.positions, np.broadcast_to(same[:, None], traj.positions.shape), atol=1e-9
        )
        np.testing.assert_allclose(settled, same[:, 0], atol=1e-9)

    @CONTRACT
    @given(cases().map(lambda case: replace(case, actors=1)))
    def test_single_actor_stays_put(self, case: Case) -> None:
        inputs = case.inputs()
        traj, settled = self.run(inputs)
        np.testing.assert_allclose(
            traj.positions, np.broadcast_to(inputs.position[:, None], traj.positions.shape)
        )
        np.testing.assert_allclose(settled, inputs.position[:, 0])
