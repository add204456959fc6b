"""The ledger fails fast and clearly: a PostgreSQL server that never answers is given up within
the connect timeout; a SQLite file locked by another process is waited for with one line, then
refused as locked (never as damaged); a record id beyond the database's integers is no record;
a damaged row is named and skipped while the rest of the ledger works; the calibration table's
bins are bounded. Every refusal on the command line is one `error:` line and exit status 2."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.ledger import LedgerError, open_ledger, store
from standoff.ledger.store import LedgerWarning

from .listeners import silent_listener

runner = CliRunner()
FORECAST = {
    "case": "c",
    "scenarios": {"deal": {"p": 0.6}, "no_deal": {"p": 0.4}},
    "questions": {"q": {"p": 0.25}, "r": {"p": 0.5}},
}
RESOLUTIONS = {"case": "c", "scenario": "deal", "questions": {"q": True, "r": False}}


@contextmanager
def locked_by_another_process(path: Path, release_after: float | None = None) -> Iterator[int]:
    """Another process holds the SQLite file's exclusive lock (`BEGIN EXCLUSIVE`: no reader, no
    writer gets in) until the block ends, or for `release_after` seconds; its process id."""
    code = textwrap.dedent(
        """
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        if sys.argv[2]:
            time.sleep(float(sys.argv[2]))
            db.execute("COMMIT")
            print("released", flush=True)
        sys.stdin.read()
        """
    )
    after = "" if release_after is None else str(release_after)
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path), after],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait(10)


def _by(pid: int) -> str:
    """How a message names the process holding the lock: with its id where the system says
    (Linux's /proc/locks)."""
    return (
        f"another process (process {pid})" if Path("/proc/locks").is_file() else "another process"
    )


def _lines(text: str) -> list[str]:
    return [x for x in text.splitlines() if x.strip()]


# --- PostgreSQL: a server that never answers ----------------------------------------------------


def test_a_silent_postgresql_server_ends_the_command_within_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store, "PG_CONNECT_TIMEOUT_S", 2)
    with silent_listener() as port:
        url = f"postgresql://nobody@127.0.0.1:{port}/ledger"
        for args in (
            ["ledger", "list", "--ledger", url],
            ["forecast", "--draws", "10", "--record", "--ledger", url],
        ):
            start = time.monotonic()
            result = runner.invoke(app, args)
            assert time.monotonic() - start < 15, args
            assert result.exit_code == 2, result.output
            assert "Traceback" not in result.output
            assert result.stderr.startswith(f"error: {url}: cannot connect: "), result.stderr


def test_the_command_line_gives_up_on_a_silent_postgresql_server_by_itself() -> None:
    """The real command, its default timeout: about 10 s, not for ever."""
    with silent_listener() as port:
        url = f"postgresql://nobody@127.0.0.1:{port}/ledger"
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "standoff.cli", "ledger", "list", "--ledger", url],
            capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        took = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert took < store.PG_CONNECT_TIMEOUT_S + 15
    assert _lines(done.stderr) == [f"error: {url}: cannot connect: connection timeout expired"]


def test_postgresql_sessions_have_a_connect_lock_and_statement_timeout() -> None:
    """Every connection gets them; a URL's own connect_timeout and options win."""
    assert store._pg_connect_args("postgresql+psycopg://u@h/db") == {
        "connect_timeout": store.PG_CONNECT_TIMEOUT_S,
        "options": f"-c lock_timeout={store.BUSY_TIMEOUT_S * 1000} "
        f"-c statement_timeout={store.PG_STATEMENT_TIMEOUT_S * 1000}",
    }
    own = store._pg_connect_args(
        "postgresql+psycopg://u@h/db?connect_timeout=3&options=-c%20statement_timeout%3D5000"
    )
    assert own == {
        "options": f"-c lock_timeout={store.BUSY_TIMEOUT_S * 1000} -c statement_timeout=5000"
    }


# --- SQLite: a file locked by another process ---------------------------------------------------


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 2)
    monkeypatch.setattr(store, "LOCK_NOTICE_S", 0.3)


