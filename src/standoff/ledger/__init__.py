"""The forecast ledger: forecasts recorded, revised, resolved and scored, in SQLite or PostgreSQL.

    ledger = open_ledger()            # $STANDOFF_LEDGER, else ~/.standoff/ledger.sqlite
    rid = ledger.record(forecast_json(result), case_hash=...)
    ledger.resolve("cases/resolutions/us-dprk-2018.yaml")
    ledger.score()

SQLAlchemy loads only when a ledger is opened (`standoff --version` stays quick)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import LedgerError
from .record import Record

if TYPE_CHECKING:
    from .store import Ledger

__all__ = ["Ledger", "LedgerError", "Record", "open_ledger"]


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger at `url` (a SQLite file path, `sqlite:///PATH`, or `postgresql://...`), created
    or migrated to the current schema. None: `$STANDOFF_LEDGER`, else ~/.standoff/ledger.sqlite.
    Raises LedgerError for a file or database that is not a standoff ledger or cannot be reached."""
    from .store import open_ledger as _open

    return _open(url)


def __getattr__(name: str) -> object:
    if name == "Ledger":
        from .store import Ledger

        return Ledger
    raise AttributeError(name)
