"""The one pipeline: the same answer whatever executes the blocks, and clear refusals."""

from __future__ import annotations

import pickle
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from standoff.compile import load
from standoff.pipeline.forecast import DriverOptions, run, simulate_histories
from standoff.run import Block, LocalExecutor, blocks, run_blocks
from standoff.serialize import dumps, forecast_json
from standoff.simulate.histories import CrisisHistories, CrisisTally

from .conftest import shared


@pytest.mark.parametrize(
    "executor",
    [LocalExecutor(workers=2), LocalExecutor(workers=2, processes=True)],
    ids=["threads", "processes"],
)
def test_any_executor_gives_the_serial_answer(executor):
    compiled = load("cuba-1962")
    options = dict(draws=700, seed=3, chunk_size=128, drivers=DriverOptions(2, 4))
    serial = dumps(forecast_json(run(compiled, **options)))
    assert dumps(forecast_json(run(compiled, executor=executor, **options))) == serial


def test_any_executor_gives_the_serial_answer_on_a_table():
    compiled = load(shared("ktab", "SOE-Pol-Comp.csv"))
    options = dict(draws=300, seed=1, chunk_size=64, model="eum")
    serial = dumps(forecast_json(run(compiled, **options)))
    threaded = run(compiled, executor=LocalExecutor(workers=3), **options)
    assert dumps(forecast_json(threaded)) == serial


def test_blocks_cover_the_range_in_order_and_report_progress():
    seen: list[tuple[str, int, int]] = []
    out = run_blocks(lambda b: (b.start, b.stop), 10, 4, progress=lambda *a: seen.append(a))
    assert out == [(0, 4), (4, 8), (8, 10)]
    assert seen == [("simulating", 4, 10), ("simulating", 8, 10), ("simulating", 10, 10)]
    assert blocks(3, 5) == [Block(0, 3)]
    with pytest.raises(ValueError):
        blocks(0, 5)


def test_a_crisis_case_refuses_another_engine_and_a_table_refuses_drivers():
    with pytest.raises(ValueError, match="engine its file names"):
        run(load("cuba-1962"), draws=10, model="compromise")
    with pytest.raises(ValueError, match="crisis case"):
        run(load(shared("bdm-emissions", "actors.csv")), draws=10, drivers=DriverOptions())


def test_block_size_and_executor_do_not_change_the_reduced_answer():
    """Each block returns a tally, not its histories; the merged tallies give the same JSON
    whatever the block size (groups of 50 replicates cut by blocks of 7 or 64) or executor."""
    compiled = load("cuba-1962")
    assert compiled.crisis is not None and compiled.crisis.replicates == 50
    options = dict(draws=1030, seed=11)
    serial = dumps(forecast_json(run(compiled, chunk_size=4096, **options)))
    for size in (7, 64):
        assert dumps(forecast_json(run(compiled, chunk_size=size, **options))) == serial
    for executor in (LocalExecutor(workers=2), LocalExecutor(workers=2, processes=True)):
        got = run(compiled, chunk_size=64, executor=executor, **options)
        assert dumps(forecast_json(got)) == serial


def test_merged_tallies_equal_the_tally_of_the_histories():
    compiled = load("cuba-1962")
    plan = compiled.crisis
    assert plan is not None
    histories = simulate_histories(compiled, 333, 2, 333)
    whole = CrisisTally.of(histories, len(plan.scenarios), plan.replicates)
    for size in (1, 7, 49, 50, 51, 100, 333):
        parts = [
            CrisisTally.of(
                histories_slice(histories, b.start, b.stop), len(plan.scenarios), plan.replicates,
                b.start,
            )
            for b in blocks(333, size)
        ]  # fmt: skip
        merged = CrisisTally.merge(parts)
        for name in ("hits", "head", "groups", "tail", "running", "differ", "happened"):
            assert np.array_equal(getattr(merged, name), getattr(whole, name)), (size, name)
        assert np.array_equal(merged.seen_in, whole.seen_in)
        assert np.array_equal(merged.view_counts, whole.view_counts)
        assert merged.paths == whole.paths
        assert np.array_equal(merged.belief_sum, whole.belief_sum)  # exact in any chunking
        assert np.array_equal(merged.settlement_counts, whole.settlement_counts)
    # the groups are those of the draws: 6 whole groups of 50, then 33 draws left over
    assert whole.groups.shape[0] == 6 and whole.tail.shape[0] == 33 and whole.head.shape[0] == 0


def histories_slice(h: CrisisHistories, start: int, stop: int) -> CrisisHistories:
    def part(name: str) -> Any:
        value = getattr(h, name)
        return None if value is None else value[start:stop]

    return CrisisHistories(**{f.name: part(f.name) for f in fields(h)})


def test_the_eum_engine_keeps_one_pool_and_pickles_without_it(monkeypatch):
    """The threads of the JIT kernel (the one compiled ahead of time runs on one: test_native)."""
    from standoff.bargaining import ExpectedUtility

    monkeypatch.setenv("STANDOFF_NATIVE", "0")
    from standoff.simulate.sample import central_inputs

    compiled = load("cuba-1962")
    inputs = central_inputs(compiled.case).take(np.zeros(64, dtype=np.intp))
    engine = ExpectedUtility(threads=2).for_crisis()
    first = engine.run(inputs, 1)
    pool = engine._pool
    engine.run(inputs, 1)
    assert pool is not None and engine._pool is pool  # reused, not rebuilt per run
    copied = pickle.loads(pickle.dumps(engine))
    assert copied._pool is None and copied.dyadic == "crisis"
    again = copied.run(inputs, 1)
    assert first.dyadic is not None and again.dyadic is not None
    assert first.dyadic.offer is None and first.dyadic.taken is None
    assert np.array_equal(first.dyadic.eu_self, again.dyadic.eu_self)
    full = ExpectedUtility(threads=2).run(inputs, 1).dyadic
    assert full is not None and full.offer is not None
    for name in ("eu_self", "eu_other", "interaction", "p_win"):
        assert np.array_equal(getattr(full, name), getattr(first.dyadic, name))
