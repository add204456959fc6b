"""The web workspace refuses what other web sites send: a Host that is not the workspace's (DNS
rebinding), a change from another origin, a change without the X-Standoff header or a JSON body
(a plain form or `fetch` of another site), and, with a token, any request without it. The token
travels as a cookie set by opening the printed URL, `Authorization: token T` or `?token=T`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from standoff.cli import app as cli
from standoff.cli.serve import workspace_url
from standoff.web import create_app
from standoff.web.guard import allowed_hosts
from standoff.web.runs import Limits

from .webserver import free_port

TOKEN = "0123456789abcdef0123456789abcdef"
BASE = "http://127.0.0.1:8000"
LIMITS = Limits(trajectories=2, replicates=4)
EVIL = {"host": "evil.example:8000", "origin": "http://evil.example:8000"}


def client_of(folder: Path, token: str | None) -> TestClient:
    """The app as `standoff serve` makes it on 127.0.0.1 (with `token`, or --no-token)."""
    app = create_app(
        folder, str(folder.parent / "ledger.sqlite"), limits=LIMITS, token=token,
        allowed_hosts=allowed_hosts("127.0.0.1"),
    )  # fmt: skip
    return TestClient(app, base_url=BASE)


@pytest.fixture()
def open_client(folder: Path) -> TestClient:
    return client_of(folder, None)


@pytest.fixture()
def client(folder: Path) -> TestClient:
    return client_of(folder, TOKEN)


def finished_run(client: TestClient, **headers: str) -> str:
    """The id of a finished 50-draw run of `mine`."""
    job = client.post("/api/runs", json={"case": "mine", "draws": 50}, headers=headers)
    assert job.status_code == 202, job.text
    for _ in range(600):
        state = client.get(f"/api/runs/{job.json()['id']}", headers=headers).json()["state"]
        if state in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state == "done"
    return str(job.json()["id"])


def records(folder: Path) -> list[object]:
    """The ledger's records (read from its file, not through the workspace)."""
    from standoff.ledger import open_ledger

    ledger = open_ledger(str(folder.parent / "ledger.sqlite"))
    try:
        return list(ledger.records())
    finally:
        ledger.close()


def test_a_foreign_host_cannot_read_save_or_record(open_client: TestClient, folder: Path):
    before = (folder / "mine.yaml").read_bytes()
    run = finished_run(open_client)
    text = open_client.get("/api/cases/mine").json()["text"]
    replies = [
        open_client.get("/api/cases/mine", headers=EVIL),
        open_client.get("/api/cases", headers=EVIL),
        open_client.put("/api/cases/mine", headers=EVIL, json={"text": text + "# changed\n"}),
        open_client.post(f"/api/runs/{run}/record", headers={**EVIL, "x-standoff": "1"}),
        open_client.post("/api/check", headers=EVIL, json={"text": text}),
    ]
    for reply in replies:
        assert reply.status_code == 403, reply.text
        assert "the Host 'evil.example' is not a name of this workspace" in reply.json()["detail"]
    assert (folder / "mine.yaml").read_bytes() == before
    assert records(folder) == []


def test_a_foreign_host_gets_a_page_that_says_why(open_client: TestClient):
    page = open_client.get("/", headers={**EVIL, "accept": "text/html"})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "evil.example" in page.text and "--allow-host" in page.text
    assert "Traceback" not in page.text


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"])
def test_loopback_names_are_answered(open_client: TestClient, host: str):
    assert open_client.get("/api/cases", headers={"host": host}).status_code == 200


def test_the_names_each_address_answers_to():
    loopback = {"localhost", "127.0.0.1", "::1"}

    def names(bound: str, extra: tuple[str, ...] = ()) -> set[str] | None:
        found = allowed_hosts(bound, extra)
        return None if found is None else set(found)

    assert names("127.0.0.1") == loopback
    assert names("[::1]") == loopback
    assert names("192.168.1.5", ("Box.lan",)) == {"192.168.1.5", "box.lan", *loopback}
    assert allowed_hosts("0.0.0.0") is None  # any name: the token is what protects
    assert names("::", ("box.lan",)) == {"box.lan", *loopback}


