"""Questions the observations decide: which they are, how every output shows them ("observed:
yes", not "100%, almost certain") and the one rule every score follows (not scored), for the
US–China trade war case conditioned on what was seen to December 2018 (the September tariffs, the
Buenos Aires truce), and the US–North Korea case conditioned on the Hanoi summit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load_yaml
from standoff.compile.observed import compile_observations, parse_observations, settled_questions

from .conftest import REPO, clear_refusal
from .test_file_kinds import TRADE_CASE, TRADE_OBSERVATIONS, TRADE_RESOLUTIONS, trade_folder

runner = CliRunner()


def decided(questions: str, observations: str) -> dict[str, bool]:
    """The questions the observations decide, for the trade case with `questions` instead of its
    own."""
    text = TRADE_CASE[: TRADE_CASE.index("questions:")] + questions
    text += TRADE_CASE[TRADE_CASE.index("crisis:") :]
    compiled = load_yaml(text, "trade.yaml")
    assert compiled.crisis is not None and compiled.case.as_of is not None
    seen = compile_observations(
        parse_observations(observations, "seen.yaml"), compiled.crisis, compiled.case.as_of
    )
    return settled_questions(compiled.crisis, seen)


def question(ident: str, when: str, resolves: str = "2019-07-01") -> str:
    return f"  - {{id: {ident}, text: '?', resolves: {resolves}, when: \"{when}\"}}\n"


def test_which_questions_the_observations_decide() -> None:
    got = decided(
        "questions:\n"
        + question("hike", "happened('hike')")  # seen in September: yes
        + question("deal_signed", "happened('deal')")  # none seen yet, months to go: open
        + question("no_deal_by_november", "not happened('deal')", "2018-11-30")  # all seen: yes
        + question("deal_by_november", "happened('deal')", "2018-11-30")  # all seen: no
        + question("two_hikes", "count('hike') >= 2")  # one seen, more may come: open
        + question("a_hike", "count('hike') >= 1 and happened('truce')")  # yes
        + question("hike_or_deal", "happened('deal') or happened('hike')")  # yes
        + question("hike_and_deal", "happened('hike') and happened('deal')")  # open
        + question("calendar", "after('2018-08-01')")  # the calendar's, not the observations'
        + question("model", "truce_rate < 0.5 or happened('deal')"),  # the parameters': open
        TRADE_OBSERVATIONS,
    )
    assert got == {
        "hike": True,
        "no_deal_by_november": True,
        "deal_by_november": False,
        "a_hike": True,
        "hike_or_deal": True,
    }


def forecast(folder: Path, *more: str) -> object:
    return runner.invoke(
        app,
        ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws", "1000",
         "--observed", str(folder / "observations" / "us-china-trade-2018.yaml"), *more],
    )  # fmt: skip


def test_terminal_and_json_show_observed_not_almost_certain(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    out = tmp_path / "seen.json"
    got = forecast(folder, "--json", str(out))
    assert got.exit_code == 0, got.output
    questions = got.stdout.split("\nQuestions")[1].split("\nHow each scenario")[0]
    assert questions.count("observed: yes") == 2 and "(hike)" in questions, questions
    assert "almost certain" not in got.stdout
    data = json.loads(out.read_text())
    assert data["questions"]["hike"]["observed"] == "yes"
    assert data["questions"]["hike"]["p"] == 1.0
    assert data["questions"]["truce"]["observed"] == "yes"
    assert "observed" not in data["questions"]["deal_signed"]
    plain = tmp_path / "plain.json"
    unconditioned = runner.invoke(
        app, ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws", "1000",
              "--json", str(plain)],
    )  # fmt: skip
    assert unconditioned.exit_code == 0
    assert all("observed" not in q for q in json.loads(plain.read_text())["questions"].values())


def test_score_leaves_observed_questions_out(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    out = tmp_path / "seen.json"
    assert forecast(folder, "--json", str(out)).exit_code == 0
    resolutions = folder / "resolutions" / "us-china-trade-2018.yaml"
    got = runner.invoke(app, ["score", str(out), str(resolutions)])
    assert got.exit_code == 0, got.output
    assert "Decided by the observations, not scored: hike, truce" in got.stdout
    assert "Questions: 1;" in got.stdout  # deal_signed alone
    assert "-0.000" not in got.stdout

    wrong = resolutions.parent / "wrong.yaml"
    wrong.write_text(TRADE_RESOLUTIONS.replace("hike: yes", "hike: no"))
    stderr = clear_refusal(runner.invoke(app, ["score", str(out), str(wrong)]), str(wrong))
    assert f"{wrong}:5: questions.hike: resolved no, but the observations the forecast was " \
        "conditioned on decided it yes" in stderr  # fmt: skip


def test_the_ledger_follows_the_same_rule(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    ledger = str(tmp_path / "ledger.sqlite")
    assert forecast(folder, "--record", "--ledger", ledger).exit_code == 0
    resolutions = folder / "resolutions" / "us-china-trade-2018.yaml"
    resolved = runner.invoke(app, ["ledger", "resolve", str(resolutions), "--ledger", ledger])
    assert resolved.exit_code == 0, resolved.output
    scored = runner.invoke(app, ["ledger", "score", "--json", "--ledger", ledger])
    data = json.loads(scored.stdout)
    assert data["overall"]["n"] == 1
    (record,) = data["records"]
    assert list(record["questions"]) == ["deal_signed"]
    assert record["observed"] == ["hike", "truce"]
    table = runner.invoke(app, ["ledger", "score", "--ledger", ledger])
    assert "decided by the observations, not scored: hike, truce" in table.stdout
    shown = runner.invoke(app, ["ledger", "show", "1", "--ledger", ledger])
    assert "│ hike        │ observed: yes │" in shown.stdout


def test_the_outside_view_shows_an_observed_question_and_flags_no_gap(tmp_path: Path) -> None:
    """A second summit, seen in Hanoi, set beside crises that ended in an agreement."""
    text = (REPO / "cases" / "us-dprk-2018.yaml").read_text()
    text = text.replace(
        "    talks_continue: {still_open_after: 12}\n",
        "    talks_continue: {still_open_after: 12}\n"
        "    second_summit: {form: [formal agreement, semi-formal agreement]}\n",
    )
    case = tmp_path / "us-dprk-2018.yaml"
    case.write_text(text)
    out = tmp_path / "seen.json"
    got = runner.invoke(
        app, ["forecast", str(case), "--draws", "4000", "--json", str(out), "--observed",
              str(REPO / "cases" / "observations" / "us-dprk-2018.yaml")],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    (summit,) = [
        c for c in json.loads(out.read_text())["outside_view"]["comparisons"]
        if c["id"] == "second_summit"
    ]  # fmt: skip
    assert summit["observed"] == "yes" and summit["large_gap"] is False
    assert "observed: yes" in got.stdout.split("Outside view")[1]


@pytest.mark.slow
def test_the_report_words_an_observed_question(tmp_path: Path) -> None:
    from standoff.compile import load
    from standoff.compile.observed import read_observations
    from standoff.pipeline.forecast import run
    from standoff.report import build_report

    folder = trade_folder(tmp_path)
    compiled = load(str(folder / "us-china-trade-2018.yaml"))
    seen = read_observations(folder / "observations" / "us-china-trade-2018.yaml")
    report = build_report(run(compiled, draws=1000, observed=seen))
    words = {q.id: q.words for q in report.questions}
    assert words["hike"] == "observed: yes" and words["truce"] == "observed: yes"
    assert words["deal_signed"] != "observed: yes"


def test_the_web_history_shows_an_observed_question(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from standoff.web import create_app

    folder = trade_folder(tmp_path)
    ledger = str(tmp_path / "ledger.sqlite")
    assert forecast(folder, "--record", "--ledger", ledger).exit_code == 0
    client = TestClient(create_app(folder, ledger))
    history = client.get("/api/cases/us-china-trade-2018/history").json()
    (record,) = history["records"]
    hike = next(p for p in record["probabilities"] if p["id"] == "hike")
    assert hike["observed"] == "yes"
    page = client.get("/cases/us-china-trade-2018/history")
    assert page.status_code == 200
    assert "<code>hike</code> · latest observed: yes" in page.text
    assert "question <code>hike</code> observed: yes" in page.text
    assert "question <code>deal_signed</code> observed" not in page.text


# -- scenarios the observations decide -----------------------------------------------------------

TRADE = "us-china-trade-2018"
DEAL_SEEN = """\
# Seen to 1 June 2019, in a history where the talks after the truce ended in a signed deal.
as_of: 2019-06-01
events:
  hike: [2018-09-24]
  truce: [2018-12-01]
  deal: [2019-05-10]
