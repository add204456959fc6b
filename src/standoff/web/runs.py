"""Forecasts run for the web workspace: bounded in draws and time, and full runs as jobs whose
progress a page can poll.

A run's time is bounded by its progress callback: after each block of draws it checks the
deadline and stops the run with `RunTimeout` once it has passed, and checks its cancel flag
(set when the client that asked has gone) and stops it with `RunCancelled`. The numbers of a
finished run do not depend on the block size (`docs/architecture.md`, "One seed, one answer"),
so the small blocks used here change nothing but how often these are checked.

Heavy work (forecasts, what-ifs, knobs) runs in `Work`, a pool of a few threads of its own with
a short queue, so it never takes the threads that answer the light requests (the case list, a
case's text, the pages); when the pool and its queue are full, more work is refused at once
(`RunBusy`, 503 with `Retry-After`) rather than waited for. Full runs have their own pool
(`Jobs`).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ..compile import CompiledCase
from ..defaults import DEFAULT_REPLICATES, DEFAULT_TRAJECTORIES
from ..errors import CaseError, Problem
from ..result import ForecastResult
from ..run.executor import LocalExecutor

if TYPE_CHECKING:
    from ..service import ForecastOutcome, ForecastRequest

START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
DEADLINE_CHUNK = 1024  # block size of runs with a deadline: the deadline is checked per block


class RunTimeout(Exception):
    """A run passed its time limit and was stopped."""


class RunBusy(Exception):
    """Too much work is queued or running; `retry_after`: the seconds to wait before asking
    again."""

    def __init__(self, message: str, retry_after: int = 2):
        self.retry_after = retry_after
        super().__init__(message)


class RunCancelled(Exception):
    """The run's client has gone, so the run was stopped."""


class RunRefused(ValueError):
    """A run that would not fit in this machine's memory (the message says which number to
    lower)."""


@dataclass(frozen=True)
class Limits:
    """The bounds of the workspace. draws: the most draws of a forecast (`/api/forecast`, the Run
    page); whatif_draws: of a what-if; seconds, whatif_seconds: how long each may run; body: the
    largest request body in bytes; workers, queue: the threads of the pool of heavy work
    (forecasts, what-ifs, knobs) and how many more may wait for one; ledger_seconds: how long a
    request waits for the ledger; processes: the worker processes kept warm for the draws of runs
    of more than one block (`Processes`; 1: the draws run in the server's own process)."""

    draws: int = 200_000
    whatif_draws: int = 20_000
    seconds: float = 300.0
    whatif_seconds: float = 30.0
    body: int = 2_000_000
    trajectories: int = DEFAULT_TRAJECTORIES  # the drivers of a full run, as the command's
    replicates: int = DEFAULT_REPLICATES
    jobs: int = 2  # full runs at the same time
    waiting: int = 6  # full runs queued or running at once; more are refused
    kept_jobs: int = 20  # finished runs kept in memory for their reports
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    queue: int = 8
    # worker processes kept warm for the draws of forecasts and what-ifs (1: in the server's
    # own process)
    processes: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    ledger_seconds: float = 5.0


class _Deadline:
    """A progress callback that stops the run once `seconds` have passed or `cancel` is set,
    and passes progress on to `then`."""

    def __init__(self, seconds: float, then: Any = None, cancel: threading.Event | None = None):
        self.until = time.monotonic() + seconds
        self.seconds = seconds
        self.then = then
        self.cancel = cancel

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.then is not None:
            self.then(stage, done, total)
        if self.cancel is not None and self.cancel.is_set():
            raise RunCancelled("the client has gone; the run was stopped")
        if time.monotonic() > self.until and done < total:
            raise RunTimeout(
                f"the run took longer than {self.seconds:g} s and was stopped; ask for fewer draws"
            )


def forecast(
    compiled: CompiledCase,
    draws: int,
    seed: int,
    seconds: float,
    *,
    progress: Any = None,
    cancel: threading.Event | None = None,
    executor: LocalExecutor | None = None,
) -> ForecastResult:
    """`standoff forecast CASE --draws N --seed S` on a compiled case (the command's defaults),
    stopped with RunTimeout after `seconds`, or RunCancelled once `cancel` is set; its blocks on
    `executor` where given (`Processes`)."""
    request = _request(compiled, draws, seed)
    return run_request(request, seconds, progress=progress, cancel=cancel,
                       executor=executor).result  # fmt: skip


