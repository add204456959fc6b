"""The web workspace under faults: a ledger that accepts connections and never answers, or that
another process holds locked, leaves every light route answering within a second (the ledger's
pages say "the ledger is not answering", the API answers 503); ordinary bytes never make a 500
(a YAML-escaped lone surrogate in a case, a lone surrogate or NaN/Infinity in a JSON body); an
oversize case file is listed as a problem without being read, and unchanged files are not compiled
again; a slow client cannot hold a connection, and running out of connections is logged in a
line, not a traceback per connection."""

from __future__ import annotations

import asyncio
import logging
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from standoff.case import builtin_cases
from standoff.web import create_app
from standoff.web.runs import Limits
from standoff.web.workspace import MAX_CASE_BYTES

from .listeners import silent_listener
from .webserver import free_port, serving

CUBA = builtin_cases()["cuba-1962"]
LIGHT = ("/api/cases", "/", "/static/app.css")
LEDGER_PAGES = ("/cases/mine/whatif", "/cases/mine/history")
WAIT = 2.0  # the seconds a request waits for the ledger in these tests


@pytest.fixture()
def client(folder: Path, tmp_path: Path) -> TestClient:
    return TestClient(create_app(folder, str(tmp_path / "ledger.sqlite"), builtins=False))


def light_while_ledger_pages(base: str) -> tuple[float, dict[str, tuple[int, float, str]]]:
    """Ask for the ledger's pages (and record a what-if) while the light routes are asked for,
    one after another, until those have all answered; the slowest light answer, and each
    ledger request's status, seconds and text."""
    answers: dict[str, tuple[int, float, str]] = {}

    def ask(path: str) -> None:
        began = time.perf_counter()
        if path == "/api/whatif/record":
            r = httpx.post(base + path, json={"case": "mine", "draws": 50}, timeout=60)
        else:
            r = httpx.get(base + path, timeout=60)
        answers[path] = (r.status_code, time.perf_counter() - began, r.text)

    asking = [
        threading.Thread(target=ask, args=(p,)) for p in (*LEDGER_PAGES, "/api/whatif/record")
    ]
    for thread in asking:
        thread.start()
        time.sleep(0.05)
    slowest = 0.0
    with httpx.Client(base_url=base, timeout=30) as light:
        while any(t.is_alive() for t in asking) or slowest == 0.0:
            for path in LIGHT:
                began = time.perf_counter()
                response = light.get(path)
                slowest = max(slowest, time.perf_counter() - began)
                assert response.status_code == 200, (path, response.status_code)
            time.sleep(0.05)
    for thread in asking:
        thread.join()
    return slowest, answers


def check_ledger_answers(answers: dict[str, tuple[int, float, str]]) -> None:
    for path in LEDGER_PAGES:
        status, seconds, text = answers[path]
        assert status == 200 and seconds < WAIT + 3.0, (path, status, seconds)
        assert "the ledger is not answering" in text, path
    status, seconds, text = answers["/api/whatif/record"]
    assert status == 503 and "the ledger is not answering" in text, (status, text)


@pytest.fixture(name="silent_listener")
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    with silent_listener() as port:
        yield port


def test_a_silent_postgresql_ledger_blocks_nothing(folder: Path, silent_listener: int):
    url = f"postgresql://someone@127.0.0.1:{silent_listener}/ledger"
    app = create_app(folder, url, builtins=False, limits=Limits(ledger_seconds=WAIT))
    with serving(app) as base:
        slowest, answers = light_while_ledger_pages(base)
        index = httpx.get(base + "/", timeout=10)
        assert "the ledger is not answering" in index.text
    print(f"\nsilent PostgreSQL ledger: slowest light answer {slowest:.3f} s; ledger pages "
          + ", ".join(f"{p} {a[1]:.2f} s" for p, a in answers.items()))  # fmt: skip
    assert slowest < 1.0
    check_ledger_answers(answers)


