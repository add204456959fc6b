"""The web workspace's JSON API and pages through FastAPI's test client: the forecast is the
CLI's, byte for byte; bounds answer 413 and 422; no path outside the workspace is reached; user
text is escaped; a case is saved only when valid, its previous version kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from standoff.case import builtin_cases
from standoff.cli import app as cli
from standoff.serialize import dumps
from standoff.web import create_app
from standoff.web.runs import Limits

CUBA = builtin_cases()["cuba-1962"]


@pytest.fixture()
def client(folder: Path, tmp_path: Path) -> TestClient:
    limits = Limits(draws=20_000, whatif_draws=2_000, body=200_000, trajectories=2, replicates=4)
    return TestClient(create_app(folder, str(tmp_path / "ledger.sqlite"), limits=limits))


def cli_json(tmp_path: Path, case: str, draws: int, seed: int) -> bytes:
    out = tmp_path / "cli.json"
    result = CliRunner().invoke(
        cli, ["forecast", case, "--draws", str(draws), "--seed", str(seed), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out.read_bytes()


@pytest.mark.parametrize("case", ["cuba-1962", "us-dprk-2018"])
def test_forecast_is_the_cli_json_byte_for_byte(client: TestClient, tmp_path: Path, case: str):
    response = client.post("/api/forecast", json={"case": case, "draws": 300, "seed": 7})
    assert response.status_code == 200, response.text
    assert response.content == cli_json(tmp_path, case, 300, 7)
    assert dumps(response.json()).encode() == response.content


def test_forecast_of_yaml_text_and_of_a_workspace_file(client: TestClient, tmp_path: Path):
    text = CUBA.read_text(encoding="utf-8")
    expected = cli_json(tmp_path, str(CUBA), 200, 3)
    by_text = client.post("/api/forecast", json={"case": text, "draws": 200, "seed": 3})
    by_id = client.post("/api/forecast", json={"case": "mine", "draws": 200, "seed": 3})
    assert by_text.content == expected
    assert by_id.content == expected


PLAIN = """\
id: plain
issues:
  - id: tariff
actors:
  - id: a
    capability: 100
    stances: {tariff: {position: 0 to 20, salience: 0.8}}
  - id: b
    capability: 40 to 60
    stances: {tariff: {position: 100, salience: 0.9}}
