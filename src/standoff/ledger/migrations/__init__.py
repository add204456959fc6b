"""Alembic migrations of the ledger's schema; `store.open_ledger` runs `upgrade head`."""