"""


def scenarios_decided(observations: str) -> dict[str, bool]:
    from standoff.compile.observed import settled_scenarios

    compiled = load_yaml(TRADE_CASE, "trade.yaml")
    assert compiled.crisis is not None and compiled.case.as_of is not None
    seen = compile_observations(
        parse_observations(observations, "seen.yaml"), compiled.crisis, compiled.case.as_of
    )
    return settled_scenarios(compiled.crisis, seen)


def test_which_scenarios_the_observations_decide() -> None:
    # a deal seen: the first rule holds whatever comes next, so the others cannot happen
    assert scenarios_decided(DEAL_SEEN) == {"deal": True, "escalation": False, "stalemate": False}
    # no deal yet, months to go: nothing is decided
    assert scenarios_decided(TRADE_OBSERVATIONS) == {}
    # tariffs on all trade seen, but a deal (the rule before) may still come: only the scenario
    # after both is ruled out
    escalated = DEAL_SEEN.replace("  deal: [2019-05-10]\n", "  deal: []\n  all_trade_tariffs: "
                                  "[2019-05-10]\n")  # fmt: skip
    assert scenarios_decided(escalated) == {"stalemate": False}


@pytest.mark.slow
def test_a_decided_scenario_reads_observed_everywhere(tmp_path: Path) -> None:
    from standoff.compile import load
    from standoff.compile.observed import read_observations
    from standoff.pipeline.forecast import run
    from standoff.report import build_report
    from standoff.report.render import render_html, render_markdown

    folder = trade_folder(tmp_path, **{"observations/us-china-trade-2018.yaml": DEAL_SEEN})
    checked = runner.invoke(app, ["check", str(folder / "observations" / f"{TRADE}.yaml")])
    assert checked.exit_code == 0, checked.output
    assert "scenario deal (yes), scenario escalation (no), scenario stalemate (no)" in " ".join(
        checked.stdout.split()
    )
    out = tmp_path / "seen.json"
    got = forecast(folder, "--json", str(out))
    assert got.exit_code == 0, got.output
    table = got.stdout.split("Scenarios")[1].split("\nQuestions")[0]
    assert table.count("observed: no") == 2 and "observed: yes" in table, table
    assert "%" not in table.split("(5–95%)")[1], table
    scenarios = json.loads(out.read_text())["scenarios"]
    assert {s: v.get("observed") for s, v in scenarios.items()} == {
        "deal": "yes", "escalation": "no", "stalemate": "no"
    }  # fmt: skip
    unconditioned = tmp_path / "plain.json"
    plain = runner.invoke(app, ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws",
                                "1000", "--json", str(unconditioned)])  # fmt: skip
    assert plain.exit_code == 0
    assert all(
        "observed" not in s for s in json.loads(unconditioned.read_text())["scenarios"].values()
    )

    compiled = load(str(folder / "us-china-trade-2018.yaml"))
    seen = read_observations(folder / "observations" / "us-china-trade-2018.yaml")
    report = build_report(run(compiled, draws=1000, observed=seen))
    assert report.headline == "Decided by the observations: A deal that rolls tariffs back " \
        "(observed: yes)"  # fmt: skip
    markdown, _ = render_markdown(report, tmp_path / "report.md")
    rows = [line for line in markdown.splitlines() if "observed: " in line and "|" in line]
    assert len(rows) == 3 + 3  # every scenario and every question
    for row in rows:  # the number hidden beside "observed": a dash, never 100% or 0%
        cells = [c.strip() for c in row.split("|")]
        at = next(n for n, c in enumerate(cells) if c.startswith("observed: "))
        assert cells[at - 1] == "—" and cells[at + 1] == "—", row
    html = render_html(report)
    for ident in ("deal", "escalation", "stalemate", "hike", "truce", "deal_signed"):
        row = html.split(f'<tr data-id="{ident}">')[1].split("</tr>")[0]
        assert "observed: " in row and "%" not in row.split("observed: ")[0].split("</td>")[-2]
        assert '<td class="num">—</td>' in row, row


def test_the_ledger_does_not_score_a_scenario_the_observations_decided(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path, **{"observations/us-china-trade-2018.yaml": DEAL_SEEN})
    ledger = str(tmp_path / "ledger.sqlite")
    out = tmp_path / "seen.json"
    assert forecast(folder, "--json", str(out), "--record", "--ledger", ledger).exit_code == 0
    happened = TRADE_RESOLUTIONS.replace("scenario: stalemate", "scenario: deal").replace(
        "deal_signed: no", "deal_signed: yes"
    )
    resolutions = tmp_path / "happened.yaml"
    resolutions.write_text(happened)
    got = runner.invoke(app, ["score", str(out), str(resolutions), "--json"])
    assert got.exit_code == 0, got.output
    (pair,) = json.loads(got.stdout)["pairs"]
    assert pair["scenario"] is None and pair["observed"] == ["hike", "truce", "deal_signed",
                                                             "scenario"]  # fmt: skip
    resolved = runner.invoke(app, ["ledger", "resolve", str(resolutions), "--ledger", ledger])
    assert resolved.exit_code == 0, resolved.output
    data = json.loads(runner.invoke(app, ["ledger", "score", "--json", "--ledger", ledger]).stdout)
    assert data["records"] == []  # nothing of the record is a forecast to score
    assert data["overall"]["scenarios"]["n"] == 0 and data["overall"]["n"] == 0
    shown = runner.invoke(app, ["ledger", "show", "1", "--ledger", ledger])
    assert "│ deal       │ observed: yes │" in shown.stdout, shown.stdout
    # the other scenario is a contradiction, in both
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(happened.replace("scenario: deal", "scenario: stalemate"))
    scored = clear_refusal(runner.invoke(app, ["score", str(out), str(wrong)]), str(wrong))
    assert "scenario: resolved 'stalemate', but the observations the forecast was conditioned " \
        "on decided it 'deal'" in scored  # fmt: skip
    stored = runner.invoke(app, ["ledger", "resolve", str(wrong), "--ledger", ledger])
    assert clear_refusal(stored, str(wrong)) == scored
