"""Where a ledger lives, as a user writes it: a plain path is a SQLite file, `sqlite:///PATH`
too; `postgresql://...` (or `postgres://...`) is a PostgreSQL database, reached with psycopg 3.
Without one: the environment variable STANDOFF_LEDGER, else ~/.standoff/ledger.sqlite."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .errors import LedgerError

ENV = "STANDOFF_LEDGER"
DEFAULT_PATH = Path("~/.standoff/ledger.sqlite")


def default_url() -> str:
    """$STANDOFF_LEDGER, else the default SQLite file."""
    return os.environ.get(ENV, "").strip() or str(DEFAULT_PATH.expanduser())


def sqlalchemy_url(given: str | None) -> tuple[str, str, Path | None]:
    """(the SQLAlchemy URL, the name to show in messages, the SQLite file or None) of a ledger
    location as a user writes it.

    >>> sqlalchemy_url("postgresql://ana:secret@db.example/ledger")[:2]
    ('postgresql+psycopg://ana:secret@db.example/ledger', 'postgresql://ana:***@db.example/ledger')
    >>> sqlalchemy_url("/tmp/l.sqlite")[0]
    'sqlite:////tmp/l.sqlite'
    """
    text = (given or "").strip() or default_url()
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if not scheme:
        path = Path(text).expanduser().absolute()
        return f"sqlite:///{path}", str(path), path
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as e:
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)  # the password hidden
        raise LedgerError(f"{shown}: not a database URL ({e})") from None
    shown = url.render_as_string(hide_password=True)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        url = url.set(drivername="postgresql+psycopg")
        return url.render_as_string(hide_password=False), shown, None
    if url.drivername == "sqlite":
        if not url.database or url.database == ":memory:":
            raise LedgerError(f"{shown}: give a SQLite file (sqlite:///PATH); memory is forgotten")
        path = Path(url.database).expanduser().absolute()
        return f"sqlite:///{path}", str(path), path
    raise LedgerError(
        f"{shown}: unsupported database {url.drivername!r}; give a SQLite file path, "
        "sqlite:///PATH or postgresql://USER@HOST/DATABASE"
    )


def relative_sqlite_hint(given: str | None) -> str:
    """For a `sqlite:///` URL whose path is relative (three slashes: `sqlite:///data/l.sqlite`
    is `data/l.sqlite` in the current folder), what to write for the absolute path; else "".

    >>> relative_sqlite_hint("sqlite:///data/l.sqlite").split("; ")[-1]
    'for /data/l.sqlite write four slashes: sqlite:////data/l.sqlite'
    >>> relative_sqlite_hint("sqlite:////data/l.sqlite")
    ''
    """
    text = (given or "").strip()
    if not text.lower().startswith("sqlite:///") or text.startswith("sqlite:////"):
        return ""
    rest = text[len("sqlite:///") :]
    if not rest or rest.startswith(("~", ".")) or Path(rest).is_absolute():
        return ""
    return (
        f"; {text} is the relative path {rest} (from the current folder); for /{rest} write "
        f"four slashes: sqlite:////{rest}"
    )


#: The files SQLite keeps beside a database while it writes: a crashed writer's rollback journal
#: and the write-ahead log and its index. Replacing one damages the ledger.
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


def ledger_files(url: str | None) -> list[str]:
    """The files of the ledger at `url` (a path, `sqlite:///PATH`, None for $STANDOFF_LEDGER or
    the default file), as the ledger itself derives them: the SQLite file and its companions.
    Nothing for a database server, nor for a location that is no database URL (opening it says
    what is wrong)."""
    try:
        path = sqlalchemy_url(url)[2]
    except LedgerError:
        return []
    if path is None:
        return []
    return [str(path), *(f"{path}{end}" for end in SQLITE_COMPANIONS)]
