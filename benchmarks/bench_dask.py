"""Benchmark of the Dask backend against the local one: the flagship forecast (1 million draws by
default) and a full Morris run (10 trajectories x 64 replicates, the report's drivers), on this
process (local) and on a LocalCluster of 1 and of 2 single-threaded worker processes.

Reported per row: wall seconds; the ratio to a fixed numpy workload timed in the same run (the
reference of benchmarks/bench_commands.py: twenty products of an 800 x 800 matrix, here in this
process); the speed-up over local and the parallel efficiency (local seconds / (workers x
seconds)); the overhead per block (seconds over local, divided by the blocks, on 1 worker); and the
client's peak of traced memory (tracemalloc: numpy arrays included; the workers' memory is their
own). The flagship on 2 workers is also run with blocks of at most 1,024, 4,096 and 16,384 draws
(evened out, `block_size`), to choose the cluster's default block size
(`standoff.run.backends.DASK_CHUNK`); and at a quarter of the draws, to show how the client's
memory grows with the draws.

The cluster's start-up (about 1-3 s) is timed apart, not in the rows. Every result is checked to
be byte-identical to the local one.

Run: .venv/bin/python benchmarks/bench_dask.py [--draws N] [--skip-morris]
"""

from __future__ import annotations

import argparse
import pickle
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from standoff.compile import CompiledCase, load
from standoff.pipeline.forecast import DEFAULT_CHUNK, run
from standoff.pipeline.sensitivity import morris
from standoff.pipeline.tasks import TallyCrisis
from standoff.run.backends import make_executor
from standoff.run.dask_executor import DaskExecutor
from standoff.run.executor import Block, Executor, block_size, run_blocks
from standoff.serialize import drivers_json, dumps, forecast_json

SEED = 20180815


def reference() -> float:
    """Seconds of the fixed numpy workload (bench_commands.py's REFERENCE) in this process."""
    a = np.random.default_rng(0).random((800, 800))
    start = time.perf_counter()
    for _ in range(20):
        a @ a
    return time.perf_counter() - start


@dataclass
class Row:
    label: str
    workers: int  # 0: local
    blocks: int
    seconds: float
    peak_mib: float
    reference: float
    cpu: float = 0.0  # CPU seconds: this process's, plus the workers' on dask


def worker_cpu(ex: Executor | None) -> float:
    """CPU seconds the cluster's worker processes have used so far (0 locally)."""
    if not isinstance(ex, DaskExecutor):
        return 0.0
    return float(sum(ex.client.run(time.process_time).values()))


@dataclass(frozen=True)
class Echo:
    """A task that computes nothing and returns `size` bytes: the cost of a block on the cluster
    (sending the task, scheduling it, sending a result back) without its work."""

    payload: bytes
    size: int

    def __call__(self, block: Block) -> bytes:
        return bytes(self.size)


def block_overhead(ex: DaskExecutor, task_bytes: int, result_bytes: int, n: int = 200) -> float:
    """Seconds per block of `n` blocks of an Echo task with the flagship's task and result sizes."""
    echo = Echo(bytes(task_bytes), result_bytes)
    start = time.perf_counter()
    run_blocks(echo, n, 1, ex)
    return (time.perf_counter() - start) / n


def measured(
    work: Callable[[], str], ex: Executor | None = None
) -> tuple[str, float, float, float]:
    """(result text, wall seconds, the client's peak traced MiB, CPU seconds of this process and
    the workers) of one run."""
    cpu = time.process_time() + worker_cpu(ex)
    tracemalloc.start()
    start = time.perf_counter()
    text = work()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return text, seconds, peak, time.process_time() + worker_cpu(ex) - cpu


def flagship(compiled: CompiledCase, draws: int, chunk: int, ex: Executor | None) -> str:
    result = run(compiled, draws=draws, seed=SEED, chunk_size=chunk, executor=ex)
    return dumps(forecast_json(result))


def screening(compiled: CompiledCase, ex: Executor | None) -> str:
    return dumps(drivers_json(morris(compiled, 10, 64, SEED, executor=ex)))


