"""The ledger on PostgreSQL: the whole `LedgerContract`, on a throwaway server.

The server: the one at $STANDOFF_TEST_POSTGRES_URL (a role that may create databases), else one
started here, `initdb` in a temporary folder and `pg_ctl start` on a free port of 127.0.0.1 with
its socket in that folder (as the user `postgres` when the tests run as root), stopped at the
end. Each test gets a new database. Without PostgreSQL's programs the tests skip with the
reason; under CI=true they fail instead (tests/conftest.py)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from standoff.ledger import LedgerError, open_ledger

from .conftest import in_ci
from .test_ledger import LedgerContract

ENV = "STANDOFF_TEST_POSTGRES_URL"


def _missing(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so a missing PostgreSQL fails instead of skipping",
                    pytrace=False)  # fmt: skip
    pytest.skip(reason)


def _bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/*."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's `postgres` database, as a superuser."""
    given = os.environ.get(ENV, "").strip()
    if given:
        yield given
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        _missing("PostgreSQL not found (no initdb on PATH or in /usr/lib/postgresql/*/bin)")
        return
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="standoff-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            shutil.chown(folder, "postgres", "postgres")
        except (LookupError, OSError) as e:
            shutil.rmtree(folder, ignore_errors=True)
            _missing(f"running as root and no user `postgres` to run the server as ({e})")
            return
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log, port = folder / "data", folder / "server.log", _free_port()

    def pg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*as_user, *args], cwd=folder, capture_output=True, text=True,
                              timeout=120)  # fmt: skip

    made = pg(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
              "-E", "UTF8", "--no-sync")  # fmt: skip
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed: {made.stderr or made.stdout}", pytrace=False)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                 "-o", options, "start")  # fmt: skip
    if started.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed: {started.stderr}{text}", pytrace=False)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    """The URL of a new, empty database on the server, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"standoff_ledger_{uuid.uuid4().hex[:12]}"
    server = make_url(postgres_server)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn, contextlib.suppress(Exception):
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class TestPostgres(LedgerContract):
    @pytest.fixture
    def url(self, database: str) -> str:
        return database


def test_a_shared_database_keeps_other_tables(database: str) -> None:
    """A team database may hold other applications' tables; the ledger adds its own beside them
    and leaves theirs alone."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text)")
        conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
    with open_ledger(database) as ledger:
        ledger.record({"case": "c", "questions": {"q": {"p": 0.25}}})
        assert [r.p("question", "q") for r in ledger.records()] == [0.25]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT name FROM customers").fetchall() == [("Ada",)]


def test_a_table_of_the_ledgers_name_without_its_version_is_refused(database: str) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE ledger_forecasts (x int)")
    with pytest.raises(LedgerError, match="not a standoff ledger"):
        open_ledger(database)
    with psycopg.connect(database) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == [("ledger_forecasts",)]


def test_a_password_is_never_shown(postgres_server: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(postgres_server).set(password="s3cret", database="no_such_database")
    with pytest.raises(LedgerError) as raised:
        open_ledger(url.render_as_string(hide_password=False))
    assert "s3cret" not in str(raised.value)
    assert "no_such_database" in str(raised.value)


def test_sessions_wait_for_locks_and_statements_at_most_so_long(database: str) -> None:
    from standoff.ledger import store

    def milliseconds(conn: Any, name: str) -> int:
        query = f"SELECT setting FROM pg_settings WHERE name = '{name}'"
        return int(conn.exec_driver_sql(query).scalar())

    with open_ledger(database) as ledger, ledger.engine.connect() as conn:
        assert milliseconds(conn, "lock_timeout") == store.BUSY_TIMEOUT_S * 1000
        assert milliseconds(conn, "statement_timeout") == store.PG_STATEMENT_TIMEOUT_S * 1000
    with open_ledger(f"{database}?options=-c%20lock_timeout%3D5s") as ledger:
        with ledger.engine.connect() as conn:
            assert milliseconds(conn, "lock_timeout") == 5000  # the URL's own


def test_a_migration_lock_held_elsewhere_is_waited_for_then_refused(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process creating the ledger holds its advisory lock: opening says once that it
    waits, then gives up after the lock timeout, saying the ledger is locked; once the lock is
    free, the ledger opens."""
    import psycopg
    from sqlalchemy.engine import make_url

    from standoff.ledger import store

    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 1)
    key = store.PG_LOCK - 2**64 if store.PG_LOCK > store.MAX_BIGINT else store.PG_LOCK
    shown = make_url(database).render_as_string(hide_password=True)
    with psycopg.connect(database, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (key,))
        with (
            pytest.warns(store.LedgerWarning, match="waiting for the ledger .*: locked by"),
            pytest.raises(LedgerError, match="the ledger is locked by another process") as raised,
        ):
            open_ledger(database)
        assert str(raised.value).startswith(f"{shown}: ")
    with open_ledger(database) as ledger:
        assert ledger.records() == []


def test_missing_postgresql_fails_under_ci_and_skips_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _missing("PostgreSQL not found")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL not found"):
        _missing("PostgreSQL not found")
