"""The Dask backend gives the local backend's answer, byte for byte: forecasts of every built-in
case and of a plain bargaining table, sensitivity, backtest predictions; with 1 and 2 workers,
any block size, and a worker killed mid-run. A scheduler that cannot be reached is one clear
error line and exit status 2. Every cluster here listens on the loopback address only."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.case import builtin_cases
from standoff.cli import app
from standoff.compile import CompiledCase, load
from standoff.pipeline.forecast import run
from standoff.pipeline.sensitivity import morris
from standoff.run import backends
from standoff.run.backends import BackendError, make_executor
from standoff.run.dask_executor import DaskExecutor
from standoff.run.executor import Block, Executor
from standoff.serialize import drivers_json, dumps, forecast_json

from .conftest import shared

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
CASES = sorted(builtin_cases())
DRAWS = 120
SEED = 5


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Executor]:
    with make_executor("dask", workers=1) as executor:
        yield executor


@pytest.fixture(scope="module")
def two_workers() -> Iterator[Executor]:
    with make_executor("dask", workers=2) as executor:
        yield executor


def _json(compiled: CompiledCase, executor: Executor | None = None, chunk: int = 4096) -> str:
    result = run(compiled, draws=DRAWS, seed=SEED, chunk_size=chunk, executor=executor)
    return dumps(forecast_json(result))


@pytest.mark.parametrize("case", CASES)
def test_every_builtin_case_is_byte_identical_on_dask(
    case: str, one_worker: Executor, two_workers: Executor
) -> None:
    """Blocks of 7 and 50 draws (cutting the groups of replicates and the sampling blocks), on
    one and on two workers, give the local run's JSON."""
    compiled = load(case)
    local = _json(compiled)
    assert _json(compiled, one_worker, chunk=50) == local
    assert _json(compiled, two_workers, chunk=7) == local


@pytest.mark.parametrize("case", CASES)
def test_conditioned_forecast_is_byte_identical_on_dask(case: str, two_workers: Executor) -> None:
    """A forecast conditioned on the case's observations (cases/observations/) and its drivers."""
    from standoff.compile.observed import read_observations

    seen = read_observations(REPO / "cases" / "observations" / f"{case}.yaml")
    compiled = load(case)

    def conditioned(executor: Executor | None, chunk: int) -> str:
        result = run(compiled, draws=400, seed=SEED, chunk_size=chunk, executor=executor,
                     observed=seen, min_effective=1)  # fmt: skip
        drivers = morris(compiled, 2, 8, SEED, executor=executor, observed=seen)
        return dumps(forecast_json(result)) + dumps(drivers_json(drivers))

    assert conditioned(two_workers, 33) == conditioned(None, 4096)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("conditioned", [False, True])
