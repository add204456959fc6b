"""The local backend's default: one worker process per CPU (or per block, where fewer), forked
before the command starts its progress bar; the answer is the one process's, byte for byte."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.run import Block, LocalExecutor
from standoff.run.backends import make_executor
from standoff.run.executor import cpus


def _pid(block: Block) -> int:
    return os.getpid()


def test_one_block_runs_in_this_process() -> None:
    with make_executor("local", blocks=1) as executor:
        assert isinstance(executor, LocalExecutor)
        assert executor.workers == 1
        assert list(executor.map(_pid, [Block(0, 5)])) == [os.getpid()]


def test_default_is_a_worker_per_cpu_or_per_block() -> None:
    with make_executor("local", blocks=8) as executor:
        assert isinstance(executor, LocalExecutor)
        assert executor.workers == min(cpus(), 8)
        assert executor.processes == (executor.workers > 1)
    with make_executor("local", blocks=None) as executor:
        assert isinstance(executor, LocalExecutor) and executor.workers == cpus()


def test_worker_processes_start_at_once_and_serve_every_run() -> None:
    with make_executor("local", workers=2, blocks=8) as executor:
        assert isinstance(executor, LocalExecutor)
        assert executor._pool is not None  # started before any block was handed out
        work = [Block(a, a + 1) for a in range(8)]
        pids = list(executor.map(_pid, work))
        again = list(executor.map(_pid, work))  # the same pool serves a second run
    assert os.getpid() not in pids
    assert len(set(pids) | set(again)) <= 2  # no new processes for the second run
    assert executor._pool is None  # closed with the `with` block


def test_workers_one_is_this_process() -> None:
    with make_executor("local", workers=1, blocks=8) as executor:
        assert list(executor.map(_pid, [Block(0, 1), Block(1, 2)])) == [os.getpid()] * 2


def test_default_backend_gives_the_one_process_answer(tmp_path) -> None:
    runner = CliRunner()
    paths = {}
    for name, extra in (("default", []), ("alone", ["--workers", "1"])):
        paths[name] = tmp_path / f"{name}.json"
        result = runner.invoke(
            app,
            ["forecast", "cuba-1962", "--draws", "900", "--chunk-size", "200",
             "--json", str(paths[name]), *extra],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    assert paths["default"].read_bytes() == paths["alone"].read_bytes()


@dataclass(frozen=True)
class DiesInAWorker:
    """A task whose block 3 kills the worker process that runs it (never the main process)."""

    main: int

    def __call__(self, block: Block) -> int:
        if block.start == 3 and os.getpid() != self.main:
            os.kill(os.getpid(), signal.SIGKILL)
        return block.start * 10


def test_a_dead_worker_leaves_its_blocks_to_this_process() -> None:
    work = [Block(a, a + 1) for a in range(8)]
    with make_executor("local", workers=2) as executor:
        with pytest.warns(RuntimeWarning, match="ended abruptly"):
            results = list(executor.map(DiesInAWorker(os.getpid()), work))
        assert results == [b.start * 10 for b in work]
        # later runs stay in this process
        assert list(executor.map(_pid, work[:2])) == [os.getpid()] * 2


def test_forecast_survives_a_killed_worker(tmp_path, monkeypatch) -> None:
    """A worker killed in the middle of a forecast: the remaining blocks run in this process,
    the answer is the same, and the warning is one plain line."""
    from standoff.pipeline import tasks

    main = os.getpid()
    original = tasks.TallyCrisis.__call__

    def dying(self, block):
        if block.start == 400 and os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, block)

    monkeypatch.setattr(tasks.TallyCrisis, "__call__", dying)
    runner = CliRunner()
    paths = {}
    for name, extra in (("killed", ["--workers", "2"]), ("alone", ["--workers", "1"])):
        paths[name] = tmp_path / f"{name}.json"
        args = ["forecast", "cuba-1962", "--draws", "1200", "--chunk-size", "200",
                "--json", str(paths[name]), *extra]  # fmt: skip
        if name == "killed":
            with pytest.warns(RuntimeWarning, match="ended abruptly"):
                result = runner.invoke(app, args)
        else:
            result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert paths["killed"].read_bytes() == paths["alone"].read_bytes()


def test_warnings_print_as_one_plain_line() -> None:
    code = (
        "import warnings\n"
        "from standoff.console import plain_warnings\n"
        "plain_warnings()\n"
        "warnings.warn('a worker process ended abruptly', RuntimeWarning)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "warning: a worker process ended abruptly"