@pytest.fixture()
def locked_sqlite(tmp_path: Path) -> Iterator[Path]:
    """A ledger file another process holds in an exclusive transaction."""
    from standoff.ledger import open_ledger

    path = tmp_path / "locked.sqlite"
    open_ledger(str(path)).close()
    code = (
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(300)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield path
    finally:
        holder.kill()
        holder.wait(10)


@pytest.mark.filterwarnings("ignore::Warning")
def test_a_locked_sqlite_ledger_blocks_nothing(folder: Path, locked_sqlite: Path):
    app = create_app(folder, str(locked_sqlite), builtins=False, limits=Limits(ledger_seconds=WAIT))
    with serving(app) as base:
        slowest, answers = light_while_ledger_pages(base)
    print(f"\nlocked SQLite ledger: slowest light answer {slowest:.3f} s; ledger pages "
          + ", ".join(f"{p} {a[1]:.2f} s" for p, a in answers.items()))  # fmt: skip
    assert slowest < 1.0
    check_ledger_answers(answers)


def test_a_hung_ledger_call_does_not_hold_later_ones_forever():
    from standoff.web.ledger import Ledger, LedgerUnavailable

    ledger = Ledger(None, wait=0.5)
    ledger._ledger = object()  # opened: the calls below use it
    release = threading.Event()

    async def run() -> list[tuple[str, float]]:
        seen: list[tuple[str, float]] = []

        async def timed(use: Any) -> None:
            began = time.perf_counter()
            try:
                seen.append((str(await ledger.call(use)), time.perf_counter() - began))
            except LedgerUnavailable as e:
                seen.append((str(e), time.perf_counter() - began))

        await timed(lambda _: release.wait(30))  # hangs until released
        await timed(lambda _: "second")  # behind the hung call: refused, not queued forever
        await asyncio.sleep(0.1)
        await timed(lambda _: "third")  # the hung call is past its wait: refused at once
        release.set()
        await asyncio.sleep(0.2)
        await timed(lambda _: "answered")  # the hung call has returned: the ledger is used again
        return seen

    seen = asyncio.run(asyncio.wait_for(run(), 20))
    assert [text.startswith("the ledger is not answering") for text, _ in seen[:3]] == [True] * 3
    assert all(seconds < 1.0 for _, seconds in seen[:2]) and seen[2][1] < 0.1
    assert seen[3][0] == "answered"


SURROGATE_TITLE = 'title: "\\ud83d"'


def test_a_lone_surrogate_in_a_case_is_a_problem_not_a_500(client: TestClient, folder: Path):
    text = CUBA.read_text(encoding="utf-8")
    line = "title: The Cuban missile crisis (October 1962)"
    at = text.splitlines().index(line) + 1
    (folder / "odd.yaml").write_text(text.replace(line, SURROGATE_TITLE), encoding="utf-8")
    index = client.get("/")
    assert index.status_code == 200 and 'data-case="mine"' in index.text
    assert '<tr data-case="odd">' in index.text
    for page in ("/cases/odd", "/cases/odd/whatif", "/cases/odd/run", "/cases/odd/edit"):
        response = client.get(page)
        assert response.status_code == 200, page
    assert f"line {at}" in client.get("/cases/odd").text
    checked = client.post("/api/check", json={"text": text.replace(line, SURROGATE_TITLE)}).json()
    assert checked["ok"] is False
    (problem,) = checked["problems"]
    assert problem["line"] == at and problem["field"] == "title"
    assert "lone surrogate" in problem["message"]
    forecast = client.post("/api/forecast", json={"case": "odd", "draws": 10})
    assert forecast.status_code == 422 and "lone surrogate" in forecast.text
    pair = text.replace(line, 'title: "\\ud83d\\ude00"')  # a pair escaped by halves
    assert client.post("/api/check", json={"text": pair}).json()["ok"] is False
    whole = text.replace(line, 'title: "\\U0001F600 crisis"')
    assert client.post("/api/check", json={"text": whole}).json()["ok"] is True


BAD_BODIES = [
    ("/api/forecast", '{"case": "mine", "draws": Infinity}', "draws: not a finite number"),
    ("/api/forecast", '{"case": "mine", "draws": NaN}', "draws: not a finite number"),
    ("/api/whatif", '{"case": "mine", "set": {"param:strike_rate": NaN}}', "not a finite number"),
    ("/api/whatif", '{"case": "mine", "seed": -Infinity}', "seed: not a finite number"),
    ("/api/check", '{"text": "id: \\ud83d"}', "text: holds a lone surrogate"),
    ("/api/check", '{"draws": Infinity}', "not a finite number"),
    ("/api/forecast", '{"case": "\\udc00"}', "case: holds a lone surrogate"),
    ("/api/whatif", '{"case": "mine", "set": {"\\ud83d": 1}}', "a key holds a lone surrogate"),
    ("/api/runs", '{"case": "mine", "draws": Infinity}', "draws: not a finite number"),
    ("/api/whatif/record", '{"case": "mine", "draws": NaN}', "draws: not a finite number"),
]


@pytest.mark.parametrize(("route", "body", "words"), BAD_BODIES)
def test_odd_json_bodies_get_422(client: TestClient, route: str, body: str, words: str):
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_odd_json_bodies_over_a_real_connection(folder: Path, tmp_path: Path):
    app = create_app(folder, str(tmp_path / "ledger.sqlite"), builtins=False)
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        for route, body, words in BAD_BODIES[:3] + BAD_BODIES[4:5]:
            response = http.post(route, content=body, headers={"content-type": "application/json"})
            assert response.status_code == 422 and words in response.json()["detail"]
        saved = http.put("/api/cases/mine", content='{"text": "\\ud83d"}',
                         headers={"content-type": "application/json"})  # fmt: skip
        assert saved.status_code == 422
        assert http.get("/api/cases").status_code == 200  # the same connection still serves


def bytes_read() -> int:
    """The bytes this process has read so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs /proc/self/io")
def test_an_oversize_case_is_listed_without_being_read(client: TestClient, folder: Path):
    big = folder / "big.yaml"
    with big.open("wb") as f:
        f.truncate(200 * MAX_CASE_BYTES)  # 200 MB, sparse: costs no disk
    client.get("/")
    before = bytes_read()
    index = client.get("/")
    read = bytes_read() - before
    assert index.status_code == 200
    row = index.text[index.text.index('<tr data-case="big">') :].split("</tr>")[0]
    assert "1 problem" in row
    assert read < 10 * MAX_CASE_BYTES, read
    response = client.get("/api/cases/big")
    assert response.status_code == 413 and "larger than 1,000,000 bytes" in response.text
    assert client.get("/cases/big", headers={"accept": "text/html"}).status_code == 413


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs /proc/self/io")
def test_unchanged_files_are_not_read_or_compiled_again(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch
):
    from standoff.web import state as state_module

    shutil.copy(CUBA, folder / "other.yaml")
    compiled: list[str] = []
    real = state_module.load_yaml

    def counting(text: str, file: str = "<text>") -> Any:
        compiled.append(file)
        return real(text, file)

    monkeypatch.setattr(state_module, "load_yaml", counting)
    assert client.get("/").status_code == 200
    for _ in range(3):
        before = bytes_read()
        assert client.get("/").status_code == 200
        assert bytes_read() - before < CUBA.stat().st_size  # not even one case file read
    assert sorted(compiled) == ["mine.yaml", "other.yaml"]
    text = (folder / "other.yaml").read_text(encoding="utf-8")
    (folder / "other.yaml").write_text(text + "\n# changed\n", encoding="utf-8")
    assert client.get("/").status_code == 200
    assert sorted(compiled) == ["mine.yaml", "other.yaml", "other.yaml"]


def test_a_slow_client_cannot_hold_a_connection(folder: Path, tmp_path: Path):
    app = create_app(folder, str(tmp_path / "ledger.sqlite"), builtins=False)
    with serving(app, header_seconds=1.0, body_seconds=1.0) as base:
        port = int(base.rsplit(":", 1)[1])
        quiet = socket.create_connection(("127.0.0.1", port))
        headers = socket.create_connection(("127.0.0.1", port))
        headers.sendall(b"GET /api/cases HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        body = socket.create_connection(("127.0.0.1", port))
        body.sendall(
            b"POST /api/check HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        for sock in (quiet, headers, body):
            sock.settimeout(5)
        began = time.perf_counter()
        answers = [read_all(sock) for sock in (quiet, headers, body)]
        waited = time.perf_counter() - began
        assert httpx.get(base + "/api/cases", timeout=10).status_code == 200
    assert waited < 4.0
    assert answers[1].startswith(b"HTTP/1.1 408")
    assert answers[2].startswith(b"HTTP/1.1 408") and b"did not arrive in time" in answers[2]


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection."""
    got = b""
    with sock:
        while chunk := sock.recv(65536):
            got += chunk
    return got


SERVE = """\
import resource, sys
from pathlib import Path
import uvicorn
from standoff.web import create_app
from standoff.web.server import config
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
app = create_app(Path(sys.argv[1]), sys.argv[2], builtins=False)
uvicorn.Server(config(app, "127.0.0.1", int(sys.argv[3]), header_seconds=10.0)).run()
"""


def test_too_many_connections_are_refused_in_a_line(folder: Path, tmp_path: Path):
    from standoff.web.server import connection_limits

    served, _ = connection_limits(1024)

    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(folder), str(tmp_path / "l.sqlite"), str(port)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        held = []
        began = time.perf_counter()
        for _ in range(1000):  # more than its limit of 768 connections
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        connecting = time.perf_counter() - began
        time.sleep(1.0)  # the refusals are written as the connections are accepted
        refused = 0
        for sock in held:
            sock.setblocking(False)
            try:
                first = sock.recv(64)
            except OSError:  # nothing yet: served, waiting for a request
                first = b""
            refused += first.startswith(b"HTTP/1.1 503")
        for sock in held:
            sock.close()
        time.sleep(0.5)
        answer = httpx.get(f"http://127.0.0.1:{port}/api/cases", timeout=10)
        assert answer.status_code == 200
    finally:
        server.terminate()
        server.wait(20)
    text = log.read_text()
    print(f"\n{len(held)} connections made in {connecting:.1f} s: {refused} refused with 503; "
          f"the log:\n{text}")  # fmt: skip
    assert refused >= len(held) - served  # the others were served (to time out)
    assert "Traceback" not in text and len(text.splitlines()) <= 10
    assert "no file descriptor left" not in text
    assert sum(connection_limits()) < resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def test_refused_accepts_are_logged_as_one_line():
    from standoff.web.server import ONE_LINE, quiet_overloads

    quiet_overloads()
    logger = logging.getLogger("asyncio")
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logger.addHandler(keep)
    ONE_LINE.last.clear()
    try:
        for _ in range(1000):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                logger.error("socket.accept() out of system resource", exc_info=True)
    finally:
        logger.removeHandler(keep)
    assert len(seen) == 1
    assert seen[0].exc_info is None
    assert "no file descriptor left" in seen[0].getMessage()
