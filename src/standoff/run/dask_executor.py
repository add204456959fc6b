"""Blocks on a Dask cluster (`dask.distributed`).

One Dask task per block: the task (a picklable dataclass of `run/tasks.py`) is called on its block
on a worker, and what comes back is the block's reduced result (a `CrisisTally`, a block's
settlements, a block of design points' shares), never the raw histories. Results are yielded in
block order whatever order the workers finish in, so a run on a cluster gives exactly the result
of a run in one process. A worker that dies mid-run has its blocks rerun on another worker by
the scheduler (up to `distributed.scheduler.allowed-failures` deaths per block); as every block's
random numbers come from (seed, block), the rerun computes the same numbers.

Dask is imported here only, so the local backend never loads it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

from .executor import Block

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")


IN_FLIGHT_PER_WORKER = 4  # blocks submitted ahead per worker (and at least MIN_IN_FLIGHT)
MIN_IN_FLIGHT = 16


class DaskExecutor:
    """Runs each block as one task on the cluster `client` is connected to. Blocks are submitted
    a window at a time (IN_FLIGHT_PER_WORKER per worker connected at the start, at least
    MIN_IN_FLIGHT), so the client holds a bounded number of tasks and results however many
    blocks a run has; each finished block lets the next one in, up to two windows ahead of the
    first block not yet finished."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def window(self) -> int:
        """Blocks kept submitted at once."""
        workers = len(self.client.scheduler_info().get("workers", {}))
        return max(MIN_IN_FLIGHT, IN_FLIGHT_PER_WORKER * workers)

    def map(self, task: Callable[[Block], T], work: Sequence[Block]) -> Iterator[T]:
        from distributed import Future, as_completed

        # keys name the task type (as the dashboard shows them) and one run of it
        name = f"standoff-{type(task).__name__.lower()}-{uuid.uuid4().hex[:12]}"
        position: dict[object, int] = {}
        live: dict[int, Future] = {}

        def submit(i: int) -> Future:
            future = self.client.submit(task, work[i], key=(name, i))
            position[future.key], live[i] = i, future
            return future

        window = self.window()
        following = min(window, len(work))  # the next block to submit
        running = as_completed([submit(i) for i in range(following)])
        ready: dict[int, T] = {}
        yielded = 0  # the next block to yield
        try:
            for future in running:
                i = position.pop(future.key)
                ready[i] = future.result()
                live.pop(i).release()  # the worker may drop its copy of this block's result
                while yielded in ready:
                    yield ready.pop(yielded)
                    yielded += 1
                # a slow block (one rerun after its worker died) holds back at most 2 windows
                while following < len(work) and following - yielded < 2 * window:
                    running.add(submit(following))
                    following += 1
        finally:
            if live:  # the caller stopped early (an error, ^C): cancel the rest
                self.client.cancel(list(live.values()))
