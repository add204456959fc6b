"""Alembic's environment for the ledger.

`store.open_ledger` runs `upgrade head` with its own connection (in `config.attributes`), inside
a transaction that holds the ledger's lock. From the alembic command line, give the database with
`-x url=...` or `sqlalchemy.url` in an alembic.ini whose script_location is this folder."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from standoff.ledger.schema import VERSION_TABLE, metadata


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Upgrade (or downgrade) the connection given by the caller, else the configured URL."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from standoff.ledger.store import sqlalchemy_url

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(sqlalchemy_url(url)[0])
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if getattr(context, "_proxy", None) is not None:  # run by alembic, not imported (doctests)
    run_migrations()