def _request(
    compiled: CompiledCase,
    draws: int,
    seed: int,
    *,
    full: Limits | None = None,
    reproduce: str | None = None,
) -> ForecastRequest:
    """The command's request on a compiled case, in blocks small enough to stop at a deadline;
    with `full`, a full run: the report too, its drivers screened as those limits say."""
    from ..service import ForecastRequest

    drivers = full or Limits()
    return ForecastRequest(
        compiled, draws=draws, seed=seed, chunk_size=DEADLINE_CHUNK, report=full is not None,
        trajectories=drivers.trajectories, replicates=drivers.replicates, reproduce=reproduce,
    )  # fmt: skip


def run_request(
    request: ForecastRequest,
    seconds: float,
    *,
    progress: Any = None,
    cancel: threading.Event | None = None,
    executor: LocalExecutor | None = None,
) -> ForecastOutcome:
    """The service's forecast of a request, refused (RunRefused) where it cannot fit in memory,
    stopped with RunTimeout after `seconds`, or RunCancelled once `cancel` is set."""
    from ..pipeline.memory import TooBig
    from ..service import check
    from ..service import forecast as run_forecast

    try:
        check(request)
    except TooBig as e:
        raise RunRefused(str(e)) from None
    if cancel is not None and cancel.is_set():
        raise RunCancelled("the client has gone; the run was not started")
    return run_forecast(request, executor=executor, progress=_Deadline(seconds, progress, cancel))


T = TypeVar("T")


class Work:
    """Heavy work in `workers` threads of its own; at most `queue` more wait for a thread, and
    work beyond that is refused at once (RunBusy). Each piece gets a cancel flag, set when its
    client has gone; work that has not started by then is dropped, and a run stops after its
    current block of draws."""

    def __init__(self, workers: int, queue: int):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="standoff-work")
        self.most = workers + queue
        self.pending = 0  # queued or running
        self.lock = threading.Lock()

    def submit(self, work: Callable[..., T], *args: Any) -> tuple[Future[T], threading.Event]:
        """Start `work(*args, cancel=FLAG)`; its future and its cancel flag. Raises RunBusy when
        `workers + queue` pieces are already queued or running."""
        with self.lock:
            if self.pending >= self.most:
                raise RunBusy(
                    f"the server is busy: {self.pending} forecasts or what-ifs are running or "
                    "waiting; try again in a few seconds",
                    retry_after=1,
                )
            self.pending += 1
        cancel = threading.Event()

        def run() -> T:
            if cancel.is_set():
                raise RunCancelled("the client has gone; the work was not started")
            return work(*args, cancel=cancel)

        try:
            future = self.pool.submit(run)
        except RuntimeError:  # the pool has shut down
            with self.lock:
                self.pending -= 1
            raise RunBusy("the server is shutting down", retry_after=10) from None
        future.add_done_callback(self._finished)
        return future, cancel

    def _finished(self, _: Future[Any]) -> None:
        with self.lock:
            self.pending -= 1

    def close(self) -> None:
        """Stop taking work; queued work is dropped."""
        self.pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class Job:
    """A full run with its report. state: queued, running, done or failed; stage, done, total:
    the latest progress; problems: what failed, at its line; message: a failure without a line."""

    id: str
    case_id: str
    draws: int
    seed: int
    text: str = ""  # the case's YAML text, whose hash a recorded run keeps
    state: str = "queued"
    stage: str = ""
    done: int = 0
    total: int = 0
    problems: list[Problem] = field(default_factory=list)
    message: str = ""
    result: ForecastResult | None = None
    report_html: str = ""
    report_md: str = ""
    figures: dict[str, str] = field(default_factory=dict)
    record: int | None = None  # its ledger record, once recorded
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def status(self) -> dict[str, Any]:
        """The job's state as the Run page polls it."""
        return {
            "id": self.id, "case": self.case_id, "draws": self.draws, "seed": self.seed,
            "state": self.state, "stage": self.stage, "done": self.done, "total": self.total,
            "problems": [problem_json(p) for p in self.problems], "message": self.message,
            "elapsed": round((self.finished or time.time()) - self.started, 1),
            "record": self.record,
        }  # fmt: skip


