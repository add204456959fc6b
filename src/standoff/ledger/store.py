"""The ledger over a database: open (check, create, migrate), record, read, resolve, score.

Where a ledger lives: a plain path is a SQLite file, `sqlite:///PATH` too; `postgresql://...` (or
`postgres://...`) is a PostgreSQL database, reached with psycopg 3. Without one: the environment
variable STANDOFF_LEDGER, else ~/.standoff/ledger.sqlite (its folder is made when missing).

Opening never harms a file that is not a ledger: a SQLite file is first read read-only, and a file
that is not SQLite, is damaged, or holds other tables is refused with a LedgerError that names it;
it is not written to. A ledger at an older schema is migrated (alembic `upgrade head`) under the
ledger's lock: an exclusive SQLite transaction, or a PostgreSQL advisory lock, so that two
processes opening a new ledger at once create it once.

Concurrent writers lose nothing: each record is one transaction that only inserts (SQLite waits up
to `BUSY_TIMEOUT_S` for the file's write lock; PostgreSQL's sequences hand out distinct ids).

Nothing waits without end or in silence. A SQLite file locked by another process is waited for
up to `BUSY_TIMEOUT_S`, with one `LedgerWarning` after the first `LOCK_NOTICE_S` ("waiting for the
ledger FILE: locked by another process"), then refused as locked (never as damaged). A PostgreSQL
server must answer within `PG_CONNECT_TIMEOUT_S`; its sessions wait at most `BUSY_TIMEOUT_S` for a
lock and `PG_STATEMENT_TIMEOUT_S` for a statement (a URL's own `connect_timeout` or `options` win).

A damaged row (a forecast that is not JSON, a probability that is text, ...) is the ledger's
problem, not the reader's: `records` and `resolutions` skip it with one `LedgerWarning` naming its
id, `get` refuses it, and the rest of the ledger reads as before.
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from ..errors import CaseError, Problem
from . import resolution_rules
from .errors import LedgerError
from .location import DEFAULT_PATH, ENV, default_url, relative_sqlite_hint, sqlalchemy_url
from .record import Probability, Record, StoredResolution
from .rows import (
    MAX_BIGINT,
    DamagedRow,
    forecast_row,
    record_of,
    resolution_rows,
    resolutions_given,
    stored_resolution,
)
from .schema import HEAD, REVISIONS, TABLES, VERSION_TABLE, forecasts, probabilities, resolutions

if TYPE_CHECKING:
    from ..backtest.resolve import Resolutions

BUSY_TIMEOUT_S = 60  # the longest wait for a lock held by another process (SQLite and PostgreSQL)
LOCK_NOTICE_S = 1.0  # a lock still held after this long is announced once (LedgerWarning)
PG_CONNECT_TIMEOUT_S = 10  # a PostgreSQL server that has not answered by then is unreachable
PG_STATEMENT_TIMEOUT_S = 120  # the longest a ledger statement may run on PostgreSQL
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The key of the PostgreSQL advisory lock held while a ledger is checked and migrated.
PG_LOCK = 0x5354414E444F4646  # "STANDOFF"


class LedgerWarning(RuntimeWarning):
    """Something the ledger's user should hear about while the work goes on: a lock being waited
    for, a damaged row skipped. The command line prints it as one `warning:` line."""


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger at `url` (see the module's docstring), created or migrated to the current
    schema. Raises LedgerError when it is not a ledger, is damaged, or cannot be reached."""
    target, shown, path = sqlalchemy_url(url)
    if path is not None:
        try:
            _check_sqlite_file(path, shown, made_here=url is None and ENV not in os.environ)
        except LedgerError as e:
            given = (url or "").strip() or default_url()
            raise LedgerError(f"{e}{relative_sqlite_hint(given)}") from None
    ledger = Ledger(target, shown, sqlite=path is not None)
    try:
        ledger.migrate()
    except BaseException:
        ledger.close()
        raise
    return ledger


