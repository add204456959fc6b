"""Where blocks of work execute. The pipeline cuts its work (draws, or a sensitivity design's
points) into contiguous blocks, hands a task and the blocks to an executor, and combines the block
results in block order. A task is a picklable callable of one block, and every random number it
uses is fixed by (seed, index), never by which worker runs it or in what order; so any executor
gives the same answer as running the blocks one after another."""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")

# Progress reports: (stage, units done so far, units in all), e.g. ("simulating", 4096, 10000).
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Block:
    """The units [start, stop) of a run: draws, or design points of a sensitivity analysis."""

    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def blocks(total: int, size: int) -> list[Block]:
    """[0, total) cut into blocks of `size` units (the last one shorter).

    >>> blocks(10, 4)
    [Block(start=0, stop=4), Block(start=4, stop=8), Block(start=8, stop=10)]
    """
    if total < 1:
        raise ValueError("need at least one unit of work")
    if size < 1:
        raise ValueError("block size must be at least 1")
    return [Block(a, min(total, a + size)) for a in range(0, total, size)]


def block_size(total: int, most: int) -> int:
    """The size of the blocks a run of `total` units cuts into when a block may hold at most
    `most`: as few near-equal blocks as fit, and an even number of them where there are several,
    so that two (or four, ...) workers finish together rather than one running the last block
    alone. It depends on (total, most) alone, never on the workers: a run's blocks, and so its
    numbers, are the same on every executor.

    >>> block_size(10_000, 8192), block_size(100_000, 8192), block_size(3000, 8192)
    (5000, 7143, 3000)
    """
    if total < 1 or most < 1:
        raise ValueError("need at least one unit of work and a block size of at least 1")
    count = -(-total // most)
    if count > 1 and count % 2:
        count += 1
    return -(-total // count)


class Executor(Protocol):
    """Runs a task on each block and yields the results in block order."""

    def map(self, task: Callable[[Block], T], work: Sequence[Block]) -> Iterator[T]: ...


def cpus() -> int:
    """The CPUs this process may run on (its affinity where the system says, else the count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class LocalExecutor:
    """Blocks on this machine: one after another (workers=1, the default), on a thread pool, or on
    a process pool (processes=True; the task must then be picklable).

    A process pool is made once and serves every `map` until `close` (or the end of a `with`
    block); on Linux its workers are forked from this process, which is quick: they share what
    it has imported. `start` forks them at once: do it before this process starts any thread
    (a progress bar's), since a fork copies only the thread that forks."""

    def __init__(
        self,
        workers: int = 1,
        processes: bool = False,
        *,
        start_method: str | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.processes = processes
        # how worker processes start: None forks on Linux (quick; only before this process
        # starts threads); "forkserver" for a process that already runs threads (the web
        # server), its server importing `preload` once so that each worker starts warm
        self.start_method = start_method
        self.preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> LocalExecutor:
        """Start the worker processes now (a process pool only); returns self. Where processes
        cannot be started here, the blocks run in this process (with a warning)."""
        if self.processes and self.workers > 1 and self._pool is None:
            # fork on Linux only: macOS's system libraries are not safe to use after a fork
            linux = sys.platform.startswith("linux")
            method = self.start_method or ("fork" if linux else None)
            context = multiprocessing.get_context(method)
            if method == "forkserver" and self.preload:
                context.set_forkserver_preload(list(self.preload))
            try:
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
                # on fork, the first task starts every worker; an empty one waits for nothing
                self._pool.submit(int).result()
            except (OSError, BrokenProcessPool) as e:
                self._in_process(f"worker processes could not be started ({e})")
        return self

    def _in_process(self, why: str) -> None:
        """From now on, run the blocks in this process."""
        warnings.warn(f"{why}; the blocks run in this process", RuntimeWarning, stacklevel=3)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self.processes = False
        self.workers = 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, task: Callable[[Block], T], work: Sequence[Block]) -> Iterator[T]:
        several = len(work) > 1
        if several and self.processes:
            self.start()  # where processes cannot start, the blocks run here (workers = 1)
        if several and self._pool is not None:
            yield from self._pooled(task, work)
            return
        if self.workers == 1 or not several:
            for block in work:
                yield task(block)
            return
        with ThreadPoolExecutor(self.workers) as pool:
            yield from pool.map(task, work)

    def _pooled(self, task: Callable[[Block], T], work: Sequence[Block]) -> Iterator[T]:
        """The blocks on the process pool, results in block order. Should a worker process die
        (killed, out of memory), the blocks not yet returned run in this process; a block's
        result does not depend on where it runs, so the answer is the same."""
        assert self._pool is not None
        pending: list[Future[T] | None] = [self._pool.submit(task, block) for block in work]
        try:
            for n, future in enumerate(pending):
                assert future is not None
                try:
                    result = future.result()
                except BrokenProcessPool:
                    self._in_process("a worker process ended abruptly (killed, or out of memory?)")
                    for block in work[n:]:
                        yield task(block)
                    return
                pending[n] = None  # the result is held by the caller only
                yield result
        finally:  # a caller that stops early (a deadline, a client gone) leaves nothing queued
            for future in pending:
                if future is not None:
                    future.cancel()


def run_blocks(
    task: Callable[[Block], T],
    total: int,
    size: int,
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
    stage: str = "simulating",
) -> list[T]:
    """The one loop over blocks: run `task` on [0, total) in blocks of `size`, results in order."""
    work = blocks(total, size)
    results: list[T] = []
    done = 0
    for block, result in zip(work, (executor or LocalExecutor()).map(task, work), strict=True):
        results.append(result)
        done += block.size
        if progress is not None:
            progress(stage, done, total)
    return results


MERGE_EVERY = 64  # block results `reduce_blocks` holds before merging them into the running total


def reduce_blocks(
    task: Callable[[Block], T],
    total: int,
    size: int,
    merge: Callable[[list[T]], T],
    executor: Executor | None = None,
    progress: ProgressFn | None = None,
    stage: str = "simulating",
) -> T:
    """`run_blocks` with the results merged as they arrive: `merge` turns results of consecutive
    blocks (in block order) into the result of their union (`CrisisTally.merge`), and is applied
    every MERGE_EVERY blocks to the running total and the blocks since. The caller then holds at
    most MERGE_EVERY block results, not one per block: its memory stays flat in the draws. The
    merge must not depend on how the blocks are grouped (tests/test_dask.py checks it for
    `CrisisTally.merge`)."""
    work = blocks(total, size)
    pending: list[T] = []
    done = 0
    for block, result in zip(work, (executor or LocalExecutor()).map(task, work), strict=True):
        pending.append(result)
        if len(pending) > MERGE_EVERY:
            pending = [merge(pending)]
        done += block.size
        if progress is not None:
            progress(stage, done, total)
    return merge(pending)
