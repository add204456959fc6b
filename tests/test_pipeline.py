"""The one pipeline: the same answer whatever executes the blocks, and clear refusals."""

from __future__ import annotations

import pytest

from standoff.compile import load
from standoff.forecast import DriverOptions, run
from standoff.run import Block, LocalExecutor, blocks, run_blocks
from standoff.serialize import dumps, forecast_json

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
