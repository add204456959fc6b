"""Saving a case in the web workspace loses nothing: concurrent saves of one case (from one server
or two over the same folder) each leave their text in the file or in `.standoff-history/`; a save
made from a version that is no longer the file's is refused with 409; `.standoff-history` that is
a symbolic link or a file is refused without writing anywhere; a failure of the disk is named."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from standoff.case import builtin_cases
from standoff.web import create_app
from standoff.web.workspace import HISTORY, version_of

from .webserver import serving

CUBA = builtin_cases()["cuba-1962"]
SAVERS = 30


@pytest.fixture()
def client(folder: Path, tmp_path: Path) -> TestClient:
    return TestClient(create_app(folder, str(tmp_path / "ledger.sqlite"), builtins=False))


def texts(n: int) -> list[str]:
    """`n` different texts of the case, each passing the checks."""
    base = CUBA.read_text(encoding="utf-8")
    return [f"{base}\n# version {k}\n" for k in range(n)]


def kept_texts(folder: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((folder / HISTORY).glob("mine.*.yaml"))]


def at_once(n: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`send(k)` for k in range(n), from n threads released together."""
    start = threading.Barrier(n)

    def one(k: int) -> httpx.Response:
        start.wait()
        return send(k)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_saves_each_end_in_the_file_or_the_history(folder: Path, tmp_path: Path):
    before = (folder / "mine.yaml").read_text(encoding="utf-8")
    new = texts(SAVERS)
    app = create_app(folder, str(tmp_path / "ledger.sqlite"), builtins=False)
    with serving(app) as base:
        replies = at_once(
            SAVERS, lambda k: httpx.put(f"{base}/api/cases/mine", json={"text": new[k]}, timeout=60)
        )
    assert [r.status_code for r in replies] == [200] * SAVERS, [r.text for r in replies]
    current = (folder / "mine.yaml").read_text(encoding="utf-8")
    kept = kept_texts(folder)
    lost = [k for k in range(SAVERS) if new[k] != current and new[k] not in kept]
    assert lost == []
    assert len(kept) == SAVERS and before in kept  # each save kept the text it replaced
    assert sorted([current, *kept]) == sorted([before, *new])
    assert len({r.json()["kept"] for r in replies}) == SAVERS  # no kept file reused


def test_two_servers_over_one_folder_take_turns(folder: Path, tmp_path: Path):
    before = (folder / "mine.yaml").read_text(encoding="utf-8")
    new = texts(SAVERS)
    first = create_app(folder, str(tmp_path / "one.sqlite"), builtins=False)
    second = create_app(folder, str(tmp_path / "two.sqlite"), builtins=False)
    with serving(first) as one, serving(second) as two:
        replies = at_once(
            SAVERS,
            lambda k: httpx.put(
                f"{(one, two)[k % 2]}/api/cases/mine", json={"text": new[k]}, timeout=60
            ),
        )
    assert [r.status_code for r in replies] == [200] * SAVERS
    current = (folder / "mine.yaml").read_text(encoding="utf-8")
    assert sorted([current, *kept_texts(folder)]) == sorted([before, *new])


