"""The backend a command runs its blocks on, from its `--backend`, `--scheduler` and `--workers`.

    with make_executor("dask", workers=2) as executor:
        forecast.run(compiled, draws=..., executor=executor)

- `local` (the default): worker processes on this machine, one per CPU (`workers` N: N of them;
  1: this process alone, one block after another).
- `dask`: a Dask cluster. With `scheduler` (`tcp://HOST:8786`) the run joins a running cluster
  (`dask scheduler` and `dask worker ADDRESS`, or dask's Kubernetes and batch-system packages);
  without it, a `LocalCluster` of `workers` single-threaded worker processes on this machine is
  started for the run and closed after it.

Every backend gives the same result, byte for byte (see `run/executor.py`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .executor import Executor, LocalExecutor, cpus

BACKENDS = ("local", "dask")
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up
# Draws per block on a Dask cluster at most (the forecast's default `--chunk-size`, the same as
# local; `executor.block_size` evens the blocks out): a block's overhead on the cluster (sending
# the task, scheduling, sending the result back) measured 7-18 ms against about 1 s of work for
# 4,096 flagship draws; blocks of 1,024 ran 35-70% slower, blocks of 16,384 at most 3% faster.
# See docs/scale.md.
DASK_CHUNK = 8192


class BackendError(ValueError):
    """A backend that cannot be used as asked (an unknown name, options that do not go together,
    a scheduler that cannot be reached); the message says which and what to do."""


def _check(backend: str, scheduler: str | None, workers: int | None) -> None:
    if backend not in BACKENDS:
        raise BackendError(f"--backend {backend!r}: choose from {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise BackendError(f"--workers {workers}: at least 1")
    if backend == "local" and scheduler is not None:
        raise BackendError("--scheduler needs --backend dask")
    if scheduler is not None and workers is not None:
        raise BackendError(
            "--scheduler joins a running cluster (its own workers) and --workers starts a local "
            "one: give one of them"
        )


@contextmanager
def make_executor(
    backend: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    blocks: int | None = None,
) -> Iterator[Executor]:
    """The executor of a backend, open for the `with` block; what it started (a local cluster,
    a connection, local worker processes) is closed after it. BackendError when the options do
    not go together or the scheduler cannot be reached within `timeout` seconds
    (CONNECT_TIMEOUT).

    Local without `workers`: one worker process per CPU, or per block where the caller says
    the run has fewer `blocks` (one block runs in this process)."""
    _check(backend, scheduler, workers)
    if backend == "local":
        n = workers if workers is not None else min(cpus(), blocks or cpus())
        with LocalExecutor(n, processes=n > 1) as local:
            # the workers are forked now, before the command starts a thread (its progress bar)
            yield local.start()
        return
    from .dask_executor import DaskExecutor

    client, cluster = _connect(scheduler, workers, CONNECT_TIMEOUT if timeout is None else timeout)
    try:
        yield DaskExecutor(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(scheduler: str | None, workers: int | None, timeout: float) -> tuple[Any, Any]:
    """A client of the scheduler at `scheduler`, or of a new LocalCluster; (client, cluster)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        n = workers or os.cpu_count() or 1
        try:
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,  # the engines are vectorized: one block, one core
                processes=True,
                host="127.0.0.1",
                # the scheduler's web server (health, metrics) on a free loopback port; no
                # dashboard (it would need bokeh)
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
            )
        except Exception as e:  # e.g. no processes can be started here
            raise BackendError(
                f"--workers {n}: a local Dask cluster could not start ({e})"
            ) from None
        try:
            return Client(cluster, timeout=timeout), cluster
        except BaseException:
            cluster.close()
            raise
    try:
        return Client(scheduler, timeout=timeout), None
    except (OSError, TimeoutError, ValueError) as e:
        raise BackendError(
            f"--scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s ({e}); "
            "start one with `dask scheduler` and workers with `dask worker ADDRESS`, or check "
            "the address"
        ) from None