def screening_blocks(compiled: CompiledCase) -> int:
    """Blocks of a Morris run: its design points, DRAWS_PER_BLOCK // 64 a block."""
    from standoff.pipeline.sensitivity import DRAWS_PER_BLOCK, uncertain_slots

    points = 10 * (len(uncertain_slots(compiled)) + 1)
    return -(-points // (DRAWS_PER_BLOCK // 64))


def show(title: str, rows: list[Row]) -> None:
    local = next(r for r in rows if r.workers == 0)
    print(f"\n{title}")
    print(
        f"{'run':<36} {'blocks':>6} {'seconds':>8} {'x ref':>6} {'speed-up':>8} "
        f"{'efficiency':>10} {'CPU s':>7} {'client MiB':>10}"
    )
    for r in rows:
        speed = local.seconds / r.seconds
        eff = speed / r.workers if r.workers else 1.0
        print(
            f"{r.label:<36} {r.blocks:>6} {r.seconds:>8.1f} {r.seconds / r.reference:>6.0f} "
            f"{speed:>8.2f} {eff:>10.0%} {r.cpu:>7.1f} {r.peak_mib:>10.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--skip-morris", action="store_true")
    args = parser.parse_args()
    compiled = load("us-dprk-2018")
    draws = args.draws
    flagship(compiled, 2000, DEFAULT_CHUNK, None)  # compile the kernels before timing
    morris(compiled, 2, 4, SEED)
    task_bytes = len(pickle.dumps(TallyCrisis(compiled, SEED)))
    result_bytes = len(pickle.dumps(TallyCrisis(compiled, SEED)(Block(0, DEFAULT_CHUNK))))

    def blocks(chunk: int) -> int:  # the run's blocks, evened out (`block_size`)
        return -(-draws // block_size(draws, chunk))

    rows: list[Row] = []
    expected, seconds, peak, cpu = measured(lambda: flagship(compiled, draws, DEFAULT_CHUNK, None))
    rows.append(Row("local", 0, blocks(DEFAULT_CHUNK), seconds, peak, reference(), cpu))
    screen_rows: list[Row] = []
    screen_expected = ""
    screen_blocks = screening_blocks(compiled)
    if not args.skip_morris:
        screen_expected, seconds, peak, cpu = measured(lambda: screening(compiled, None))
        screen_rows.append(Row("local", 0, screen_blocks, seconds, peak, reference(), cpu))
    for workers in (1, 2):
        start = time.perf_counter()
        with make_executor("dask", workers=workers) as ex:
            assert isinstance(ex, DaskExecutor)
            print(f"LocalCluster of {workers}: started in {time.perf_counter() - start:.1f} s")
            flagship(compiled, 2 * workers * 1024, 1024, ex)  # the workers compile their kernels
            morris(compiled, 2, 4, SEED, executor=ex)
            overhead = block_overhead(ex, task_bytes, result_bytes)
            print(
                f"  overhead per block ({task_bytes / 1e3:.0f} kB task, "
                f"{result_bytes / 1e3:.0f} kB result, no work): {1000 * overhead:.1f} ms"
            )
            chunks = (DEFAULT_CHUNK,) if workers == 1 else (1024, 4096, DEFAULT_CHUNK, 16384)
            for chunk in chunks:
                text, seconds, peak, cpu = measured(
                    lambda c=chunk: flagship(compiled, draws, c, ex), ex
                )
                assert text == expected, "the dask result differs from the local one"
                label = f"dask, {workers} worker(s), blocks <= {chunk:,}"
                rows.append(Row(label, workers, blocks(chunk), seconds, peak, reference(), cpu))
            if workers == 2:
                quarter = draws // 4
                _, seconds, peak, cpu = measured(
                    lambda q=quarter: flagship(compiled, q, DEFAULT_CHUNK, ex), ex
                )
                full = next(r for r in rows if r.workers == 2 and r.blocks == blocks(DEFAULT_CHUNK))
                print(
                    f"  client peak on 2 workers: {peak:.1f} MiB at {quarter:,} draws, "
                    f"{full.peak_mib:.1f} MiB at {draws:,}"
                )
            if not args.skip_morris:
                text, seconds, peak, cpu = measured(lambda: screening(compiled, ex), ex)
                assert text == screen_expected, "the dask drivers differ from the local ones"
                label = f"dask, {workers} worker(s)"
                screen_rows.append(
                    Row(label, workers, screen_blocks, seconds, peak, reference(), cpu)
                )
    show(f"Flagship forecast, {draws:,} draws (us-dprk-2018)", rows)
    if screen_rows:
        show("Morris, 10 trajectories x 64 replicates (us-dprk-2018)", screen_rows)


if __name__ == "__main__":
    main()
