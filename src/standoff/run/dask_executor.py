"""Blocks on a Dask cluster (`dask.distributed`).

One Dask task per block: the task (a picklable dataclass of `pipeline/tasks.py`) is called on its
block on a worker, and what comes back is the block's reduced result (a `CrisisTally`, a block's
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
from typing import TYPE_CHECKING, Any, TypeVar

from .executor import Block

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")


IN_FLIGHT_PER_WORKER = 4  # blocks submitted ahead per worker (and at least MIN_IN_FLIGHT)
MIN_IN_FLIGHT = 16
# The largest message this process reads from a Dask peer: far above what a scheduler or a
# block's result sends (a flagship block's result is about 0.2 MB), far below what would exhaust
# the machine's memory.
MAX_FRAME_BYTES = 2**30


class FrameTooLarge(OSError):
    """A Dask peer announced a message larger than MAX_FRAME_BYTES; refused before any memory is
    set aside for it (the connection is dropped)."""

    def __init__(self, nbytes: int) -> None:
        from dask.utils import format_bytes

        super().__init__(
            f"the peer announced a message of {nbytes:,} bytes ({format_bytes(nbytes)}), more "
            f"than the {format_bytes(MAX_FRAME_BYTES)} this client accepts"
        )
        self.nbytes = nbytes


def limit_frames() -> None:
    """Make this process's Dask connections (tcp:// and tls://) refuse a message longer than
    MAX_FRAME_BYTES with FrameTooLarge. distributed reads a message's announced length and
    allocates that much at once (a peer announcing 2^62 bytes asks for 4 EiB); no setting of its
    own bounds what it reads (`distributed.comm.shard` bounds only the pieces a sender cuts
    large buffers into). Every read of a message's body goes through
    `distributed.comm.tcp.read_bytes_rw`, so the bound is checked there; done once a process."""
    from distributed.comm import tcp

    unbounded = tcp.read_bytes_rw
    if getattr(unbounded, "standoff_bounded", False):
        return

    async def bounded(stream: Any, n: int) -> memoryview:
        if n > MAX_FRAME_BYTES:
            raise FrameTooLarge(n)
        return await unbounded(stream, n)

    bounded.standoff_bounded = True  # type: ignore[attr-defined]
    tcp.read_bytes_rw = bounded


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