@pytest.mark.parametrize(
    "foreign",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://127.0.0.1:9999"},  # same host, another port: another origin
        {"origin": "null"},  # a sandboxed frame or a redirect from elsewhere
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_a_change_from_another_origin_is_refused(
    open_client: TestClient, folder: Path, foreign: dict[str, str]
):
    before = (folder / "mine.yaml").read_bytes()
    text = before.decode() + "# changed\n"
    saved = open_client.put("/api/cases/mine", json={"text": text}, headers=foreign)
    assert saved.status_code == 403
    assert "from another site" in saved.json()["detail"]
    whatif = {"case": "mine", "draws": 100, "seed": 1, "set": {}}
    recorded = open_client.post("/api/whatif/record", json=whatif, headers=foreign)
    assert recorded.status_code == 403
    assert (folder / "mine.yaml").read_bytes() == before
    assert records(folder) == []


def test_a_change_from_the_workspace_itself_goes_through(open_client: TestClient, folder: Path):
    text = (folder / "mine.yaml").read_text(encoding="utf-8") + "# changed\n"
    own = {"origin": BASE, "sec-fetch-site": "same-origin"}
    saved = open_client.put("/api/cases/mine", json={"text": text}, headers=own)
    assert saved.status_code == 200, saved.text
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == text
    reading = open_client.get("/api/cases/mine", headers={"sec-fetch-site": "cross-site"})
    assert reading.status_code == 200  # reads are not refused for their origin (CORS hides them)


@pytest.mark.parametrize(
    "plain",
    [
        {},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "text/plain"},
        {"content-type": "multipart/form-data; boundary=x"},
    ],
)
def test_a_change_without_the_header_or_json_is_refused(
    open_client: TestClient, folder: Path, plain: dict[str, str]
):
    run = finished_run(open_client)
    body = b"" if not plain else b"x=1"
    refused = open_client.post(f"/api/runs/{run}/record", content=body, headers=plain)
    assert refused.status_code == 403
    assert "must carry the header 'X-Standoff: 1' or a JSON body" in refused.json()["detail"]
    assert records(folder) == []
    marked = open_client.post(f"/api/runs/{run}/record", headers={"x-standoff": "1"})
    assert marked.status_code == 200, marked.text
    assert len(records(folder)) == 1


