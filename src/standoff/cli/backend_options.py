"""The `--backend`, `--scheduler` and `--workers` options that `forecast`, `sensitivity` and
`backtest` share, and the executor they make (see `backends.py`); and the `--bins` of `score` and
`ledger score`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Annotated

import typer

from ..console import fail
from ..run.backends import BackendError, make_executor
from ..run.executor import Executor

BackendOpt = Annotated[
    str,
    typer.Option(
        help="Where the blocks of draws run: local (this machine) or dask (a Dask cluster). "
        "Either gives the same result."
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="With --backend dask: join the running cluster of this scheduler (tcp://HOST:8786)."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Worker processes: with --backend dask and no --scheduler, a local Dask cluster of "
        "N; with local, a pool of N (default: one per CPU; 1 runs in this process).",
    ),
]


@contextmanager
def cli_executor(
    backend: str, scheduler: str | None, workers: int | None, blocks: int | None = None
) -> Iterator[Executor]:
    """`make_executor` for a command: a backend that cannot be used prints one `error:` line
    on stderr and exits with status 2. `blocks`: how many blocks the run has, where known (no
    more local workers than that are started)."""
    stack = ExitStack()
    try:
        executor = stack.enter_context(make_executor(backend, scheduler, workers, blocks=blocks))
    except BackendError as e:
        raise fail(str(e)) from None
    with stack:
        yield executor


def _checked_bins(value: int) -> int:
    """--bins within the calibration table's bounds (`standoff.backtest.scores.check_bins`), or
    a usage error (exit status 2)."""
    from ..backtest.scores import check_bins

    try:
        check_bins(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    return value


BinsOpt = Annotated[
    int,
    typer.Option(callback=_checked_bins, help="Bins of the calibration table (2 to 100)."),
]