def test_the_version_is_the_etag_and_a_stale_save_is_refused(client: TestClient, folder: Path):
    opened = client.get("/api/cases/mine")
    version = opened.json()["version"]
    assert version == version_of((folder / "mine.yaml").read_bytes())
    assert opened.headers["etag"] == f'"{version}"'
    first, second = texts(2)
    saved = client.put(
        "/api/cases/mine", json={"text": first}, headers={"If-Match": f'"{version}"'}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == version_of(first.encode()) != version
    assert saved.headers["etag"] == f'"{saved.json()["version"]}"'
    for stale in (
        client.put("/api/cases/mine", json={"text": second}, headers={"If-Match": f'"{version}"'}),
        client.put("/api/cases/mine", json={"text": second, "base": version}),
    ):
        assert stale.status_code == 409, stale.text
        assert "has changed since" in stale.json()["detail"]
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == first
    latest = client.get("/api/cases/mine").json()["version"]
    again = client.put("/api/cases/mine", json={"text": second, "base": latest})
    assert again.status_code == 200
    anyway = client.put("/api/cases/mine", json={"text": first}, headers={"If-Match": "*"})
    assert anyway.status_code == 200
    assert kept_texts(folder)[1:] == [first, second]


def test_concurrent_saves_from_one_version_save_one(folder: Path, tmp_path: Path):
    version = version_of((folder / "mine.yaml").read_bytes())
    new = texts(SAVERS)
    app = create_app(folder, str(tmp_path / "ledger.sqlite"), builtins=False)
    with serving(app) as base:
        replies = at_once(
            SAVERS,
            lambda k: httpx.put(
                f"{base}/api/cases/mine", json={"text": new[k], "base": version}, timeout=60
            ),
        )
    codes = sorted(r.status_code for r in replies)
    assert codes == [200] + [409] * (SAVERS - 1)
    winner = next(k for k, r in enumerate(replies) if r.status_code == 200)
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == new[winner]
    assert len(kept_texts(folder)) == 1


def test_the_editor_sends_the_version_it_opened(client: TestClient, folder: Path):
    page = client.get("/cases/mine/edit").text
    version = version_of((folder / "mine.yaml").read_bytes())
    assert f'data-version="{version}"' in page
    script = client.get("/static/edit.js").text
    assert "base: version" in script and "version = body.version" in script


def test_a_history_link_out_of_the_folder_is_refused(
    client: TestClient, folder: Path, tmp_path: Path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / HISTORY).symlink_to(outside)
    before = (folder / "mine.yaml").read_text(encoding="utf-8")
    response = client.put("/api/cases/mine", json={"text": texts(1)[0]})
    assert response.status_code == 500
    assert "symbolic link" in response.json()["detail"]
    assert list(outside.iterdir()) == []
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == before


def test_a_history_file_is_refused(client: TestClient, folder: Path):
    (folder / HISTORY).write_text("notes\n", encoding="utf-8")
    before = (folder / "mine.yaml").read_text(encoding="utf-8")
    response = client.put("/api/cases/mine", json={"text": texts(1)[0]})
    assert response.status_code == 500
    detail = response.json()["detail"]
    assert "is a file, not a folder" in detail and "internal error" not in detail
    assert (folder / HISTORY).read_text(encoding="utf-8") == "notes\n"
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        (errno.ENOSPC, 507, "the disk is full (ENOSPC)"),
        (errno.EROFS, 403, "the folder is read-only (a read-only file system) (EROFS)"),
        (errno.EACCES, 403, "the folder is read-only to this server"),
        (errno.EIO, 500, "(EIO)"),
    ],
)
def test_a_failing_disk_is_named(
    client: TestClient, folder: Path, monkeypatch: pytest.MonkeyPatch, code: int, status: int,
    words: str,
):  # fmt: skip
    from standoff.web import workspace

    def failing(path: Path, data: bytes) -> None:
        raise OSError(code, "the system's words")

    monkeypatch.setattr(workspace, "write_atomic", failing)
    before = (folder / "mine.yaml").read_text(encoding="utf-8")
    response = client.put("/api/cases/mine", json={"text": texts(1)[0]})
    assert response.status_code == status
    detail = response.json()["detail"]
    assert words in detail and "OSError" not in detail
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == before
    page = client.put(
        "/api/cases/mine", json={"text": texts(1)[0]}, headers={"accept": "text/html"}
    )
    assert page.status_code == status


def test_an_unexpected_disk_failure_anywhere_is_named(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
):
    from standoff.web import workspace

    def full(self: workspace.Workspace, ident: str) -> workspace.CaseText:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workspace.Workspace, "read_text", full)
    response = client.get("/api/cases/mine")
    assert response.status_code == 507
    assert "the disk is full" in response.json()["detail"]
