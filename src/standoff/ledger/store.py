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
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from .errors import LedgerError
from .record import Probability, Record
from .schema import HEAD, REVISIONS, TABLES, VERSION_TABLE, forecasts, probabilities, resolutions

ENV = "STANDOFF_LEDGER"
DEFAULT_PATH = Path("~/.standoff/ledger.sqlite")
BUSY_TIMEOUT_S = 60
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The key of the PostgreSQL advisory lock held while a ledger is checked and migrated.
PG_LOCK = 0x5354414E444F4646  # "STANDOFF"
MAX_BIGINT = 2**63 - 1


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


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger at `url` (see the module's docstring), created or migrated to the current
    schema. Raises LedgerError when it is not a ledger, is damaged, or cannot be reached."""
    target, shown, path = sqlalchemy_url(url)
    if path is not None:
        _check_sqlite_file(path, shown, made_here=url is None and ENV not in os.environ)
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
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as e:
        raise LedgerError(f"{shown}: cannot open read-only: {e}") from None
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        version = None
        if VERSION_TABLE in names:
            version = [r[0] for r in db.execute(f"SELECT version_num FROM {VERSION_TABLE}")]
    except sqlite3.DatabaseError as e:
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


class Ledger:
    """Forecasts recorded, revised, resolved and scored (see the package's docstring)."""

    def __init__(self, url: str, shown: str, sqlite: bool) -> None:
        self.name = shown  # the file or the URL with its password hidden, for messages
        self.sqlite = sqlite
        try:
            if sqlite:
                self.engine: Engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
                event.listen(self.engine, "connect", _sqlite_connect)
                event.listen(self.engine, "begin", _sqlite_begin)
            else:
                self.engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as e:
            raise LedgerError(f"{shown}: {_first_line(e)}") from None

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
            if not self.sqlite:
                conn.execute(select(_pg_lock()))
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
        row, items = _forecast_row(self.name, forecast, case_hash)
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
        """Every record (of one case), oldest first."""
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
        return [_record(row, by_record.get(row["id"], [])) for row in rows]

    def get(self, rid: int) -> Record:
        """One record; LedgerError when there is none with this id."""
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
        return _record(row, items)

    # -- resolutions

    def resolve(
        self, resolutions_: str | Path | Mapping[str, Any] | tuple[Mapping[str, Any], Any]
    ) -> int:
        """Store what happened: a resolution file (the format of cases/resolutions/, read by
        `standoff.backtest.resolve.read_resolutions`, whose CaseError names FILE:LINE) or its
        parsed mapping (or the (mapping, lines) pair `read_resolutions` gives). Each resolved
        question (and the scenario) is a new row; the newest counts.
        Gives the number of question resolutions stored (`unresolved` ones are not stored)."""
        from ..backtest.resolve import UNRESOLVED, read_resolutions

        file: str | None = None
        if isinstance(resolutions_, str | Path):
            file = str(resolutions_)
            data, _ = read_resolutions(Path(resolutions_))
        elif isinstance(resolutions_, tuple):
            data = dict(resolutions_[0])
        else:
            data = dict(resolutions_)
        where = file or "(resolutions)"
        case_id = data.get("case")
        if not isinstance(case_id, str) or not case_id:
            raise LedgerError(f"{where}: case: missing; the ledger files resolutions by case id")
        questions = data.get("questions")
        if not isinstance(questions, Mapping):
            raise LedgerError(f"{where}: questions: expected a mapping of id: yes, no, unresolved")
        resolved_on = data.get("resolved")
        common = {
            "case_id": case_id,
            "resolved_on": None if resolved_on is None else str(resolved_on),
            "file": file,
            "recorded_at": _now(),
        }
        rows: list[dict[str, Any]] = []
        for ident, value in questions.items():
            detail = value if isinstance(value, Mapping) else {"outcome": value}
            outcome = detail.get("outcome")
            if outcome == UNRESOLVED:
                continue
            if not isinstance(outcome, bool):
                raise LedgerError(f"{where}: questions.{ident}: outcome must be yes or no")
            rows.append(
                {**common, "kind": "question", "item": str(ident),
                 "outcome": "yes" if outcome else "no", "scenario_order": None,
                 "note": _text(detail.get("note")), "source": _text(detail.get("source"))}
            )  # fmt: skip
        n_questions = len(rows)
        scenario = data.get("scenario")
        if isinstance(scenario, str) and scenario != UNRESOLVED:
            order = data.get("scenario_order")
            rows.append(
                {**common, "kind": "scenario", "item": "", "outcome": scenario,
                 "scenario_order": json.dumps(list(order)) if order else None,
                 "note": _text(data.get("note")), "source": _text(data.get("source"))}
            )  # fmt: skip
        known = self._questions(case_id)
        strangers = [r["item"] for r in rows if r["kind"] == "question" and r["item"] not in known]
        if known and strangers:
            raise LedgerError(
                f"{where}: questions: {', '.join(strangers)}: in no recorded forecast of "
                f"{case_id!r} (its questions: {', '.join(sorted(known))}); nothing stored"
            )
        if rows:
            with self._transaction("cannot store the resolutions") as conn:
                conn.execute(resolutions.insert(), rows)
        return n_questions

    def _questions(self, case_id: str) -> set[str]:
        """The ids of the questions the case's recorded forecasts gave probabilities for."""
        query = (
            select(probabilities.c.item)
            .distinct()
            .join(forecasts)
            .where(forecasts.c.case_id == case_id, probabilities.c.kind == "question")
        )
        with self._transaction("cannot read the ledger", write=False) as conn:
            items: list[Any] = list(conn.execute(query).scalars())
        return {str(item) for item in items}

    def resolutions(self, case_id: str | None = None) -> dict[tuple[str, str, str], dict[str, Any]]:
        """The resolution that counts (the newest) of each (case, kind, item)."""
        query = select(resolutions).order_by(resolutions.c.id)
        if case_id is not None:
            query = query.where(resolutions.c.case_id == case_id)
        with self._transaction("cannot read the ledger", write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return {(r["case_id"], r["kind"], r["item"]): dict(r) for r in rows}

    def score(self, case_id: str | None = None, bins: int = 5) -> dict[str, Any]:
        """Brier and log scores of every recorded forecast against the resolutions, per record,
        per case and overall, with a calibration table (see `standoff.ledger.scoring`)."""
        from .scoring import score_records

        data = score_records(self.records(case_id), self.resolutions(case_id), bins)
        return {"ledger": self.name, **data}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _is_connect(e: DBAPIError) -> bool:
    from sqlalchemy.exc import OperationalError

    return isinstance(e, OperationalError) and "connect" in str(e.orig).lower()


def _pg_lock() -> Any:
    from sqlalchemy import func

    return func.pg_advisory_xact_lock(PG_LOCK - 2**64 if PG_LOCK > MAX_BIGINT else PG_LOCK)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: transactions begin where `_sqlite_begin` says (the driver's own are off)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """SQLite: a writing transaction takes the write lock at once (waiting for it up to the busy
    timeout), so that it never has to upgrade a read lock, which SQLite refuses without waiting
    when another writer holds it. A reading one (`standoff_read`) begins deferred."""
    read = conn.get_execution_options().get("standoff_read", False)
    conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _forecast_row(
    name: str, forecast: Mapping[str, Any], case_hash: str | None
) -> tuple[dict[str, Any], list[Probability]]:
    """The row of `ledger_forecasts` and the probabilities of a forecast JSON, checked."""
    if not isinstance(forecast, Mapping):
        raise LedgerError(f"{name}: a forecast is the JSON object of `standoff forecast --json`")
    case_id = forecast.get("case")
    if not isinstance(case_id, str) or not case_id:
        raise LedgerError(f"{name}: the forecast has no case id (`case`); not recorded")
    items: list[Probability] = []
    for kind, part in (("scenario", "scenarios"), ("question", "questions")):
        entries = forecast.get(part) or {}
        if not isinstance(entries, Mapping):
            raise LedgerError(f"{name}: the forecast's {part}: expected an object; not recorded")
        for ident, entry in entries.items():
            p = entry.get("p") if isinstance(entry, Mapping) else None
            if not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 1:
                raise LedgerError(f"{name}: {part}.{ident}.p: not a probability; not recorded")
            items.append((kind, str(ident), float(p)))
    seed, draws = _int(forecast.get("seed")), _int(forecast.get("draws"))
    for field, value in (("seed", seed), ("draws", draws)):
        if value is not None and not 0 <= value <= MAX_BIGINT:
            raise LedgerError(f"{name}: {field} {value}: outside 0..2^63-1; not recorded")
    observed = forecast.get("observed")
    observed = observed if isinstance(observed, Mapping) else {}
    as_of = observed.get("as_of") or forecast.get("as_of")
    given_hash = case_hash or forecast.get("case_hash")
    try:
        text = json.dumps(forecast, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise LedgerError(f"{name}: the forecast is not plain JSON ({e}); not recorded") from None
    model = forecast.get("model")
    version = forecast.get("standoff")
    row = {
        "case_id": case_id,
        "case_hash": given_hash if isinstance(given_hash, str) else None,
        "recorded_at": _now(),
        "as_of": str(as_of) if as_of else None,
        "observed_hash": _text(observed.get("hash")),
        "seed": seed,
        "draws": draws,
        "model": model if isinstance(model, str) else None,
        "standoff_version": version if isinstance(version, str) else None,
        "forecast": text,
    }
    return row, items


def _record(row: Mapping[Any, Any], items: list[Probability]) -> Record:
    return Record(
        id=int(row["id"]),
        case_id=row["case_id"],
        case_hash=row["case_hash"],
        recorded_at=row["recorded_at"],
        as_of=row["as_of"],
        observed_hash=row["observed_hash"],
        seed=row["seed"],
        draws=row["draws"],
        model=row["model"],
        probabilities=tuple((k, i, float(p)) for k, i, p in items),
        forecast=json.loads(row["forecast"]),
    )


__all__ = ["Ledger", "LedgerError", "Record", "open_ledger", "sqlalchemy_url"]