def problem_json(p: Problem) -> dict[str, Any]:
    """A problem as the API gives it (a lone surrogate shown as U+FFFD, so it can be sent)."""
    from .workspace import visible

    return {"file": visible(p.file), "line": p.line, "field": visible(p.field),
            "message": visible(p.message)}  # fmt: skip


class Processes:
    """Worker processes kept warm for the workspace's draws: started at the first forecast of
    more than one block, then kept until the server stops, so that a what-if's draws run on every
    core without paying for new processes. They start from a fork server that has imported the
    simulation once (a server already runs threads, so it does not fork itself). The numbers do
    not depend on where the blocks run."""

    PRELOAD = ("standoff.pipeline.tasks", "standoff.simulate.crisis", "standoff.bargaining.eum")

    def __init__(self, count: int):
        self.count = count
        self._executor: LocalExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def executor(self, draws: int) -> LocalExecutor | None:
        """The warm workers for a run of `draws` (None for a run of one block, where there is one
        core to use, or once closed)."""
        if self.count < 2 or draws <= DEADLINE_CHUNK:
            return None
        with self._lock:
            if self._closed:
                return None
            if self._executor is None:
                self._executor = LocalExecutor(
                    self.count, processes=True, start_method=START_METHOD, preload=self.PRELOAD
                ).start()
            return self._executor

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()


class Jobs:
    """Full runs in their own small thread pool (so they never take the threads that answer
    requests), the latest `limits.kept_jobs` kept for their reports."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.processes = Processes(limits.processes)
        self.pool = ThreadPoolExecutor(max_workers=limits.jobs, thread_name_prefix="standoff-run")
        self.work = Work(limits.workers, limits.queue)  # the heavy work of requests
        self.cancel = threading.Event()  # set when the server stops: running runs stop
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.counter = itertools.count(1)

    def start(
        self, compiled: CompiledCase, case_id: str, draws: int, seed: int, text: str = ""
    ) -> Job:
        """Queue a full run of a compiled case; the job to poll. Refused (RunBusy) while
        `limits.waiting` runs are already queued or running."""
        job = Job(f"run{next(self.counter)}", case_id, draws, seed, text)
        with self.lock:
            active = sum(j.state in ("queued", "running") for j in self.jobs.values())
            if active >= self.limits.waiting:
                raise RunBusy(
                    f"{active} runs are already queued or running; wait for one to finish",
                    retry_after=10,
                )
            self.jobs[job.id] = job
            while len(self.jobs) > self.limits.kept_jobs:
                self.jobs.popitem(last=False)
        self.pool.submit(self._work, job, compiled)
        return job

    def get(self, ident: str) -> Job | None:
        with self.lock:
            return self.jobs.get(ident)

    def _work(self, job: Job, compiled: CompiledCase) -> None:
        job.state = "running"

        def progress(stage: str, done: int, total: int) -> None:
            job.stage, job.done, job.total = stage, done, total

        try:
            request = _request(compiled, job.draws, job.seed, full=self.limits,
                               reproduce=_reproduce(job, self.limits))  # fmt: skip
            workers = self.processes.executor(job.draws)
            outcome = run_request(request, self.limits.seconds, progress=progress,
                                  cancel=self.cancel, executor=workers)  # fmt: skip
            job.result = outcome.result
            if outcome.report is not None:
                from pathlib import Path

                from ..report import render_html, render_markdown

                job.stage = "report"
                job.report_html = render_html(outcome.report)
                job.report_md, job.figures = render_markdown(outcome.report, Path("report.md"))
            job.state = "done"
        except CaseError as e:
            job.problems, job.state = list(e.problems), "failed"
        except (RunTimeout, RunRefused, RunCancelled, ValueError) as e:
            job.message, job.state = str(e), "failed"
        except Exception as e:  # shown on the page, never as a traceback
            job.message, job.state = f"the run failed: {type(e).__name__}: {e}", "failed"
        finally:
            job.finished = time.time()

    def close(self) -> None:
        """Stop taking runs and heavy work; queued ones are dropped, running ones stopped after
        their current block."""
        self.cancel.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.work.close()
        self.processes.close()


def _reproduce(job: Job, limits: Limits) -> str:
    """The command that makes the same report."""
    command = f"standoff forecast {job.case_id} --draws {job.draws} --seed {job.seed}"
    if limits.trajectories != 10:
        command += f" --trajectories {limits.trajectories}"
    if limits.replicates != 64:
        command += f" --replicates {limits.replicates}"
    return command + " --report report.html"
