"""The ledger as the workspace uses it: record a forecast, list a case's records, score them.

`standoff.ledger` is optional here: when it cannot be imported or opened, `Ledger.available` is
false, `problem` says why, and the pages say so instead of failing.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any


class LedgerUnavailable(Exception):
    """The ledger cannot be used (not installed, or its URL cannot be opened)."""


class Ledger:
    """The ledger at `url` (None: the ledger's own default, `STANDOFF_LEDGER` or its file),
    opened when first used; calls are serialized by a lock."""

    def __init__(self, url: str | None):
        self.url = url
        self.problem = ""
        self._ledger: Any = None
        self._lock = threading.Lock()
        self._errors: tuple[type[Exception], ...] = (OSError,)

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
        return self._ledger

    @property
    def available(self) -> bool:
        try:
            with self._lock:
                self._open()
        except LedgerUnavailable:
            return False
        return True

    def record(self, forecast: dict[str, Any], case_bytes: bytes) -> int:
        """Store a forecast (its JSON) with the hash of the case text it came from; its id."""
        with self._lock:
            ledger = self._open()
            try:
                return int(ledger.record(forecast, case_hash=case_hash(case_bytes)))
            except self._errors as e:
                raise LedgerUnavailable(str(e)) from None

    def records(self, case_id: str | None = None) -> list[Any]:
        """The records of a case (every case when None), as the ledger gives them."""
        with self._lock:
            try:
                return list(self._open().records(case_id=case_id))
            except self._errors as e:
                raise LedgerUnavailable(str(e)) from None

    def score(self, case_id: str | None = None) -> dict[str, Any]:
        """The ledger's scores of a case's resolved questions."""
        with self._lock:
            try:
                return dict(self._open().score(case_id=case_id))
            except self._errors as e:
                raise LedgerUnavailable(str(e)) from None


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
            {"kind": kind, "id": item, "p": p} for kind, item, p in record.probabilities
        ],
    }