"""


def test_plain_case_forecast_matches_the_cli(client: TestClient, tmp_path: Path, folder: Path):
    (folder / "plain.yaml").write_text(PLAIN, encoding="utf-8")
    expected = cli_json(tmp_path, str(folder / "plain.yaml"), 100, 1)
    response = client.post("/api/forecast", json={"case": "plain", "draws": 100, "seed": 1})
    assert response.content == expected
    assert b'"settlement"' in expected


def test_bounds(client: TestClient):
    too_many = client.post("/api/forecast", json={"case": "cuba-1962", "draws": 20_001})
    assert too_many.status_code == 422
    assert "at most 20,000 draws" in too_many.json()["detail"]
    zero = client.post("/api/forecast", json={"case": "cuba-1962", "draws": 0})
    assert zero.status_code == 422 and "at least 1" in zero.json()["detail"]
    whatif = client.post("/api/whatif", json={"case": "cuba-1962", "draws": 5_000})
    assert whatif.status_code == 422 and "what-if" in whatif.json()["detail"]
    big = client.post("/api/check", json={"text": "x" * 300_000})
    assert big.status_code == 413
    assert "larger than 200,000 bytes" in big.json()["detail"]
    chunked = client.post(
        "/api/check",
        content=(b"x" * 1000 for _ in range(300)),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413


def test_run_time_is_bounded(folder: Path, tmp_path: Path):
    client = TestClient(create_app(folder, str(tmp_path / "l.sqlite"), limits=Limits(seconds=0.0)))
    response = client.post("/api/forecast", json={"case": "cuba-1962", "draws": 5_000})
    assert response.status_code == 503
    assert "longer than 0 s" in response.json()["detail"]


@pytest.mark.parametrize(
    "name",
    ["../mine", "..%2Fmine", "%2e%2e/%2e%2e/etc/passwd", "mine.yaml", "/etc/passwd", "a b"],
)
def test_no_path_outside_the_workspace(client: TestClient, name: str):
    for response in (
        client.get(f"/api/cases/{name}"),
        client.put(f"/api/cases/{name}", json={"text": "id: x"}),
        client.get(f"/cases/{name}"),
    ):
        assert response.status_code in (403, 404, 405), (name, response.status_code)
        assert "root:" not in response.text


def test_symlink_out_of_the_workspace_is_not_served(client: TestClient, folder: Path, tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text(CUBA.read_text(encoding="utf-8"))
    (folder / "link.yaml").symlink_to(outside)
    assert client.get("/api/cases/link").status_code == 404
    assert "link" not in [c["id"] for c in client.get("/api/cases").json()]


def test_builtin_cases_are_read_only(client: TestClient):
    text = client.get("/api/cases/cuba-1962").json()["text"]
    response = client.put("/api/cases/cuba-1962", json={"text": text})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_forecast_by_text_never_reads_a_file(client: TestClient):
    response = client.post("/api/forecast", json={"case": "/etc/passwd", "draws": 10})
    assert response.status_code in (404, 422)
    assert "root:" not in response.text


SCRIPT = "<script>alert(1)</script>"


def test_user_text_is_escaped(client: TestClient, folder: Path):
    text = CUBA.read_text(encoding="utf-8")
    text = text.replace("title: The Cuban missile crisis (October 1962)", f'title: "{SCRIPT}"')
    text = text.replace("name: Fidel Castro", f'name: "{SCRIPT}"').replace(
        "label: The standoff goes on", f"label: '{SCRIPT} & <b>'"
    )
    (folder / "evil.yaml").write_text(text, encoding="utf-8")
    for page in ("/", "/cases/evil", "/cases/evil/edit", "/cases/evil/whatif", "/cases/evil/run"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert SCRIPT not in response.text, page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/cases/evil").text


def test_check_gives_problems_at_their_lines(client: TestClient):
    text = CUBA.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if "capability: 45 to 60" in line)
    lines[at] = lines[at].replace("45 to 60", "60 to 45")
    response = client.post("/api/check", json={"text": "\n".join(lines), "file": "mine.yaml"})
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    problem = body["problems"][0]
    assert problem["line"] == at + 1 and problem["file"] == "mine.yaml"
    assert "capability" in problem["field"] and "low end" in problem["message"]
    good = client.post("/api/check", json={"text": text}).json()
    assert good["ok"] is True and good["problems"] == []
    syntax = client.post("/api/check", json={"text": "id: x\n  bad: [\n"}).json()
    assert syntax["ok"] is False and syntax["problems"][0]["field"] == "(yaml)"


def test_save_keeps_the_previous_version_and_refuses_invalid_text(client: TestClient, folder: Path):
    before = (folder / "mine.yaml").read_text(encoding="utf-8")
    bad = before.replace("capability: 45 to 60", "capability: sixty")
    refused = client.put("/api/cases/mine", json={"text": bad})
    assert refused.status_code == 422 and refused.json()["problems"]
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == before
    assert not list(folder.glob(".mine.yaml.*"))  # no temporary file left behind
    after = before.replace("capability: 45 to 60", "capability: 50 to 65")
    saved = client.put("/api/cases/mine", json={"text": after})
    assert saved.status_code == 200, saved.text
    assert (folder / "mine.yaml").read_text(encoding="utf-8") == after
    kept = list((folder / ".standoff-history").iterdir())
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == before
    assert client.get("/api/cases/mine").json()["text"] == after


def test_whatif_moves_probabilities_and_keeps_the_baseline(client: TestClient):
    base = client.post("/api/whatif", json={"case": "cuba-1962", "draws": 400}).json()
    assert all(item["change"] == 0 for item in base["items"])
    knobs = {k["key"]: k for k in client.get("/api/cases/cuba-1962/knobs").json()}
    assert knobs["actor:kennedy:capability"]["value"] == 52.5
    assert knobs["actor:kennedy:capability"]["written"] == "45 to 60"
    moved = client.post(
        "/api/whatif",
        json={"case": "cuba-1962", "draws": 400, "set": {"param:strike_rate": 0.9}},
    ).json()
    strike = next(i for i in moved["items"] if i["key"] == "question:us_air_strike")
    assert strike["change"] > 0.1 and strike["baseline"] < strike["value"]
    unknown = client.post("/api/whatif", json={"case": "cuba-1962", "set": {"nope": 1}})
    assert unknown.status_code == 422 and "nope" in unknown.json()["problems"][0]["message"]


def test_moving_a_number_keeps_its_uncertainty():
    from standoff.case.numbers import Quantity, parse_uncertain
    from standoff.web.whatif import moved

    position = Quantity("position", 0.0, 100.0)
    assert moved(parse_uncertain("40 to 60"), 70, position) == "60 to 80"
    assert moved(parse_uncertain("90 to 100"), 100, position) == "95 to 100"
    assert moved(parse_uncertain("0 to 10"), 0, position) == "0 to 5"
    assert moved(parse_uncertain("40 to 60"), 95, position) == "85 to 100"
    assert moved(parse_uncertain(50), 20, position) == 20
    assert moved(parse_uncertain("normal(50, 5)"), 30, position) == "normal(30, 5)"


def test_a_slider_moved_again_changes_only_what_it_names() -> None:
    """The knobs and the parsed file are kept between what-ifs on one case; each what-if starts
    from the file as written, so one change does not leak into the next."""
    from standoff.case import builtin_cases
    from standoff.compile import load
    from standoff.web import whatif

    path = builtin_cases()["us-dprk-2018"]
    text, compiled = path.read_text(encoding="utf-8"), load("us-dprk-2018")
    first, _ = whatif.apply(text, compiled, {"param:summit_rate": 0.4}, str(path))
    second, _ = whatif.apply(text, compiled, {"param:talks_rate": 0.5}, str(path))
    again, _ = whatif.apply(text, compiled, {"param:summit_rate": 0.4}, str(path))
    assert first.case.crisis is not None and second.case.crisis is not None
    written = compiled.case.crisis.parameters
    assert str(second.case.crisis.parameters["summit_rate"]) == str(written["summit_rate"])
    assert str(first.case.crisis.parameters["summit_rate"]) != str(written["summit_rate"])
    assert str(first.case.crisis.parameters["talks_rate"]) == str(written["talks_rate"])
    assert again.case == first.case


def test_pages_render(client: TestClient):
    for page in ("/", "/cases/mine", "/cases/mine/edit", "/cases/mine/whatif", "/cases/mine/run",
                 "/cases/mine/history", "/docs", "/openapi.json", "/static/app.css"):  # fmt: skip
        assert client.get(page).status_code == 200, page
    for page in ("/", "/cases/mine", "/cases/mine/whatif", "/docs"):
        response = client.get(page)
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", response.text), page
        assert "script-src 'self'" in response.headers["content-security-policy"]
    missing = client.get("/cases/nope", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "Traceback" not in missing.text
    assert "/api/forecast" in client.get("/openapi.json").json()["paths"]


def test_a_broken_case_shows_its_problems_not_a_traceback(client: TestClient, folder: Path):
    (folder / "broken.yaml").write_text("id: broken\nissues: []\nactors: 3\n", encoding="utf-8")
    page = client.get("/cases/broken")
    assert page.status_code == 200 and "line 2" in page.text and "Traceback" not in page.text
    api = client.post("/api/forecast", json={"case": "broken", "draws": 10})
    assert api.status_code == 422
    assert all({"file", "line", "field", "message"} <= set(p) for p in api.json()["problems"])


def test_a_run_reports_progress_and_its_report(client: TestClient):
    import time

    job = client.post("/api/runs", json={"case": "cuba-1962", "draws": 300, "seed": 1}).json()
    for _ in range(600):
        status = client.get(f"/api/runs/{job['id']}").json()
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert status["state"] == "done", status
    html = client.get(f"/api/runs/{job['id']}/report.html")
    assert html.status_code == 200 and "<html" in html.text.lower()
    md = client.get(f"/api/runs/{job['id']}/report.md")
    assert md.status_code == 200 and md.content[:2] == b"PK"
    mark = {"X-Standoff": "1"}  # a body-less POST must say it comes from a client, not a form
    recorded = client.post(f"/api/runs/{job['id']}/record", headers=mark).json()["record"]
    again = client.post(f"/api/runs/{job['id']}/record", headers=mark).json()["record"]
    assert again == recorded  # once
    records = client.get("/api/cases/cuba-1962/history").json()["records"]
    assert [r["id"] for r in records] == [recorded] and records[0]["draws"] == 300


def test_record_and_history(client: TestClient):
    assert client.get("/api/cases/mine/history").json()["records"] == []
    body = {"case": "mine", "draws": 300, "seed": 5, "set": {"param:strike_rate": 0.5}}
    first = client.post("/api/whatif/record", json=body)
    assert first.status_code == 200, first.text
    second = client.post("/api/whatif/record", json={**body, "set": {}})
    assert second.json()["record"] > first.json()["record"]
    history = client.get("/api/cases/mine/history").json()
    assert history["case"] == "cuba-1962"  # the ledger files a case under the id its YAML gives
    assert [r["id"] for r in history["records"]] == [first.json()["record"],
                                                     second.json()["record"]]  # fmt: skip
    strike = [p["p"] for r in history["records"] for p in r["probabilities"]
              if p["id"] == "us_air_strike"]  # fmt: skip
    assert strike[0] > strike[1]
    page = client.get("/cases/mine/history")
    assert page.status_code == 200
    assert "us_air_strike" in page.text and "<polyline" in page.text
    assert "latest forecast" in client.get("/").text


def test_version_and_help_do_not_load_the_web_stack():
    import subprocess
    import sys

    code = (
        "import sys, standoff.cli\n"
        "for args in (['--version'], ['--help'], ['serve', '--help']):\n"
        "    try:\n"
        "        standoff.cli.app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'standoff.web.app') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--port" in done.stdout and "127.0.0.1" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_runs_are_bounded(folder: Path, tmp_path: Path):
    limits = Limits(waiting=1, trajectories=2, replicates=4)
    with TestClient(create_app(folder, str(tmp_path / "l.sqlite"), limits=limits)) as client:
        first = client.post("/api/runs", json={"case": "cuba-1962", "draws": 100})
        assert first.status_code == 202
        second = client.post("/api/runs", json={"case": "cuba-1962", "draws": 100})
        assert second.status_code == 503
        assert "already queued or running" in second.json()["detail"]


def test_whatif_of_a_plain_case(client: TestClient, folder: Path):
    (folder / "plain.yaml").write_text(PLAIN, encoding="utf-8")
    keys = [k["key"] for k in client.get("/api/cases/plain/knobs").json()]
    assert keys == [
        "actor:a:capability",
        "actor:a:tariff:position",
        "actor:a:tariff:salience",
        "actor:b:capability",
        "actor:b:tariff:position",
        "actor:b:tariff:salience",
    ]
    moved = client.post(
        "/api/whatif", json={"case": "plain", "draws": 200, "set": {"actor:b:capability": 200}}
    ).json()
    (item,) = moved["items"]
    assert item["key"] == "settlement:tariff" and item["change"] > 10


def test_warm_worker_processes_give_the_same_answers(tmp_path: Path):
    """The draws of a what-if of several blocks run on worker processes kept warm: the answer is
    the one the server's own process gives, and the workers stop with the server."""
    answers = {}
    for processes in (2, 1):
        limits = Limits(whatif_draws=5_000, processes=processes)
        app = create_app(tmp_path, str(tmp_path / "ledger.sqlite"), limits=limits)
        with TestClient(app) as client:
            body = {"case": "cuba-1962", "draws": 3_000, "set": {"param:strike_rate": 0.8}}
            answer = client.post("/api/whatif", json=body)
            assert answer.status_code == 200, answer.text
            answers[processes] = [
                (i["key"], i["value"], i["baseline"]) for i in answer.json()["items"]
            ]
            kept = app.state.standoff.jobs.processes
            assert (kept._executor is not None) == (processes > 1)
        assert kept._executor is None  # closed with the server
    assert answers[2] == answers[1]