def test_without_the_token_the_api_and_pages_are_refused(client: TestClient):
    for path in ("/api/cases", "/api/cases/mine", "/openapi.json"):
        reply = client.get(path)
        assert reply.status_code == 403
        assert "needs its token" in reply.json()["detail"]
    page = client.get("/cases/mine", headers={"accept": "text/html"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Open the workspace with the URL that <code>standoff serve</code> printed" in page.text
    assert TOKEN not in page.text
    saved = client.put("/api/cases/mine", json={"text": "id: x\n"})
    assert saved.status_code == 403
    assert client.get("/static/app.css").status_code == 200  # static files need no token


@pytest.mark.parametrize(
    "shown",
    [
        {"headers": {"authorization": "token wrong"}},
        {"headers": {"authorization": f"token {TOKEN}x"}},
        {"headers": {"authorization": f"basic {TOKEN}"}},
        {"params": {"token": TOKEN[:-1]}},
        {"cookies": {"standoff-token-8000": "wrong"}},
        {"cookies": {"standoff-token-9000": TOKEN}},  # another port's workspace
    ],
)
def test_a_wrong_token_is_refused(client: TestClient, shown: dict[str, dict[str, str]]):
    if "cookies" in shown:
        client.cookies.update(shown["cookies"])
    reply = client.get("/api/cases", headers=shown.get("headers"), params=shown.get("params"))
    assert reply.status_code == 403


@pytest.mark.parametrize(
    "shown",
    [
        {"headers": {"authorization": f"token {TOKEN}"}},
        {"headers": {"authorization": f"Bearer {TOKEN}"}},
        {"params": {"token": TOKEN}},
    ],
)
def test_the_right_token_opens_the_api(client: TestClient, shown: dict[str, dict[str, str]]):
    reply = client.get("/api/cases/mine", headers=shown.get("headers"), params=shown.get("params"))
    assert reply.status_code == 200, reply.text
    assert "id: cuba-1962" in reply.json()["text"]


def test_the_token_url_sets_a_strict_cookie_and_drops_the_token(client: TestClient):
    wrong = client.get(f"/?token={TOKEN}x", follow_redirects=False)
    assert wrong.status_code == 403 and "set-cookie" not in wrong.headers
    signed = client.get(f"/cases/mine?draws=5&token={TOKEN}", follow_redirects=False)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/cases/mine?draws=5"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"standoff-token-8000={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert signed.headers["referrer-policy"] == "no-referrer"
    # the client's cookie jar now holds it, as a browser's does
    assert client.get("/cases/mine", headers={"accept": "text/html"}).status_code == 200
    assert client.get("/api/cases/mine").status_code == 200


def test_a_redirect_never_leaves_the_workspace(client: TestClient):
    url = httpx.URL(BASE).copy_with(raw_path=f"//evil.example/?token={TOKEN}".encode())
    signed = client.send(client.build_request("GET", url), follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/"


def test_a_token_must_be_url_safe(folder: Path):
    for bad in ("", "two words", "a;b"):
        with pytest.raises(ValueError, match="token"):
            create_app(folder, token=bad)


def test_the_printed_url():
    assert workspace_url("127.0.0.1", 8000, TOKEN) == f"http://127.0.0.1:8000/?token={TOKEN}"
    assert workspace_url("0.0.0.0", 8100, "t") == "http://127.0.0.1:8100/?token=t"
    assert workspace_url("::", 8100, "t") == "http://[::1]:8100/?token=t"
    assert workspace_url("::1", 8100, None) == "http://[::1]:8100/"


def refused(args: list[str], folder: Path) -> str:
    result = CliRunner().invoke(cli, ["serve", str(folder), *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return str(lines[0])


def test_listening_beyond_this_machine_needs_a_token(folder: Path):
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        assert "needs a token" in refused(["--host", host, "--no-token"], folder)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--token", ""], "--token: the token is empty"),
        (["--token", "two words"], "--token: the token may hold only"),
        (["--token", "abc", "--no-token"], "give one or the other"),
        (["--allow-host", "box.lan:8000"], "--allow-host 'box.lan:8000'"),
        (["--allow-host", "http://box.lan"], "no scheme, port or path"),
    ],
)
def test_bad_serve_options_are_refused(folder: Path, args: list[str], says: str):
    assert says in refused(args, folder)


@pytest.fixture()
def served(folder: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`standoff serve` on a free loopback port, and the URL it printed."""
    port = free_port()
    script = "from standoff.cli import main; main()"
    command = [sys.executable, "-c", script, "serve", str(folder), "--port", str(port)]
    command += ["--allow-host", "box.lan", "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = "(nothing printed)"
        for said in process.stderr:  # the URL's line, after any warnings
            if said.startswith("standoff workspace on"):
                line = said
                break
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/static/app.css", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield line, process
    finally:
        process.terminate()
        process.wait(10)


def test_serve_prints_a_url_with_a_fresh_token_that_opens_the_workspace(
    served: tuple[str, subprocess.Popen[str]],
):
    line, _ = served
    found = re.search(r"on (http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]{48})) \(folder ", line)
    assert found, line
    url, port, token = found.groups()
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(base + "/api/cases").status_code == 403
    with httpx.Client(follow_redirects=True) as browser:
        signed = browser.get(url)  # follows the redirect, keeping the cookie
        assert signed.status_code == 200 and str(signed.url) == base + "/"
        assert "mine" in signed.text
        assert browser.get(base + "/api/cases/mine").status_code == 200
    shown = {"authorization": f"token {token}"}
    assert httpx.get(base + "/api/cases", headers=shown).status_code == 200
    box = httpx.get(base + "/api/cases", headers={**shown, "host": f"box.lan:{port}"})
    assert box.status_code == 200
    evil = httpx.get(base + "/api/cases", headers={**shown, "host": f"evil.example:{port}"})
    assert evil.status_code == 403
