"""The forecast ledger: every backend passes `LedgerContract` (SQLite here, PostgreSQL in
test_ledger_postgres.py); the SQLite file's own refusals (a text file, a foreign database, a
damaged one) and the command line are tested here."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.errors import CaseError
from standoff.ledger import LedgerError, Record, open_ledger

from .conftest import clear_refusal

REPO = Path(__file__).resolve().parents[1]
RESOLUTIONS = REPO / "cases" / "resolutions" / "us-dprk-2018.yaml"
# cases/resolutions/us-dprk-2018.yaml, written out: what the hand computation scores against
OUTCOMES = {
    "second_summit": 1,
    "end_of_war_declaration": 0,
    "us_walks_away": 0,
    "nk_missile_test": 1,
    "armed_clash": 0,
    "sanctions_relief": 0,
    "nuclear_declaration": 0,
}
HAPPENED = "talks_continue"
runner = CliRunner()


@functools.cache
def _forecast(seed: int) -> dict[str, Any]:
    from standoff.compile import load
    from standoff.pipeline.forecast import run
    from standoff.serialize import forecast_json

    # cached: the tests copy it, never change it
    return forecast_json(run(load("us-dprk-2018"), draws=500, seed=seed))


@functools.cache
def _case_hash() -> str:
    from standoff.compile import load

    raw = load("us-dprk-2018").source.raw
    assert raw is not None
    return hashlib.sha256(raw).hexdigest()


def _brier(p: float, outcome: int) -> float:
    """The two-category Brier score, written out: (1 - p - (1 - o))^2 + (p - o)^2."""
    return ((1 - p) - (1 - outcome)) ** 2 + (p - outcome) ** 2


def _log(p: float, outcome: int) -> float:
    return -math.log(max(p if outcome else 1 - p, 1e-6))


def _record_many(url: str, forecast_file: Path, n: int) -> subprocess.Popen[str]:
    """A separate process that opens the ledger and records the forecast n times."""
    code = textwrap.dedent(
        """
        import json, sys
        from standoff.ledger import open_ledger
        forecast = json.load(open(sys.argv[1]))
        ledger = open_ledger(sys.argv[2])
        for k in range(int(sys.argv[3])):
            forecast["seed"] = 1000 + k
            ledger.record(forecast, case_hash="concurrent")
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(forecast_file), url, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class LedgerContract:
    """What every ledger backend does. A subclass gives the fixture `url`: a new, empty ledger
    location for each test."""

    @pytest.fixture
    def forecasts(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return _forecast(1), _forecast(2)

    @pytest.fixture
    def case_hash(self) -> str:
        return _case_hash()

    def test_record_list_show(
        self, url: str, forecasts: tuple[dict[str, Any], ...], case_hash: str
    ) -> None:
        with open_ledger(url) as ledger:
            first = ledger.record(forecasts[0], case_hash=case_hash)
            second = ledger.record(forecasts[1], case_hash=case_hash)
            assert second > first
            records = ledger.records()
            assert [r.id for r in records] == [first, second]
            assert [r.id for r in ledger.records("us-dprk-2018")] == [first, second]
            assert ledger.records("another-case") == []
            got = ledger.get(first)
        assert isinstance(got, Record)
        assert got == records[0]
        assert got.case_id == "us-dprk-2018"
        assert got.case_hash == case_hash
        assert got.as_of == "2018-08-15"
        assert got.observed_hash is None
        assert (got.seed, got.draws, got.model) == (1, 500, forecasts[0]["model"])
        assert got.forecast == forecasts[0]
        expected = [("scenario", s, v["p"]) for s, v in forecasts[0]["scenarios"].items()]
        expected += [("question", q, v["p"]) for q, v in forecasts[0]["questions"].items()]
        assert list(got.probabilities) == expected
        assert records[1].seed == 2
        assert got.recorded_at <= records[1].recorded_at
        assert got.recorded_at.endswith("+00:00")

    def test_a_revision_is_a_new_record(self, url: str, forecasts: tuple[dict[str, Any], ...]):
        with open_ledger(url) as ledger:
            ids = [ledger.record(forecasts[0], case_hash="h") for _ in range(3)]
            assert len(set(ids)) == 3
            assert [r.id for r in ledger.records()] == ids
            assert all(
                r.probabilities == ledger.get(ids[0]).probabilities for r in ledger.records()
            )

    def test_missing_record(self, url: str) -> None:
        with open_ledger(url) as ledger, pytest.raises(LedgerError, match="no record 42"):
            ledger.get(42)

    def test_observed_forecast(self, url: str, forecasts: tuple[dict[str, Any], ...]) -> None:
        seen = {**forecasts[0], "observed": {"as_of": "2019-03-01", "events": {}, "hash": "ab12"}}
        seen["effective_draws"] = 321.5
        with open_ledger(url) as ledger:
            got = ledger.get(ledger.record(seen))
        assert (got.as_of, got.observed_hash, got.case_hash) == ("2019-03-01", "ab12", None)
        assert got.forecast["effective_draws"] == 321.5

    def test_refuses_what_is_not_a_forecast(self, url: str) -> None:
        with open_ledger(url) as ledger:
            with pytest.raises(LedgerError, match="no case id"):
                ledger.record({"questions": {}})
            with pytest.raises(LedgerError, match=r"questions\.q\.p: not a probability"):
                ledger.record({"case": "c", "questions": {"q": {"p": 1.5}}})
            with pytest.raises(LedgerError, match="not plain JSON"):
                ledger.record({"case": "c", "questions": {}, "x": math.nan})
            assert ledger.records() == []

    def test_resolve_and_score_by_hand(
        self, url: str, forecasts: tuple[dict[str, Any], ...]
    ) -> None:
        with open_ledger(url) as ledger:
            ids = [ledger.record(f, case_hash="h") for f in forecasts]
            assert ledger.resolve(RESOLUTIONS) == len(OUTCOMES)
            scored = ledger.score()
        briers, logs = [], []
        for rid, forecast, row in zip(ids, forecasts, scored["records"], strict=True):
            assert row["id"] == rid
            ps = {q: v["p"] for q, v in forecast["questions"].items()}
            mine = [_brier(ps[q], o) for q, o in OUTCOMES.items()]
            assert row["brier"] == pytest.approx(sum(mine) / len(mine), abs=1e-6)
            assert row["log"] == pytest.approx(
                sum(_log(ps[q], o) for q, o in OUTCOMES.items()) / len(OUTCOMES), abs=1e-6
            )
            scenarios = {s: v["p"] for s, v in forecast["scenarios"].items()}
            by_hand = sum((p - (s == HAPPENED)) ** 2 for s, p in scenarios.items())
            assert row["scenario"]["brier"] == pytest.approx(by_hand, abs=1e-6)
            briers += mine
            logs += [_log(ps[q], o) for q, o in OUTCOMES.items()]
        overall = scored["overall"]
        assert (overall["n"], overall["records"]) == (14, 2)
        assert overall["brier"] == pytest.approx(sum(briers) / 14, abs=1e-6)
        assert overall["log"] == pytest.approx(sum(logs) / 14, abs=1e-6)
        assert scored["cases"]["us-dprk-2018"] == overall
        assert scored["unresolved"] == {}
        table = overall["calibration"]
        assert sum(row["n"] for row in table) == 14
        yes = [f["questions"][q]["p"] for f in forecasts for q, o in OUTCOMES.items() if o]
        hits = [row["observed"] * row["n"] for row in table if row["n"]]
        assert sum(hits) == pytest.approx(len(yes))
        json.dumps(scored, allow_nan=False)  # JSON-ready: no NaN in empty bins

    def test_newest_resolution_counts(
        self, url: str, forecasts: tuple[dict[str, Any], ...]
    ) -> None:
        with open_ledger(url) as ledger:
            ledger.record(forecasts[0])
            # every question resolved or `unresolved` (the rule of `standoff score`)
            pending = {q: "unresolved" for q in forecasts[0]["questions"]}
            partial = {"case": "us-dprk-2018", "scenario": "unresolved",
                       "questions": {**pending, "second_summit": False}}  # fmt: skip
            assert ledger.resolve(partial) == 1
            early = ledger.score()
            assert early["overall"]["n"] == 1
            p = forecasts[0]["questions"]["second_summit"]["p"]
            assert early["overall"]["brier"] == pytest.approx(_brier(p, 0), abs=1e-6)
            assert "armed_clash" in early["unresolved"]["us-dprk-2018"]
            assert ledger.resolve({**partial, "questions": {**pending, "second_summit": True}})
            late = ledger.score()
            assert late["overall"]["brier"] == pytest.approx(_brier(p, 1), abs=1e-6)
            latest = ledger.resolutions()[("us-dprk-2018", "question", "second_summit")]
            assert latest.outcome == "yes" and latest.happened
            with pytest.raises(CaseError, match="no_such_question: not in the forecast"):
                ledger.resolve({**partial, "questions": {**pending, "no_such_question": True}})
            with pytest.raises(LedgerError, match="case: missing"):
                ledger.resolve({"questions": {"second_summit": True}})
            from standoff.backtest.resolve import read_resolutions

            assert ledger.resolve(read_resolutions(RESOLUTIONS)) == len(OUTCOMES)
            assert ledger.score()["overall"]["n"] == len(OUTCOMES)

    def test_concurrent_writers_lose_nothing(
        self, url: str, forecasts: tuple[dict[str, Any], ...], tmp_path: Path
    ) -> None:
        """Two processes open a new ledger at once (both migrate it) and record 20 each."""
        file = tmp_path / "forecast.json"
        file.write_text(json.dumps(forecasts[0]))
        writers = [_record_many(url, file, 20) for _ in range(2)]
        for w in writers:
            _, stderr = w.communicate(timeout=300)
            assert w.returncode == 0, stderr
        with open_ledger(url) as ledger:
            records = ledger.records()
        assert len(records) == 40
        assert len({r.id for r in records}) == 40
        assert sorted(r.seed or 0 for r in records) == sorted([1000 + k for k in range(20)] * 2)
        assert all(len(r.probabilities) == 11 for r in records)

    def test_schema_matches_the_tables(self, url: str) -> None:
        """The migrations build exactly the tables of schema.py, and REVISIONS lists them."""
        from alembic.autogenerate import compare_metadata
        from alembic.config import Config
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        from standoff.ledger import schema, store

        config = Config()
        config.set_main_option("script_location", str(store.MIGRATIONS))
        walked = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
        assert tuple(reversed(walked)) == schema.REVISIONS
        with open_ledger(url) as ledger, ledger.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": schema.VERSION_TABLE})
            assert context.get_current_revision() == schema.HEAD
            diff = compare_metadata(context, schema.metadata)
        assert diff == []

    def test_command_line(
        self, url: str, tmp_path: Path, forecasts: tuple[dict[str, Any], ...]
    ) -> None:
        made = runner.invoke(
            app, ["forecast", "--draws", "300", "--seed", "5", "--record", "--ledger", url]
        )
        assert made.exit_code == 0, made.output
        assert "recorded as ledger record 1" in made.stderr
        listed = runner.invoke(app, ["ledger", "list", "--ledger", url, "--json"])
        assert listed.exit_code == 0, listed.output
        records = json.loads(listed.stdout)["records"]
        assert [(r["id"], r["seed"], r["draws"]) for r in records] == [(1, 5, 300)]
        assert records[0]["case_hash"] == _case_hash()
        shown = runner.invoke(app, ["ledger", "show", "1", "--ledger", url, "--json"])
        assert json.loads(shown.stdout)["forecast"]["seed"] == 5
        resolved = runner.invoke(app, ["ledger", "resolve", str(RESOLUTIONS), "--ledger", url])
        assert resolved.exit_code == 0, resolved.output
        scored = runner.invoke(app, ["ledger", "score", "--ledger", url, "--json"])
        data = json.loads(scored.stdout)
        ps = records[0]["questions"]
        by_hand = sum(_brier(ps[q], o) for q, o in OUTCOMES.items()) / len(OUTCOMES)
        assert data["overall"]["brier"] == pytest.approx(by_hand, abs=1e-6)
        tables = runner.invoke(app, ["ledger", "score", "--ledger", url])
        assert tables.exit_code == 0 and "Calibration" in tables.stdout
        png = tmp_path / "summit.png"
        drawn = runner.invoke(
            app, ["ledger", "plot", "us-dprk-2018:second_summit", "--out", str(png),
                  "--ledger", url],
        )  # fmt: skip
        assert drawn.exit_code == 0, drawn.output
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        missing = runner.invoke(app, ["ledger", "show", "9", "--ledger", url])
        assert missing.exit_code == 2
        assert "no record 9" in missing.stderr and "Traceback" not in missing.output
        unknown = runner.invoke(app, ["ledger", "plot", "no_such", "--ledger", url])
        assert unknown.exit_code == 2 and "no recorded forecast" in unknown.stderr


class TestSqlite(LedgerContract):
    @pytest.fixture
    def url(self, tmp_path: Path) -> str:
        return str(tmp_path / "ledger.sqlite")


def _refused(path: Path, problem: str) -> None:
    """Opening `path` as a ledger fails clearly (API and CLI: exit 2, the file named, no
    traceback) and leaves the file as it was."""
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with pytest.raises(LedgerError, match=problem) as raised:
        open_ledger(str(path))
    assert str(raised.value).startswith(f"{path}: ")
    result = runner.invoke(app, ["ledger", "list", "--ledger", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"error: {path}: ")
    assert problem in result.stderr.replace("\n", " ")
    recorded = runner.invoke(app, ["forecast", "--draws", "10", "--record", "--ledger", str(path)])
    assert recorded.exit_code == 2 and "Traceback" not in recorded.output
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes, not a ledger\n")
    _refused(text, "not a SQLite database")


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO customers (name) VALUES ('Ada')")
    _refused(other, "not a standoff ledger")


def test_a_damaged_sqlite_file_is_refused(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    _refused(damaged, "damaged SQLite database")


def test_a_newer_ledger_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    open_ledger(str(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE standoff_ledger_version SET version_num = '9999'")
    _refused(path, "schema revision 9999")


def test_where_the_ledger_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from standoff.ledger.store import sqlalchemy_url

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("STANDOFF_LEDGER", raising=False)
    default = tmp_path / ".standoff" / "ledger.sqlite"
    with open_ledger() as ledger:
        assert ledger.name == str(default)
    assert default.exists()
    monkeypatch.setenv("STANDOFF_LEDGER", str(tmp_path / "team.sqlite"))
    with open_ledger() as ledger:
        assert ledger.name == str(tmp_path / "team.sqlite")
    with open_ledger(f"sqlite:///{tmp_path / 'url.sqlite'}") as ledger:
        assert ledger.name == str(tmp_path / "url.sqlite")
    assert sqlalchemy_url("postgresql://u:pw@h:5/db")[:2] == (
        "postgresql+psycopg://u:pw@h:5/db",
        "postgresql://u:***@h:5/db",
    )
    assert sqlalchemy_url("postgres://h/db")[0] == "postgresql+psycopg://h/db"
    with pytest.raises(LedgerError, match=r"u:\*\*\*@h:abc/db: not a database URL"):
        open_ledger("postgresql://u:pw@h:abc/db")
    with pytest.raises(LedgerError, match="unsupported database 'mysql'"):
        open_ledger("mysql://h/db")
    with pytest.raises(LedgerError, match="does not exist"):
        open_ledger(str(tmp_path / "no" / "such" / "folder.sqlite"))
    with pytest.raises(LedgerError, match="a folder"):
        open_ledger(str(tmp_path))


def test_an_unreachable_server_is_a_clear_error() -> None:
    result = runner.invoke(app, ["ledger", "list", "--ledger", "postgresql://nobody@127.0.0.1:1/x"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("error: postgresql://nobody@127.0.0.1:1/x: cannot connect")


def test_ledger_without_record_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["forecast", "--draws", "10", "--ledger", str(tmp_path / "l")])
    assert result.exit_code == 2 and "add --record" in result.stderr


def test_start_up_loads_no_sqlalchemy() -> None:
    """`standoff --version` and `--help` stay quick: SQLAlchemy loads when a ledger opens."""
    code = (
        "import sys, standoff.cli\n"
        "for args in (['--version'], ['--help'], ['ledger', '--help']):\n"
        "    try:\n"
        "        standoff.cli.app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "ledger" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_readers_do_not_wait_for_a_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another process holds the SQLite file's write lock, the ledger still opens and
    reads (reading transactions take no write lock); a record waits for the lock, and times out
    with a clear error, that the ledger is locked, when it never comes."""
    from standoff.ledger import store

    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 1)
    path = tmp_path / "ledger.sqlite"
    with open_ledger(str(path)) as ledger:
        ledger.record({"case": "c", "questions": {"q": {"p": 0.5}}})
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with open_ledger(str(path)) as ledger:
            assert [r.case_id for r in ledger.records()] == ["c"]
            with pytest.raises(LedgerError, match="the ledger is locked by another process"):
                ledger.record({"case": "c", "questions": {"q": {"p": 0.5}}})
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_malformed_resolution_file_is_refused_at_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "resolutions.yaml"
    bad.write_text("case: us-dprk-2018\nquestions:\n  second_summit: maybe\n")
    ledger = str(tmp_path / "ledger.sqlite")
    result = runner.invoke(app, ["ledger", "resolve", str(bad), "--ledger", ledger])
    assert "questions.second_summit" in clear_refusal(result, str(bad))
    with open_ledger(ledger) as opened:
        assert opened.resolutions() == {}
