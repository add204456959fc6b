"""The backend a command runs its blocks on, from its `--backend`, `--scheduler` and `--workers`.

    with make_executor("dask", workers=2) as executor:
        forecast.run(compiled, draws=..., executor=executor)

- `local` (the default): worker processes on this machine, one per CPU (`workers` N: N of them;
  1: this process alone, one block after another).
- `dask`: a Dask cluster. With `scheduler` (`tcp://HOST:8786`, or `tls://HOST:8786` with dask's
  TLS settings) the run joins a running cluster (`dask scheduler` and `dask worker ADDRESS`, or
  dask's Kubernetes and batch-system packages); without it, a `LocalCluster` of `workers`
  single-threaded worker processes on this machine is started for the run and closed after it.
  Joining is bounded: a scheduler that has not completed the handshake within CONNECT_TIMEOUT
  seconds (a port that accepts and never answers included), a message over
  `dask_executor.MAX_FRAME_BYTES`, an address of another scheme, or TLS without its settings
  is a BackendError that says which.

Every backend gives the same result, byte for byte (see `run/executor.py`).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from .executor import Executor, LocalExecutor, cpus

BACKENDS = ("local", "dask")
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up
# The schemes of a scheduler's address a run can join (an address without one is tcp://, as
# dask takes it). Dask's others need what standoff does not install (ucx://: UCX-Py) or do not
# reach a scheduler across machines (inproc://).
SCHEMES = ("tcp", "tls")
# dask's settings of a TLS client (also DASK_DISTRIBUTED__COMM__TLS__CA_FILE and so on)
TLS_SETTINGS = (
    "distributed.comm.tls.ca-file",
    "distributed.comm.tls.client.cert",
    "distributed.comm.tls.client.key",
)
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
    if scheduler is not None:
        scheme(scheduler)


def scheme(scheduler: str) -> str:
    """The scheme of a scheduler's address (`tcp` when it has none), after checking that the
    address is SCHEME://HOST:PORT with a scheme of SCHEMES; BackendError when not."""
    named, sep, rest = scheduler.strip().partition("://")
    name, rest = (named.lower(), rest) if sep else ("tcp", scheduler.strip())
    if name not in SCHEMES:
        raise BackendError(
            f"--scheduler {scheduler}: the scheme {name}:// is not supported; give "
            "tcp://HOST:PORT, or tls://HOST:PORT with dask's TLS settings (docs/scale.md)"
        )
    try:
        parts = urlsplit(f"{name}://{rest}")
        port = parts.port
    except ValueError as e:
        raise BackendError(f"--scheduler {scheduler}: not an address ({e})") from None
    if (
        not parts.hostname
        or port is None
        or port == 0
        or parts.username is not None
        or (parts.path or parts.query or parts.fragment)
    ):
        raise BackendError(f"--scheduler {scheduler}: give the scheduler as {name}://HOST:PORT")
    return name


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

    from .dask_executor import FrameTooLarge, limit_frames

    limit_frames()
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
    security = _tls(scheduler) if scheme(scheduler) == "tls" else None
    try:
        return _bounded_client()(scheduler, timeout=timeout, security=security), None
    except FrameTooLarge as e:
        raise BackendError(f"--scheduler {scheduler}: not a Dask scheduler: {e}") from None
    except (OSError, TimeoutError) as e:
        why = "" if isinstance(e, TimeoutError) else f" ({e})"  # a timeout says only the time
        raise BackendError(
            f"--scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s{why}; "
            "start one with `dask scheduler` and workers with `dask worker ADDRESS`, or check "
            "the address"
        ) from None
    except Exception as e:  # whatever else a peer that is not a Dask scheduler makes it raise
        raise BackendError(
            f"--scheduler {scheduler}: could not join the cluster ({type(e).__name__}: {e})"
        ) from None


def _tls(scheduler: str) -> Any:
    """The client's TLS settings from dask's configuration (TLS_SETTINGS), or BackendError
    naming what is missing or cannot be loaded."""
    from distributed.security import Security

    try:
        security = Security()
        context = security.get_connection_args("client")["ssl_context"]
    except (OSError, ValueError) as e:  # a file missing or unreadable, a key that does not fit
        raise BackendError(f"--scheduler {scheduler}: dask's TLS settings: {e}") from None
    if context is None:
        raise BackendError(
            f"--scheduler {scheduler}: tls:// needs dask's TLS settings for a client: "
            f"{', '.join(TLS_SETTINGS)} (the key may be in the cert file), in dask's "
            "configuration or as DASK_DISTRIBUTED__COMM__TLS__CA_FILE and so on"
        )
    return security


@functools.cache
def _bounded_client() -> type:
    from distributed import Client

    class BoundedClient(Client):
        """A client whose whole start (connection, handshake, first messages) ends within its
        `timeout`: distributed bounds only the connection itself, so a port that accepts and
        never answers would hold a plain Client for ever. A start that fails closes the
        client, so nothing of it is left running."""

        def start(self, **kwargs: Any) -> None:
            try:
                super().start(callback_timeout=kwargs.get("timeout"), **kwargs)
            except BaseException:
                self.close(timeout=1)
                raise

    return BoundedClient