def test_a_locked_ledger_is_waited_for_then_refused_as_locked(
    tmp_path: Path, short_waits: None
) -> None:
    """Opening, reading and recording each wait for the lock, say once that they do, and give up
    with `the ledger is locked`, never `damaged`; nothing is harmed."""
    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ledger.record(FORECAST)
    opened = open_ledger(str(path))
    attempts: list[Callable[[], Any]] = [
        lambda: open_ledger(str(path)),
        opened.records,
        lambda: opened.record(FORECAST),
    ]
    with locked_by_another_process(path) as pid:
        for attempt in attempts:
            with (
                pytest.warns(LedgerWarning) as warned,
                pytest.raises(LedgerError) as raised,
            ):
                attempt()
            assert [str(w.message) for w in warned] == [
                f"waiting for the ledger {path}: locked by {_by(pid)}"
            ]
            assert str(raised.value).startswith(f"{path}: the ledger is locked by {_by(pid)}; ")
            assert "damaged" not in str(raised.value)
    opened.close()
    with open_ledger(str(path)) as ledger:
        assert [r.p("question", "q") for r in ledger.records()] == [0.25]


def test_a_lock_released_while_waiting_lets_the_record_in(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ledger.record(FORECAST)
        with (
            locked_by_another_process(path, release_after=1.5),
            pytest.warns(LedgerWarning, match="waiting for the ledger"),
        ):
            ledger.record(FORECAST)
        assert len(ledger.records()) == 2


def test_the_command_line_says_it_waits_then_that_the_ledger_is_locked(tmp_path: Path) -> None:
    """`forecast --record` on a locked ledger, as a user runs it (the wait shortened to 3 s):
    one `warning: waiting ...` line, then one `error: ... locked ...` line, exit status 2."""
    path = tmp_path / "ledger.sqlite"
    open_ledger(str(path)).close()
    code = (
        "import sys\n"
        "from standoff.ledger import store\n"
        "store.BUSY_TIMEOUT_S = 3\n"
        "from standoff.cli import main\n"
        "sys.argv = ['standoff', *sys.argv[1:]]\n"
        "main()\n"
    )
    with locked_by_another_process(path) as pid:
        done = subprocess.run(
            [sys.executable, "-c", code, "forecast", "--draws", "10", "--record", "--ledger",
             str(path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "damaged" not in done.stderr
    lines = _lines(done.stderr)
    assert lines[0] == f"warning: waiting for the ledger {path}: locked by {_by(pid)}"
    assert lines[1:] == [
        f"error: {path}: the ledger is locked by {_by(pid)}; gave up after waiting 3 s "
        "(try again when it has finished)"
    ]


# --- record ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rid", ["9223372036854775808", "9223372036854775807", "0", "10" * 30])
def test_an_id_beyond_the_database_integers_is_no_record(tmp_path: Path, rid: str) -> None:
    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ledger.record(FORECAST)
        with pytest.raises(LedgerError, match=f"no record {rid}$"):
            ledger.get(int(rid))
    result = runner.invoke(app, ["ledger", "show", rid, "--ledger", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert _lines(result.stderr) == [f"error: {path}: no record {rid}"]


# --- damaged rows -------------------------------------------------------------------------------

DAMAGES = [
    ("ledger_forecasts", "forecast", "not json {", "its forecast is not JSON: 'not json {'"),
    ("ledger_forecasts", "forecast", "[1, 2]", "its forecast is not a JSON object"),
    ("ledger_forecasts", "seed", "abc", "seed 'abc': not a whole number"),
    ("ledger_forecasts", "recorded_at", b"2018-08-15", "recorded_at b'2018-08-15': not text"),
    ("ledger_probabilities", "p", "high", "the p of question q, 'high', is not a probability"),
    ("ledger_probabilities", "p", 1.5, "the p of question q, 1.5, is not a probability"),
]


def _damaged(tmp_path: Path, table: str, column: str, value: Any) -> tuple[Path, list[int]]:
    """A ledger of three records of case `c`, resolved, the second one damaged by hand."""
    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ids = [ledger.record(FORECAST) for _ in range(3)]
        ledger.resolve(RESOLUTIONS)
    with sqlite3.connect(path) as db:
        if table == "ledger_forecasts":
            db.execute(f"UPDATE ledger_forecasts SET {column} = ? WHERE id = ?", (value, ids[1]))
        else:  # the first question's probability (position 2, after the two scenarios)
            db.execute(
                f"UPDATE ledger_probabilities SET {column} = ? "
                "WHERE record_id = ? AND position = 2",
                (value, ids[1]),
            )
    return path, ids


@pytest.mark.parametrize(("table", "column", "value", "says"), DAMAGES)
def test_a_damaged_record_is_named_and_skipped(
    tmp_path: Path, table: str, column: str, value: Any, says: str
) -> None:
    path, ids = _damaged(tmp_path, table, column, value)
    warning = f"{path}: record {ids[1]} is damaged ({says}); skipped"
    with open_ledger(str(path)) as ledger:
        with pytest.warns(LedgerWarning) as warned:
            assert [r.id for r in ledger.records()] == [ids[0], ids[2]]
        assert [str(w.message) for w in warned] == [warning]
        with pytest.raises(LedgerError) as raised:
            ledger.get(ids[1])
        assert str(raised.value) == f"{path}: record {ids[1]} is damaged ({says})"
        assert ledger.get(ids[2]).p("question", "q") == 0.25
    # the command line: list and score work on the rest, show refuses the damaged one
    with pytest.warns(LedgerWarning, match=re.escape(warning)):
        listed = runner.invoke(app, ["ledger", "list", "--json", "--ledger", str(path)])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.stdout)["records"]] == [ids[0], ids[2]]
    with pytest.warns(LedgerWarning, match=re.escape(warning)):
        scored = runner.invoke(app, ["ledger", "score", "--json", "--ledger", str(path)])
    assert scored.exit_code == 0, scored.output
    overall = json.loads(scored.stdout)["overall"]
    assert (overall["records"], overall["n"]) == (2, 4)
    shown = runner.invoke(app, ["ledger", "show", str(ids[1]), "--ledger", str(path)])
    assert shown.exit_code == 2 and "Traceback" not in shown.output
    assert _lines(shown.stderr) == [f"error: {path}: record {ids[1]} is damaged ({says})"]


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("outcome", "maybe", "outcome 'maybe': not yes or no"),
        ("scenario_order", "deal, no_deal", "scenario_order is not JSON: 'deal, no_deal'"),
        ("kind", "questions", "kind 'questions': not question or scenario"),
        ("item", b"q", "item b'q': not text"),
    ],
)
def test_a_damaged_resolution_is_named_and_skipped(
    tmp_path: Path, column: str, value: Any, says: str
) -> None:
    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ledger.record(FORECAST)
        ledger.resolve(RESOLUTIONS)
    with sqlite3.connect(path) as db:
        first = db.execute("SELECT min(id) FROM ledger_resolutions").fetchone()[0]
        db.execute(f"UPDATE ledger_resolutions SET {column} = ? WHERE id = ?", (value, first))
    with open_ledger(str(path)) as ledger:
        with pytest.warns(LedgerWarning) as warned:
            scored = ledger.score()
        assert [str(w.message) for w in warned] == [
            f"{path}: resolution {first} is damaged ({says}); skipped"
        ]
    assert scored["overall"]["n"] == 1  # the other question still scores
    assert scored["unresolved"] == {"c": ["q"]}


def test_the_command_line_prints_a_damaged_row_as_one_warning_line(tmp_path: Path) -> None:
    path, ids = _damaged(tmp_path, "ledger_forecasts", "forecast", "not json {")
    done = subprocess.run(
        [sys.executable, "-m", "standoff.cli", "ledger", "list", "--ledger", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _lines(done.stderr) == [
        f"warning: {path}: record {ids[1]} is damaged (its forecast is not JSON: 'not json {{'); "
        "skipped"
    ]


# --- calibration bins ---------------------------------------------------------------------------


def test_calibration_bins_are_bounded(tmp_path: Path) -> None:
    """A billion bins would take gigabytes: both commands and both libraries refuse them."""
    from standoff.backtest.scores import MAX_BINS, calibration_table

    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ledger.record(FORECAST)
        ledger.resolve(RESOLUTIONS)
        with pytest.raises(LedgerError, match="bins 1000000000: a calibration table has 2 to"):
            ledger.score(bins=10**9)
        assert len(ledger.score(bins=MAX_BINS)["overall"]["calibration"]) == MAX_BINS
    with pytest.raises(ValueError, match="a calibration table has 2 to 100 bins"):
        calibration_table([0.5], [1], bins=10**9)
    for bins in ("1000000000", "101", "1"):
        for command in (["ledger", "score", "--ledger", str(path)], ["score", "f.json", "r.yaml"]):
            start = time.monotonic()
            result = runner.invoke(app, [*command, "--bins", bins])
            assert time.monotonic() - start < 10
            assert result.exit_code == 2 and "Traceback" not in result.output
            said = re.sub(r"[\s│╭╮╰╯─]+", " ", result.output)  # the usage error's box undone
            assert "a calibration table has 2 to 100 bins" in said, result.output
    most = runner.invoke(app, ["ledger", "score", "--ledger", str(path), "--bins", str(MAX_BINS)])
    assert most.exit_code == 0, most.output
