"""The ledger as the workspace uses it: record a forecast, list a case's records, score them.

`standoff.ledger` is optional here: when it cannot be imported or opened, the calls raise
`LedgerUnavailable`, whose message says why, and the pages say so instead of failing.

A ledger can stop answering (a database server that accepts the connection and stays silent, a
SQLite file another process holds locked), so no call runs on the event loop and none is waited
for longer than `wait` seconds: each runs in a thread of its own (a daemon, so a call that never
returns keeps no one waiting, not even the process's exit), and the request that asked gives up
after `wait` with "the ledger is not answering" (a page shows it, the API answers 503). Calls
reach the ledger one at a time; while one has been running longer than `wait`, later calls are
refused at once instead of queueing behind it, and once it returns the ledger is used again. A
call may ask to wait less for another call to finish (`patience`): the list of cases waits at
most PATIENCE seconds, so it shows at once, without the ledger's column, while another page is
waiting for a silent ledger.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
WAIT_SECONDS = 5.0
MOST_WAITING = 8  # calls waiting for the ledger at once; more are refused at once
PATIENCE = 0.3  # the seconds the list of cases waits for another call to finish


class LedgerUnavailable(Exception):
    """The ledger cannot be used (not installed, its URL cannot be opened, or it is not
    answering)."""


class Ledger:
    """The ledger at `url` (None: the ledger's own default, `STANDOFF_LEDGER` or its file),
    opened when first used; calls are awaited (see the module's docstring)."""

    def __init__(self, url: str | None, wait: float = WAIT_SECONDS):
        self.url = url
        self.wait = wait
        self.problem = ""
        self._ledger: Any = None
        self._lock = threading.Lock()  # held by the call using the ledger
        self._since: float | None = None  # when that call began
        self._waiting = 0  # calls started and not yet returned
        self._count_lock = threading.Lock()
        self._errors: tuple[type[Exception], ...] = (OSError,)

    def _silent(self) -> str:
        return (
            f"the ledger is not answering (no reply within {self.wait:g} s); "
            "the cases can still be read, edited and run"
        )

    def _open(self) -> Any:
        if self._ledger is not None:
            return self._ledger
        try:
            from ..ledger import LedgerError, open_ledger
        except ImportError as e:
            self.problem = f"the ledger is not available in this installation ({e})"
            raise LedgerUnavailable(self.problem) from None
        self._errors = (LedgerError, OSError)
        try:
            self._ledger = open_ledger(self.url)
        except (LedgerError, OSError, ValueError) as e:
            self.problem = f"cannot open the ledger: {e}"
            raise LedgerUnavailable(self.problem) from None
        self.problem = ""
        return self._ledger

    def _locked(self, use: Callable[[Any], T], patience: float) -> T:
        """`use(ledger)` while holding the ledger (waiting at most `patience` seconds for it);
        its errors as LedgerUnavailable."""
        if not self._lock.acquire(timeout=patience):
            if patience < self.wait:
                raise LedgerUnavailable(
                    f"the ledger is busy with another request (waited {patience:g} s)"
                )
            raise LedgerUnavailable(self._silent())
        self._since = time.monotonic()
        try:
            ledger = self._open()
            try:
                return use(ledger)
            except self._errors as e:
                raise LedgerUnavailable(str(e)) from None
        finally:
            self._since = None
            self._lock.release()

    async def call(self, use: Callable[[Any], T], patience: float | None = None) -> T:
        """`use(ledger)` in a thread, waited for at most `wait` seconds (and at most `patience`
        of them for another call to finish). Raises LedgerUnavailable when the ledger cannot be
        opened, fails, or does not answer."""
        patience = self.wait if patience is None else min(patience, self.wait)
        since = self._since
        if since is not None and time.monotonic() - since > self.wait:
            raise LedgerUnavailable(self._silent())
        with self._count_lock:
            if self._waiting >= MOST_WAITING:
                raise LedgerUnavailable(self._silent())
            self._waiting += 1
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def deliver(value: Any, failed: bool) -> None:
            if not answer.done():
                if failed:
                    answer.set_exception(value)
                else:
                    answer.set_result(value)

        def work() -> None:
            try:
                value: Any = self._locked(use, patience)
                failed = False
            except BaseException as e:  # handed to the caller
                value, failed = e, True
            finally:
                with self._count_lock:
                    self._waiting -= 1
            try:
                loop.call_soon_threadsafe(deliver, value, failed)
            except RuntimeError:  # the loop has closed: no one is waiting
                pass

        threading.Thread(target=work, name="standoff-ledger", daemon=True).start()
        try:
            return await asyncio.wait_for(answer, self.wait)
        except TimeoutError:
            raise LedgerUnavailable(self._silent()) from None

    async def check(self) -> str:
        """Why the ledger cannot be used now, or "" when it can."""
        try:
            await self.call(lambda ledger: None)
        except LedgerUnavailable as e:
            return str(e)
        return ""

    async def record(self, forecast: dict[str, Any], case_bytes: bytes) -> int:
        """Store a forecast (its JSON) with the hash of the case text it came from; its id."""
        digest = case_hash(case_bytes)
        return await self.call(lambda ledger: int(ledger.record(forecast, case_hash=digest)))

    async def records(self, case_id: str | None = None) -> list[Any]:
        """The records of a case (every case when None), as the ledger gives them."""
        return await self.call(lambda ledger: list(ledger.records(case_id=case_id)))

    async def records_of(
        self, case_ids: Iterable[str], patience: float | None = None
    ) -> dict[str, list[Any]]:
        """The records of each of some cases, in one call."""
        wanted = sorted(set(case_ids))
        return await self.call(
            lambda ledger: {c: list(ledger.records(case_id=c)) for c in wanted}, patience
        )

    async def score(self, case_id: str | None = None) -> dict[str, Any]:
        """The ledger's scores of a case's resolved questions."""
        return await self.call(lambda ledger: dict(ledger.score(case_id=case_id)))


def case_hash(case_bytes: bytes) -> str:
    """The SHA-256 of a case's text, as the ledger keeps it."""
    return hashlib.sha256(case_bytes).hexdigest()


def record_json(record: Any) -> dict[str, Any]:
    """A ledger record as the API gives it."""

    def text(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {
        "id": record.id,
        "case": record.case_id,
        "case_hash": record.case_hash,
        "recorded_at": text(record.recorded_at),
        "as_of": text(record.as_of),
        "observed_hash": record.observed_hash,
        "seed": record.seed,
        "draws": record.draws,
        "model": record.model,
        "probabilities": [
            {"kind": kind, "id": item, "p": p}
            | ({"observed": seen} if (seen := record.observed(item, kind)) else {})
            for kind, item, p in record.probabilities
        ],
    }
