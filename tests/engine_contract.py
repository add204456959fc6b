"""Properties every bargaining engine must have. A test module subclasses `EngineContract` and sets
`engine` (a factory) to get these tests for its engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from standoff.bargaining.base import BargainingInputs, Engine


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


class EngineContract:
    engine: ClassVar[Callable[[], Engine]]
    rounds: ClassVar[int | None] = 3
    actors: ClassVar[int] = 6
    issues: ClassVar[int] = 2

    def make(self) -> Engine:
        return type(self).engine()

    def inputs(self, draws: int = 5, seed: int = 1) -> BargainingInputs:
        return random_inputs(draws, self.actors, self.issues, seed)

    def test_shapes(self) -> None:
        inputs = self.inputs()
        traj = self.make().run(inputs, self.rounds)
        d, r1, n, k = traj.positions.shape
        assert (d, n, k) == (5, self.actors, self.issues)
        assert r1 >= 1
        assert traj.rounds_run.shape == (5,)
        assert np.all(traj.rounds_run <= r1 - 1)
        np.testing.assert_array_equal(traj.positions[:, 0], inputs.position)
        assert self.make().settlement(inputs, traj).shape == (5, self.issues)
        assert np.all(np.isfinite(traj.positions))

    def test_positions_stay_on_the_scale(self) -> None:
        inputs = self.inputs(draws=20, seed=4)
        traj = self.make().run(inputs, self.rounds)
        assert np.all(traj.positions >= inputs.low - 1e-9)
        assert np.all(traj.positions <= inputs.high + 1e-9)

    def test_draws_are_independent(self) -> None:
        """Each draw's result is the same alone as in a batch: no leakage across the draw axis."""
        inputs = self.inputs(draws=6, seed=2)
        engine = self.make()
        batch = engine.run(inputs, self.rounds)
        for d in (0, 3, 5):
            alone = engine.run(inputs.take(slice(d, d + 1)), self.rounds)
            r = alone.positions.shape[1]
            np.testing.assert_allclose(
                alone.positions[0], batch.positions[d, :r], rtol=0, atol=1e-9
            )
            np.testing.assert_allclose(
                batch.positions[d, r:],
                np.broadcast_to(alone.positions[0, -1], batch.positions[d, r:].shape),
                rtol=0,
                atol=1e-9,
            )

    def test_reproducible(self) -> None:
        inputs = self.inputs(seed=3)
        a = self.make().run(inputs, self.rounds)
        b = self.make().run(inputs, self.rounds)
        np.testing.assert_array_equal(a.positions, b.positions)

    def test_actor_order_does_not_matter(self) -> None:
        inputs = self.inputs(seed=5)
        perm = np.random.default_rng(0).permutation(self.actors)
        permuted = BargainingInputs(
            capability=inputs.capability[:, perm],
            position=inputs.position[:, perm],
            salience=inputs.salience[:, perm],
            risk=None if inputs.risk is None else inputs.risk[:, perm],
            low=inputs.low,
            high=inputs.high,
        )
        engine = self.make()
        a = engine.run(inputs, self.rounds)
        b = engine.run(permuted, self.rounds)
        np.testing.assert_allclose(b.positions, a.positions[:, :, perm], rtol=0, atol=1e-7)
        np.testing.assert_allclose(
            engine.settlement(permuted, b), engine.settlement(inputs, a), atol=1e-7
        )

    def test_unanimous_actors_stay_put(self) -> None:
        inputs = self.inputs(seed=6)
        same = np.broadcast_to(inputs.position[:, :1], inputs.position.shape).copy()
        unanimous = BargainingInputs(
            capability=inputs.capability,
            position=same,
            salience=inputs.salience,
            risk=inputs.risk,
            low=inputs.low,
            high=inputs.high,
        )
        engine = self.make()
        traj = engine.run(unanimous, self.rounds)
        np.testing.assert_allclose(
            traj.positions, np.broadcast_to(same[:, None], traj.positions.shape), atol=1e-9
        )
        np.testing.assert_allclose(engine.settlement(unanimous, traj), same[:, 0], atol=1e-9)

    def test_single_actor_stays_put(self) -> None:
        inputs = random_inputs(3, 1, self.issues, seed=7)
        traj = self.make().run(inputs, self.rounds)
        np.testing.assert_allclose(
            traj.positions, np.broadcast_to(inputs.position[:, None], traj.positions.shape)
        )