def test_tallies_merged_as_they_arrive_are_the_tallies_merged_at_the_end(
    case: str, conditioned: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reduce_blocks` (flat memory) gives `CrisisTally.merge` of every block, byte for byte."""
    import pickle

    from standoff.compile.observed import compile_observations, read_observations
    from standoff.pipeline.tasks import TallyCrisis
    from standoff.run import executor as blocks_module
    from standoff.simulate.histories import CrisisTally

    compiled = load(case)
    observed = None
    if conditioned:
        seen = read_observations(REPO / "cases" / "observations" / f"{case}.yaml")
        assert compiled.crisis is not None and compiled.case.as_of is not None
        observed = compile_observations(seen, compiled.crisis, compiled.case.as_of)
    task = TallyCrisis(compiled, SEED, observed=observed)
    at_end = CrisisTally.merge(blocks_module.run_blocks(task, 230, 33))
    monkeypatch.setattr(blocks_module, "MERGE_EVERY", 2)
    arriving = blocks_module.reduce_blocks(task, 230, 33, CrisisTally.merge)
    assert pickle.dumps(arriving) == pickle.dumps(at_end)


def test_plain_bargaining_table_is_byte_identical_on_dask(two_workers: Executor) -> None:
    compiled = load(shared("ktab", "SOE-Pol-Comp.csv"))
    local = dumps(forecast_json(run(compiled, draws=300, seed=SEED)))
    on_dask = run(compiled, draws=300, seed=SEED, chunk_size=32, executor=two_workers)
    assert dumps(forecast_json(on_dask)) == local


def test_sensitivity_is_byte_identical_on_dask(two_workers: Executor) -> None:
    compiled = load("us-dprk-2018")
    local = morris(compiled, trajectories=2, replicates=4, seed=SEED)
    on_dask = morris(compiled, trajectories=2, replicates=4, seed=SEED, executor=two_workers)
    assert dumps(drivers_json(on_dask)) == dumps(drivers_json(local))


@pytest.mark.parametrize("model", ["compromise", "median", "eum", "smp"])
def test_backtest_predictions_identical_on_dask(
    model: str, two_workers: Executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issues of several actor counts, in blocks of 2 issues on the cluster, one batch locally."""
    from standoff.backtest import models

    rng = np.random.default_rng(0)
    per_issue = [
        models.IssueInputs(rng.uniform(1, 10, n), rng.uniform(0, 100, n), rng.uniform(0.1, 1, n))
        for n in (3, 5, 3, 4, 0, 5, 3)
    ]
    local = models.run_engine(model, per_issue, draws=6, seed=SEED)
    monkeypatch.setattr(models, "ISSUES_PER_BLOCK", 2)
    on_dask = models.run_engine(model, per_issue, draws=6, seed=SEED, executor=two_workers)
    assert on_dask.tobytes() == local.tobytes()


def test_a_narrow_window_of_blocks_gives_the_same_forecast(
    two_workers: Executor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One block in flight per worker: blocks go in as others finish, the result is the same."""
    from standoff.run import dask_executor

    monkeypatch.setattr(dask_executor, "MIN_IN_FLIGHT", 1)
    monkeypatch.setattr(dask_executor, "IN_FLIGHT_PER_WORKER", 1)
    compiled = load("us-dprk-2018")
    assert _json(compiled, two_workers, chunk=9) == _json(compiled)


def test_progress_reports_every_block_in_order(two_workers: Executor) -> None:
    seen: list[tuple[str, int, int]] = []
    run(load("us-dprk-2018"), draws=60, seed=SEED, chunk_size=10, executor=two_workers,
        progress=lambda *a: seen.append(a))  # fmt: skip
    assert seen == [("simulating", n, 60) for n in (10, 20, 30, 40, 50, 60)]


def test_cli_forecast_on_a_local_dask_cluster(tmp_path: Any) -> None:
    local, dask = tmp_path / "local.json", tmp_path / "dask.json"
    common = ["forecast", "us-dprk-2018", "--draws", "60", "--seed", "3"]
    assert runner.invoke(app, [*common, "--json", str(local)]).exit_code == 0
    result = runner.invoke(
        app, [*common, "--json", str(dask), "--backend", "dask", "--workers", "1",
              "--chunk-size", "25"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert dask.read_bytes() == local.read_bytes()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{_closed_port()}"
    start = time.perf_counter()
    result = runner.invoke(
        app, ["forecast", "--draws", "10", "--backend", "dask", "--scheduler", address]
    )
    assert time.perf_counter() - start < 15
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: --scheduler {address}: no Dask")
    assert "dask scheduler" in lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --backend dask"),
        (["--backend", "spark"], "--backend 'spark': choose from local, dask"),
        (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"],
         "give one of them"),
    ],
)  # fmt: skip
def test_backend_options_that_do_not_go_together(args: list[str], says: str) -> None:
    for command in (["forecast", "--draws", "10"], ["sensitivity"]):
        result = runner.invoke(app, [*command, *args])
        assert result.exit_code == 2, result.output
        assert says in result.stderr and "Traceback" not in result.output


@dataclass(frozen=True)
class FailsAt:
    """A task whose block `bad` raises, as a case's formula out of range does."""

    bad: int

    def __call__(self, block: Block) -> int:
        if block.start == self.bad:
            raise ValueError(f"block {block.start} is out of range")
        return block.start


def test_an_error_in_a_block_reaches_the_caller_as_itself(two_workers: Executor) -> None:
    from standoff.run.executor import run_blocks

    with pytest.raises(ValueError, match="block 3 is out of range"):
        run_blocks(FailsAt(3), 10, 1, two_workers)
    assert run_blocks(FailsAt(-1), 10, 3, two_workers) == [0, 3, 6, 9]  # still usable after


def test_the_cluster_block_size_is_the_forecast_default() -> None:
    from standoff import cli
    from standoff.pipeline import forecast

    assert backends.DASK_CHUNK == forecast.DEFAULT_CHUNK == cli.DEFAULT_CHUNK


def test_make_executor_refuses_before_starting_anything() -> None:
    with pytest.raises(BackendError, match="--workers 0"), make_executor("dask", workers=0):
        pass


@dataclass(frozen=True)
class Slowly:
    """A task that takes at least `delay` seconds a block (time to kill a worker mid-run)."""

    task: Any
    delay: float

    def __call__(self, block: Block) -> Any:
        time.sleep(self.delay)
        return self.task(block)


def test_a_worker_killed_mid_run_has_its_blocks_rerun_with_the_same_result() -> None:
    """Two workers; once the first blocks are done, the process of a worker that is running a
    block is killed (SIGKILL); the scheduler reruns its blocks elsewhere; the forecast is the
    local one, byte for byte."""
    from standoff.pipeline.tasks import TallyCrisis

    compiled = load("us-dprk-2018")
    local = _json(compiled, chunk=10)
    with make_executor("dask", workers=2) as executor:
        assert isinstance(executor, DaskExecutor)
        client = executor.client

        class SlowRun:
            """The forecast's blocks, each slowed down (the tasks are the forecast's own)."""

            def map(self, task: Any, work: Any) -> Any:
                assert isinstance(task, TallyCrisis)
                return executor.map(Slowly(task, 0.3), work)

        out: dict[str, str] = {}
        runner_thread = threading.Thread(
            target=lambda: out.setdefault("json", _json(compiled, SlowRun(), chunk=10))
        )
        runner_thread.start()
        victim = None
        deadline = time.monotonic() + 30
        while victim is None and time.monotonic() < deadline:
            busy = {w: ks for w, ks in client.processing().items() if ks}
            if busy:
                victim = next(iter(busy))
            else:
                time.sleep(0.05)
        assert victim is not None, "no block started on any worker"
        pids = client.run(os.getpid, workers=[victim])
        os.kill(pids[victim], signal.SIGKILL)
        runner_thread.join(timeout=60)
        assert not runner_thread.is_alive()
        assert victim not in client.scheduler_info()["workers"]  # the worker did die
    assert out["json"] == local