def _check_sqlite_file(path: Path, shown: str, made_here: bool) -> None:
    """Refuse, without writing to it, a file that is not an empty file, a new file or a ledger."""
    if not path.exists():
        if path.is_symlink():
            raise LedgerError(f"{shown}: a link to a missing file")
        folder = path.parent
        if not folder.is_dir():
            if made_here and not folder.exists():
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise LedgerError(f"{folder}: cannot make the ledger's folder: {e}") from None
            else:
                raise LedgerError(f"{shown}: folder {folder} does not exist (create it first)")
        return
    if path.is_dir():
        raise LedgerError(f"{shown}: a folder, not a ledger file")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as e:
        raise LedgerError(f"{shown}: cannot read: {e.strerror or e}") from None
    if not head:
        return  # an empty file: SQLite takes it as an empty database
    if head != SQLITE_HEADER:
        raise LedgerError(
            f"{shown}: not a SQLite database, so not a standoff ledger (left unchanged); "
            "give another file with --ledger or STANDOFF_LEDGER"
        )
    try:
        db = sqlite3.connect(
            f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
        )  # fmt: skip
    except sqlite3.Error as e:
        raise LedgerError(f"{shown}: cannot open read-only: {e}") from None
    try:
        db.execute("BEGIN")  # one read transaction: the file's read lock is taken once, below
        _sqlite_lock(db, _READ_LOCK, shown, path)
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        version = None
        if VERSION_TABLE in names:
            version = [r[0] for r in db.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
    except sqlite3.DatabaseError as e:
        if _busy(e):
            raise LedgerError(_locked(shown, path)) from None
        raise LedgerError(f"{shown}: a damaged SQLite database ({e}); left unchanged") from None
    finally:
        db.close()
    tables = [n for n in names if not n.startswith("sqlite_")]
    _check_tables(shown, tables, version, sqlite=True)


def _check_tables(
    shown: str, tables: Sequence[str], version: Sequence[str] | None, sqlite: bool
) -> None:
    """Refuse a database without the ledger's version table that holds tables named like the
    ledger's, or (a SQLite file, which is the ledger's alone) any tables; and a ledger of a newer
    schema than this standoff knows. A PostgreSQL database may hold other applications' tables."""
    if version is None:
        ours = [t for t in tables if t in TABLES]
        if ours or (tables and sqlite):
            listed = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
            raise LedgerError(
                f"{shown}: a database that is not a standoff ledger (it holds the tables "
                f"{listed}, and no {VERSION_TABLE}); left unchanged; give another --ledger"
            )
        return
    unknown = [v for v in version if v not in REVISIONS]
    if unknown or len(version) > 1:
        raise LedgerError(
            f"{shown}: a ledger of schema revision {', '.join(version)}, which this standoff "
            f"does not know (it knows {', '.join(REVISIONS)}); upgrade standoff"
        )


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


# A statement that takes a SQLite file's read lock (it reads the schema, as every query does).
_READ_LOCK = "SELECT count(*) FROM sqlite_master"


def _busy(e: BaseException | None) -> bool:
    """A SQLite error that says another connection holds the lock (SQLITE_BUSY, SQLITE_LOCKED)."""
    code = getattr(e, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _lock_holders(path: Path | None) -> list[int]:
    """The ids of the other processes holding a lock on the file, where the system says
    (Linux's /proc/locks); empty when it does not."""
    if path is None:
        return []
    try:
        st = path.stat()
        text = Path("/proc/locks").read_text()
    except OSError:
        return []
    here = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = set()
    for line in text.splitlines():
        # "1: POSIX  ADVISORY  WRITE 14206 fe:00:2146913 1073741824 1073742335"; a process
        # waiting for a lock has "->" before its kind
        fields = line.split()
        if len(fields) >= 6 and fields[1] != "->" and fields[5].lower() == here:
            pid = fields[4]
            if pid.isdigit() and int(pid) != os.getpid():
                pids.add(int(pid))
    return sorted(pids)


def _by_whom(path: Path | None) -> str:
    """Who holds the lock, as a message says it: `another process (process 4242)`, without the
    id where the system does not say."""
    pids = _lock_holders(path)
    if not pids:
        return "another process"
    return f"another process (process{'es' if len(pids) > 1 else ''} {', '.join(map(str, pids))})"


def _locked(shown: str, path: Path | None) -> str:
    """The message of a ledger whose lock did not come within BUSY_TIMEOUT_S."""
    return (
        f"{shown}: the ledger is locked by {_by_whom(path)}; gave up after waiting "
        f"{BUSY_TIMEOUT_S:g} s (try again when it has finished)"
    )


def _waiting(shown: str, path: Path | None) -> None:
    warnings.warn(
        LedgerWarning(f"waiting for the ledger {shown}: locked by {_by_whom(path)}"), stacklevel=2
    )


def _sqlite_lock(db: sqlite3.Connection, statement: str, shown: str, path: Path | None) -> None:
    """Run `statement`, which takes a lock on the SQLite file: should another process hold it,
    wait LOCK_NOTICE_S, say once that the ledger is waited for (LedgerWarning), and wait the
    rest of BUSY_TIMEOUT_S; a LedgerError that says it is locked if it never comes."""
    notice = min(LOCK_NOTICE_S, BUSY_TIMEOUT_S)
    rest = BUSY_TIMEOUT_S - notice
    db.execute(f"PRAGMA busy_timeout = {round(notice * 1000)}")
    try:
        try:
            db.execute(statement).fetchall()
            return
        except sqlite3.OperationalError as e:
            if not _busy(e) or rest <= 0:
                raise
        _waiting(shown, path)
        db.execute(f"PRAGMA busy_timeout = {round(rest * 1000)}")
        db.execute(statement).fetchall()
    except sqlite3.OperationalError as e:
        if db.in_transaction:
            db.rollback()
        if _busy(e):
            raise LedgerError(_locked(shown, path)) from None
        raise
    finally:
        db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")


class Ledger:
    """Forecasts recorded, revised, resolved and scored (see the package's docstring)."""

    def __init__(self, url: str, shown: str, sqlite: bool) -> None:
        self.name = shown  # the file or the URL with its password hidden, for messages
        self.sqlite = sqlite
        # the SQLite file, for the processes that hold its lock
        self.path = Path(make_url(url).database or "") if sqlite else None
        try:
            if sqlite:
                self.engine: Engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
                event.listen(self.engine, "connect", _sqlite_connect)
                event.listen(self.engine, "begin", self._sqlite_begin)
            else:
                self.engine = create_engine(
                    url, pool_pre_ping=True, connect_args=_pg_connect_args(url)
                )
        except (ArgumentError, NoSuchModuleError, ImportError) as e:
            raise LedgerError(f"{shown}: {_first_line(e)}") from None

    def _sqlite_begin(self, conn: Connection) -> None:
        """SQLite: a writing transaction takes the write lock at once, so that it never has to
        upgrade a read lock (which SQLite refuses without waiting when another writer holds it);
        a reading one (`standoff_read`) takes the read lock. Either waits for a lock another
        process holds as `_sqlite_lock` says."""
        db = conn.connection.dbapi_connection
        assert isinstance(db, sqlite3.Connection)
        if conn.get_execution_options().get("standoff_read", False):
            db.execute("BEGIN")
            _sqlite_lock(db, _READ_LOCK, self.name, self.path)
        else:
            _sqlite_lock(db, "BEGIN IMMEDIATE", self.name, self.path)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, doing: str, write: bool = True) -> Iterator[Connection]:
        """One transaction; database errors become a LedgerError naming the ledger. A reading
        transaction (`write=False`) takes no write lock, so a read-only SQLite file can be read."""
        engine = self.engine if write else self.engine.execution_options(standoff_read=True)
        try:
            with engine.begin() as conn:
                yield conn
        except LedgerError:
            raise
        except DBAPIError as e:
            if _busy(e.orig) or _pg_lock_timeout(e.orig):
                raise LedgerError(_locked(self.name, self.path)) from None
            what = "cannot connect" if e.connection_invalidated or _is_connect(e) else doing
            raise LedgerError(f"{self.name}: {what}: {_first_line(e)}") from None
        except SQLAlchemyError as e:
            raise LedgerError(f"{self.name}: {doing}: {_first_line(e)}") from None

    def _version(self, conn: Connection) -> list[str] | None:
        """The ledger's schema revision (None for a database without the ledger), after
        `_check_tables`."""
        names = inspect(conn).get_table_names()
        version = None
        if VERSION_TABLE in names:
            rows = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}")
            version = [r[0] for r in rows]
        _check_tables(self.name, names, version, self.sqlite)
        return version

    def migrate(self) -> None:
        """Check that the database is a ledger (or empty) and bring its schema to the head: a
        reading look first (a ledger at the head needs nothing more), then, if needed, the
        upgrade under the ledger's lock, after looking again."""
        with self._transaction("cannot read the ledger", write=False) as conn:
            if self._version(conn) == [HEAD]:
                return
        with self._transaction("cannot create or migrate the ledger") as conn:
            if not self.sqlite and not conn.execute(select(_pg_lock(wait=False))).scalar():
                _waiting(self.name, None)  # another process is creating or migrating it
                conn.execute(select(_pg_lock()))  # up to the session's lock_timeout
            if self._version(conn) == [HEAD]:
                return
            from alembic import command
            from alembic.config import Config

            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # -- forecasts

    def record(self, forecast: Mapping[str, Any], *, case_hash: str | None = None) -> int:
        """Store a forecast (the dict of `standoff.serialize.forecast_json`) as a new record and
        give its id. `case_hash`: the sha256 of the case file's bytes, when the forecast does not
        carry one (`case_hash`)."""
        row, items = forecast_row(self.name, forecast, case_hash)
        with self._transaction("cannot record the forecast") as conn:
            inserted = conn.execute(forecasts.insert().values(**row).returning(forecasts.c.id))
            rid = int(inserted.scalar_one())
            if items:
                conn.execute(
                    probabilities.insert(),
                    [
                        {"record_id": rid, "position": n, "kind": kind, "item": item, "p": p}
                        for n, (kind, item, p) in enumerate(items)
                    ],
                )
        return rid

    def records(self, case_id: str | None = None) -> list[Record]:
        """Every record (of one case), oldest first; a damaged one is skipped with a
        LedgerWarning that names it."""
        query = select(forecasts).order_by(forecasts.c.id)
        probs = select(probabilities).order_by(probabilities.c.record_id, probabilities.c.position)
        if case_id is not None:
            query = query.where(forecasts.c.case_id == case_id)
            probs = probs.join(forecasts).where(forecasts.c.case_id == case_id)
        with self._transaction("cannot read the ledger", write=False) as conn:
            rows = conn.execute(query).mappings().all()
            by_record: dict[int, list[Probability]] = {}
            for p in conn.execute(probs).mappings():
                by_record.setdefault(p["record_id"], []).append((p["kind"], p["item"], p["p"]))
        records = []
        for row in rows:
            try:
                records.append(record_of(row, by_record.get(row["id"], [])))
            except DamagedRow as e:
                warnings.warn(
                    LedgerWarning(f"{self.name}: record {row['id']} is damaged ({e}); skipped"),
                    stacklevel=2,
                )
        return records

    def get(self, rid: int) -> Record:
        """One record; LedgerError when there is none with this id (an id outside the database's
        integer range included) or it is damaged."""
        if isinstance(rid, bool) or not isinstance(rid, int) or not 1 <= rid <= MAX_BIGINT:
            raise LedgerError(f"{self.name}: no record {rid}")
        with self._transaction("cannot read the ledger", write=False) as conn:
            row = conn.execute(select(forecasts).where(forecasts.c.id == rid)).mappings().first()
            if row is None:
                raise LedgerError(f"{self.name}: no record {rid}")
            probs = conn.execute(
                select(probabilities)
                .where(probabilities.c.record_id == rid)
                .order_by(probabilities.c.position)
            ).mappings()
            items = [(p["kind"], p["item"], p["p"]) for p in probs]
        try:
            return record_of(row, items)
        except DamagedRow as e:
            raise LedgerError(f"{self.name}: record {rid} is damaged ({e})") from None

    # -- resolutions

    def resolve(self, resolutions_: str | Path | Resolutions | Mapping[str, Any]) -> int:
        """Store what happened: a resolution file (the format of cases/resolutions/, read by
        `standoff.backtest.resolve.read_resolutions`, whose CaseError names FILE:LINE), the
        `Resolutions` it reads to, or the mapping such a file parses to (held to a file's rules:
        `rows.resolutions_given`). Each resolved question (and the scenario) is a new row; the
        newest counts.

        Once the case has a recorded forecast, the resolutions are held to its records by the
        rule of `standoff score` (`resolution_problems`): a file that misses a question, names
        one or a scenario no record has, or contradicts what a record's observations decided is
        refused with every problem at its line (a CaseError), and nothing is stored.
        Gives the number of question resolutions stored (`unresolved` ones are not stored)."""
        from ..backtest.resolve import IN_MEMORY, Resolutions, read_resolutions

        if isinstance(resolutions_, str | Path):
            given = read_resolutions(Path(resolutions_))
        elif isinstance(resolutions_, Resolutions):
            given = resolutions_
        else:
            given = resolutions_given(resolutions_, IN_MEMORY)
        rows, n_questions = resolution_rows(given)
        problems = self.resolution_problems(given)
        if problems:
            raise CaseError(problems)
        if rows:
            with self._transaction("cannot store the resolutions") as conn:
                conn.execute(resolutions.insert(), rows)
        return n_questions

    def resolution_problems(self, given: Resolutions) -> list[Problem]:
        """Why resolutions (read by `read_resolutions`) cannot be stored for their case: the
        case's recorded forecasts stand for the forecast of `standoff score`, whose rule they
        follow with its messages (`standoff.backtest.resolve.score`): every question any record
        forecast is resolved (yes, no or `unresolved`), none that no record has, none against
        what a record's observations decided, and the scenario given where the records have
        scenarios, and one of theirs (as `scenario_order` must list theirs). None for a case
        with no record yet (nothing to hold them to), sorted by line."""
        records = self.records(given.case) if given.case is not None else []
        return resolution_rules.resolution_problems(records, given)

    def resolutions(
        self, case_id: str | None = None
    ) -> dict[tuple[str, str, str], StoredResolution]:
        """The resolution that counts (the newest) of each (case, kind, item), read back typed; a
        damaged row is skipped with a LedgerWarning that names it."""
        query = select(resolutions).order_by(resolutions.c.id)
        if case_id is not None:
            query = query.where(resolutions.c.case_id == case_id)
        with self._transaction("cannot read the ledger", write=False) as conn:
            rows = conn.execute(query).mappings().all()
        newest: dict[tuple[str, str, str], StoredResolution] = {}
        for r in rows:
            try:
                stored = stored_resolution(r)
            except DamagedRow as problem:
                warnings.warn(
                    LedgerWarning(
                        f"{self.name}: resolution {r['id']} is damaged ({problem}); skipped"
                    ),
                    stacklevel=2,
                )
                continue
            newest[(stored.case_id, stored.kind, stored.item)] = stored
        return newest

    def score(self, case_id: str | None = None, bins: int = 5) -> dict[str, Any]:
        """Brier and log scores of every recorded forecast against the resolutions, per record,
        per case and overall, with a calibration table of `bins` bins (2 to MAX_BINS of
        `standoff.backtest.scores`; see `standoff.ledger.scoring`)."""
        from ..backtest.scores import check_bins
        from .scoring import score_records

        try:
            check_bins(bins)
        except ValueError as e:
            raise LedgerError(f"{self.name}: bins {e}") from None
        data = score_records(self.records(case_id), self.resolutions(case_id), bins)
        return {"ledger": self.name, **data}


