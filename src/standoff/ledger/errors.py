"""The one error of the ledger: a problem a user can fix, said in one line."""

from __future__ import annotations


class LedgerError(Exception):
    """A ledger that cannot be opened or used, or a forecast or resolution it cannot take.

    The message starts with the ledger's file or URL (password hidden) and says what is wrong,
    `FILE-or-URL: problem`; the command line prints it and exits with status 2."""
