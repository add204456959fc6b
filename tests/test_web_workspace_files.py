"""The workspace's folder as an analyst keeps it: a case with its observation and resolution files
beside it (in the folder itself, or in `observations/` and `resolutions/`), shown beside their
case and never as broken cases; a new case started from the home page (a minimal template or a
copy) under a new id, never over a file; the issue maps' end labels laid out so that they cannot
print over each other; and what-if sliders whose ranges are the values the API runs. Through
FastAPI's test client, on the US–China trade war case and the built-in cases."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from standoff.case import builtin_cases
from standoff.case.numbers import Quantity, parse_uncertain
from standoff.case.yamlread import read_yaml
from standoff.compile import load_yaml
from standoff.web import create_app
from standoff.web.guard import allowed_hosts
from standoff.web.newcase import renamed, scalar
from standoff.web.runs import Limits
from standoff.web.whatif import moved

from .test_file_kinds import TRADE_CASE, TRADE_OBSERVATIONS, TRADE_RESOLUTIONS, trade_folder

TRADE = "us-china-trade-2018"
LIMITS = Limits(draws=20_000, whatif_draws=2_000, body=200_000, trajectories=2, replicates=4)


def client_of(folder: Path, tmp_path: Path, **more: object) -> TestClient:
    return TestClient(create_app(folder, str(tmp_path / "ledger.sqlite"), limits=LIMITS, **more))


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """The trade case in the library's layout, with two more files kept directly beside it: the
    observations to 1 December 2018 naming their case, and the resolutions under another name."""
    work = trade_folder(tmp_path)
    (work / f"{TRADE}-seen-dec.yaml").write_text(f"case: {TRADE}\n" + TRADE_OBSERVATIONS)
    (work / f"{TRADE}-outcome.yaml").write_text(TRADE_RESOLUTIONS)
    (work / "unclaimed-seen.yaml").write_text(TRADE_OBSERVATIONS)  # names no case
    return work


def row_of(page: str, case: str) -> str:
    return page.split(f'<tr data-case="{case}">')[1].split("</tr>")[0]


# -- observation and resolution files ------------------------------------------------------------


def test_observation_and_resolution_files_are_shown_beside_their_case(
    folder: Path, tmp_path: Path
) -> None:
    client = client_of(folder, tmp_path)
    ids = [c["id"] for c in client.get("/api/cases").json()]
    assert TRADE in ids
    assert not {f"{TRADE}-seen-dec", f"{TRADE}-outcome", "unclaimed-seen"} & set(ids)
    page = client.get("/")
    assert page.status_code == 200
    listed = page.text.split('id="cases"')[1].split("</table>")[0]
    assert "problem" not in listed  # no file is listed as a broken case
    row = row_of(page.text, TRADE)
    beside = re.findall(r'data-file="([^"]+)"', row)
    assert sorted(beside) == sorted([
        f"{TRADE}-seen-dec.yaml", f"observations/{TRADE}.yaml",
        f"{TRADE}-outcome.yaml", f"resolutions/{TRADE}.yaml",
    ])  # fmt: skip
    assert "seen to 2018-12-01" in row and "resolved 2019-07-01" in row
    apart = page.text.split('id="apart"')[1].split("</table>")[0]
    assert 'data-file="unclaimed-seen.yaml"' in apart and "give it <code>case: ID</code>" in apart
    assert client.get(f"/cases/{TRADE}-outcome").status_code == 404  # not a case


def test_a_file_that_is_not_yaml_of_a_known_kind_stays_a_case(folder: Path, tmp_path: Path):
    (folder / "broken.yaml").write_text("id: broken\nissues: []\nactors: 3\n")
    page = client_of(folder, tmp_path).get("/").text
    assert re.search(r"class=\"bad\">\d+ problems?<", row_of(page, "broken"))


# -- a new case ----------------------------------------------------------------------------------


def test_a_new_case_from_the_template_opens_and_passes_the_checks(
    folder: Path, tmp_path: Path
) -> None:
    client = client_of(folder, tmp_path)
    made = client.post("/api/cases", json={"id": "brexit-2019"})
    assert made.status_code == 201, made.text
    assert made.json()["file"] == "brexit-2019.yaml"
    text = (folder / "brexit-2019.yaml").read_text(encoding="utf-8")
    assert load_yaml(text, "brexit-2019.yaml").case.id == "brexit-2019"
    assert made.headers["etag"].strip('"') == client.get("/api/cases/brexit-2019").json()["version"]
    assert client.post("/api/check", json={"text": text}).json()["ok"] is True
    assert client.get("/cases/brexit-2019/edit").status_code == 200
    assert 'data-case="brexit-2019"' in client.get("/").text
    forecast = client.post("/api/forecast", json={"case": "brexit-2019", "draws": 200})
    assert forecast.status_code == 200, forecast.text


def test_a_new_case_copied_from_a_builtin_keeps_its_text_under_the_new_id(
    folder: Path, tmp_path: Path
) -> None:
    client = client_of(folder, tmp_path)
    made = client.post("/api/cases", json={"id": "dprk-2019", "copy_of": "us-dprk-2018"})
    assert made.status_code == 201, made.text
    original = builtin_cases()["us-dprk-2018"].read_text(encoding="utf-8").split("\n")
    copy = (folder / "dprk-2019.yaml").read_text(encoding="utf-8").split("\n")
    changed = [(a, b) for a, b in zip(original, copy, strict=True) if a != b]
    assert changed == [("id: us-dprk-2018", "id: dprk-2019")]  # comments and all kept
    assert client.get("/api/cases/dprk-2019").json()["builtin"] is False


@pytest.mark.parametrize(
    ("ident", "status", "says"),
    [
        (TRADE, 409, f"{TRADE} is taken by the file {TRADE}.yaml"),
        (TRADE.upper(), 409, "is taken by the file"),  # another letter case: one file on macOS
        (f"{TRADE}-outcome", 409, "is taken by the file"),  # a resolution file's name
        ("cuba-1962", 409, "the id of a built-in case"),
        ("../evil", 422, "cannot be a case id"),
        (".hidden", 422, "cannot be a case id"),
    ],
)
def test_a_new_case_never_takes_an_id_or_a_file_that_exists(
    folder: Path, tmp_path: Path, ident: str, status: int, says: str
) -> None:
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    answer = client_of(folder, tmp_path).post("/api/cases", json={"id": ident})
    assert answer.status_code == status, answer.text
    assert says in answer.json()["detail"]
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_a_new_case_copies_only_a_case_that_passes(folder: Path, tmp_path: Path) -> None:
    client = client_of(folder, tmp_path)
    missing = client.post("/api/cases", json={"id": "x1", "copy_of": "nope"})
    assert missing.status_code == 404 and not (folder / "x1.yaml").exists()
    (folder / "broken.yaml").write_text("id: broken\nissues: []\nactors: 3\n")
    broken = client.post("/api/cases", json={"id": "x2", "copy_of": "broken"})
    assert broken.status_code == 422 and broken.json()["problems"]
    assert not (folder / "x2.yaml").exists()


def test_a_new_case_goes_through_the_guard(folder: Path, tmp_path: Path) -> None:
    token = "0123456789abcdef0123456789abcdef"
    client = client_of(folder, tmp_path, token=token, allowed_hosts=allowed_hosts("127.0.0.1"))
    auth = {"authorization": f"token {token}"}
    url = "http://127.0.0.1:8000/api/cases"
    plain_form = client.post(url, data={"id": "a1"}, headers=auth)
    other_site = client.post(url, json={"id": "a2"},
                             headers={**auth, "origin": "http://evil.example"})  # fmt: skip
    no_token = client.post(url, json={"id": "a3"}, headers={"x-standoff": "1"})
    assert [r.status_code for r in (plain_form, other_site, no_token)] == [403, 403, 403]
    assert not [p for p in folder.iterdir() if p.stem in ("a1", "a2", "a3")]
    ours_only = {**auth, "x-standoff": "1", "origin": "http://127.0.0.1:8000"}
    ours = client.post(url, json={"id": "a4"}, headers=ours_only)
    assert ours.status_code == 201, ours.text


def test_an_id_is_written_so_that_yaml_reads_it_back() -> None:
    assert scalar("brexit-2019") == "brexit-2019"
    for odd in ("yes", "no", "null", "2019", "0x1F", "on", "1_000", "2019-01-01"):
        assert scalar(odd).startswith('"'), odd
        text = renamed("# a case\nid: old  # its id\ntitle: x\n", odd)
        assert read_yaml(text, "x.yaml")[0]["id"] == odd
    assert renamed("id: 'old' # q\n", "new") == "id: new # q\n"
    assert renamed("# note\ntitle: x\n", "new") == "# note\nid: new\ntitle: x\n"


# -- the issue maps ------------------------------------------------------------------------------


def test_the_ends_of_an_issue_map_are_text_beside_each_other(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    page = client_of(work, tmp_path).get("/cases/us-dprk-2018").text
    sections = page.split('<section class="issue">')[1:]
    assert len(sections) == 3
    first = sections[0]
    ends = re.search(r'<div class="ends"><span class="low">(.*?)</span><span class="high">(.*?)'
                     r"</span></div>", first)  # fmt: skip
    assert ends is not None
    assert ends.group(1) == "0: rewards for each step (step-by-step, action for action)"
    assert ends.group(2).startswith("100: complete verifiable denuclearization first")
    svg = first.split("<svg")[1].split("</svg>")[0]
    assert 'class="end"' not in svg  # no text placed by guessed widths inside the figure


# -- what-if sliders ---------------------------------------------------------------------------


def test_moving_a_rate_keeps_it_on_its_side_of_zero() -> None:
    rate = Quantity("parameter summit_rate", -1e12, None, signed=True)
    assert moved(parse_uncertain("0.10 to 0.30"), 0.0, rate) == "0 to 0.1"
    assert moved(parse_uncertain("0.10 to 0.30"), -1.0, rate) == "0 to 0.1"
    assert moved(parse_uncertain("-0.2 to 0.2"), -1.0, rate) == "-1.2 to -0.8"  # as written


@pytest.mark.slow
def test_every_slider_of_the_builtin_cases_runs_at_both_ends(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    client = client_of(work, tmp_path)
    for case in ("us-dprk-2018", "cuba-1962"):
        knobs = client.get(f"/api/cases/{case}/knobs").json()
        for knob in knobs:
            if not knob["key"].startswith(("param:", "belief:")):
                continue
            assert knob["low"] >= 0, knob  # rates written positive stay so
            for end in (knob["low"], knob["high"]):
                answer = client.post(
                    "/api/whatif",
                    json={"case": case, "draws": 300, "set": {knob["key"]: end}},
                )
                assert answer.status_code == 200, (knob, end, answer.text)


def test_a_slider_ends_where_a_probability_would_leave_0_to_1(tmp_path: Path) -> None:
    """A deal twice as likely after a truce: its monthly rate times two must stay at most 1, so
    the slider of the rate stops short of 0.5 instead of offering values the API refuses."""
    work = tmp_path / "work"
    work.mkdir()
    doubled = TRADE_CASE.replace(
        "probability: \"deal_rate * happened('truce')\"",
        "probability: \"deal_rate * (1 + happened('truce'))\"",
    )
    assert doubled != TRADE_CASE
    (work / "trade.yaml").write_text(doubled)
    client = client_of(work, tmp_path)
    knob = next(
        k for k in client.get("/api/cases/trade/knobs").json() if k["key"] == "param:deal_rate"
    )
    assert 0.2 < knob["high"] < 0.5 and knob["low"] == 0
    page = client.get("/cases/trade/whatif").text
    assert f'max="{knob["high"]}"' in page
    for end in (knob["low"], knob["high"]):
        answer = client.post("/api/whatif", json={"case": "trade", "draws": 2000,
                                                  "set": {"param:deal_rate": end}})  # fmt: skip
        assert answer.status_code == 200, answer.text
    beyond = client.post("/api/whatif", json={"case": "trade", "draws": 2000,
                                              "set": {"param:deal_rate": 0.6}})  # fmt: skip
    assert beyond.status_code == 422
    assert "outside 0 to 1" in beyond.json()["problems"][0]["message"]


def test_the_workspace_serves_a_copy_of_a_builtin_case(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(builtin_cases()["cuba-1962"], work / "mine.yaml")
    client = client_of(work, tmp_path)
    assert client.post("/api/cases", json={"id": "mine-2", "copy_of": "mine"}).status_code == 201
    assert load_yaml((work / "mine-2.yaml").read_text(), "mine-2.yaml").case.id == "mine-2"