def _is_connect(e: DBAPIError) -> bool:
    from sqlalchemy.exc import OperationalError

    return isinstance(e, OperationalError) and "connect" in str(e.orig).lower()


def _pg_lock(wait: bool = True) -> Any:
    """The ledger's advisory lock, for this transaction: waited for (up to the session's
    lock_timeout), or (`wait=False`) taken only if free, giving whether it was."""
    from sqlalchemy import func

    key = PG_LOCK - 2**64 if PG_LOCK > MAX_BIGINT else PG_LOCK
    return func.pg_advisory_xact_lock(key) if wait else func.pg_try_advisory_xact_lock(key)


def _pg_lock_timeout(e: BaseException | None) -> bool:
    """A PostgreSQL error that says a lock was not granted within lock_timeout (55P03)."""
    return getattr(e, "sqlstate", None) == "55P03"


def _pg_connect_args(url: str) -> dict[str, Any]:
    """psycopg's connection arguments: a connect timeout and the session's lock and statement
    timeouts, each unless the URL gives its own (`?connect_timeout=`, `?options=-c ...`)."""
    query = make_url(url).query
    args: dict[str, Any] = {}
    if "connect_timeout" not in query:
        args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    given = query.get("options", "")
    given = " ".join(given) if isinstance(given, tuple) else given
    ours = [
        f"-c {name}={ms}"
        for name, ms in (
            ("lock_timeout", round(BUSY_TIMEOUT_S * 1000)),
            ("statement_timeout", round(PG_STATEMENT_TIMEOUT_S * 1000)),
        )
        if name not in given
    ]
    if ours:
        args["options"] = " ".join([*ours, given]).strip()
    return args


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: transactions begin where `Ledger._sqlite_begin` says (the driver's own are off)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


__all__ = [
    "DEFAULT_PATH",
    "ENV",
    "MAX_BIGINT",
    "Ledger",
    "LedgerError",
    "Record",
    "default_url",
    "open_ledger",
    "relative_sqlite_hint",
    "sqlalchemy_url",
]
