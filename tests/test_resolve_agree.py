"""`standoff score` and the ledger hold a resolution file to a forecast by one rule, with the
same messages: a file that misses a question of the forecast is refused by both (the ledger
stores nothing), and a complete file gets the same scores from both. `standoff score --json`
prints them as `standoff ledger score --json` does. Built from the US–North Korea case and its
resolutions, with the question the forecast got most wrong left out, and from the US–China trade
case conditioned on what was seen to December 2018."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.backtest.resolve import read_resolutions
from standoff.cli import app
from standoff.errors import CaseError
from standoff.ledger import open_ledger

from .conftest import REPO, clear_refusal
from .test_file_kinds import TRADE_RESOLUTIONS, trade_folder

runner = CliRunner()
RESOLUTIONS = REPO / "cases" / "resolutions" / "us-dprk-2018.yaml"
DRAWS = "400"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A forecast of us-dprk-2018 saved as JSON and recorded in a new ledger."""
    folder = tmp_path_factory.mktemp("dprk")
    out, ledger = folder / "dprk.json", str(folder / "ledger.sqlite")
    got = runner.invoke(app, ["forecast", "us-dprk-2018", "--draws", DRAWS, "--json", str(out),
                              "--record", "--ledger", ledger])  # fmt: skip
    assert got.exit_code == 0, got.output
    return out, ledger


def worst_question(forecast: Path) -> str:
    """The question whose forecast the resolutions score worst (the largest Brier)."""
    got = runner.invoke(app, ["score", str(forecast), str(RESOLUTIONS), "--json"])
    assert got.exit_code == 0, got.output
    (pair,) = json.loads(got.stdout)["pairs"]
    return max(pair["questions"], key=lambda q: pair["questions"][q]["brier"])


def without(question: str, folder: Path) -> Path:
    """The us-dprk-2018 resolutions with `question` (and its note) left out."""
    lines = RESOLUTIONS.read_text(encoding="utf-8").split("\n")
    start = lines.index(f"  {question}:")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    path = folder / "resolutions.yaml"
    path.write_text("\n".join(lines[:start] + lines[end:]), encoding="utf-8")
    return path


def test_a_file_that_misses_a_question_is_refused_by_both_with_one_message(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    forecast, ledger = recorded
    worst = worst_question(forecast)
    partial = without(worst, tmp_path)
    scored = clear_refusal(runner.invoke(app, ["score", str(forecast), str(partial)]), str(partial))
    resolved = runner.invoke(app, ["ledger", "resolve", str(partial), "--ledger", ledger])
    stored = clear_refusal(resolved, str(partial))
    assert stored == scored
    line = partial.read_text().split("\n").index("questions:") + 1
    assert stored.strip() == (
        f"{partial}:{line}: questions: not resolved: {worst} (in the forecast); give each yes, "
        "no or unresolved"
    )
    with open_ledger(ledger) as opened:
        assert opened.resolutions() == {}  # not 7 of 8: nothing
    # the library's call holds the resolutions read back typed to the same rule
    given = read_resolutions(partial)
    with open_ledger(ledger) as opened:
        with pytest.raises(CaseError) as raised:
            opened.resolve(given)
        assert [str(p) for p in raised.value.problems] == [
            f"{partial}:{line}: questions: not resolved: {worst} (in the forecast); give "
            "each yes, no or unresolved"
        ]
        assert opened.resolutions() == {}


def test_every_problem_of_a_file_is_listed_at_once(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    _, ledger = recorded
    text = without("armed_clash", tmp_path).read_text(encoding="utf-8")
    text = text.replace("scenario: talks_continue\n", "").replace(
        "  second_summit:", "  second_sumit:"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    stderr = clear_refusal(runner.invoke(app, ["ledger", "resolve", str(bad), "--ledger", ledger]))
    assert "questions: not resolved: second_summit, armed_clash (in the forecast)" in stderr
    assert "questions.second_sumit: not in the forecast; did you mean 'second_summit'?" in stderr
    assert "scenario: missing: the forecast has scenarios" in stderr
    with open_ledger(ledger) as opened:
        assert opened.resolutions() == {}


def test_a_complete_file_scores_the_same_in_both(recorded: tuple[Path, str]) -> None:
    forecast, ledger = recorded
    resolved = runner.invoke(app, ["ledger", "resolve", str(RESOLUTIONS), "--ledger", ledger])
    assert resolved.exit_code == 0, resolved.output
    ledger_scores = json.loads(
        runner.invoke(app, ["ledger", "score", "--json", "--ledger", ledger]).stdout
    )
    got = runner.invoke(app, ["score", str(forecast), str(RESOLUTIONS), "--json"])
    assert got.exit_code == 0, got.output
    ours = json.loads(got.stdout)
    (record,) = ledger_scores["records"]
    (pair,) = ours["pairs"]
    assert pair["n"] == record["n"] == 7
    for key in ("brier", "log"):
        assert pair[key] == record[key]
        assert ours["overall"][key] == ledger_scores["overall"][key]
    for q, scores in record["questions"].items():
        assert {k: pair["questions"][q][k] for k in scores} == scores
    assert pair["scenario"]["happened"] == record["scenario"]["happened"] == "talks_continue"
    assert pair["scenario"]["brier"] == record["scenario"]["brier"]
    assert ours["overall"]["calibration"] == ledger_scores["overall"]["calibration"]
    assert ours["overall"]["scenarios"] == ledger_scores["overall"]["scenarios"]
    assert pair["unresolved"] == [] and pair["observed"] == []


def test_score_json_pools_pairs_and_lists_what_is_not_scored(
    recorded: tuple[Path, str], tmp_path: Path
) -> None:
    forecast, _ = recorded
    text = RESOLUTIONS.read_text(encoding="utf-8")
    later = tmp_path / "later.yaml"
    later.write_text(text.replace("  armed_clash:\n    outcome: no", "  armed_clash: unresolved"))
    got = runner.invoke(
        app, ["score", str(forecast), str(RESOLUTIONS), str(forecast), str(later), "--json"]
    )
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)  # JSON alone on stdout: no table
    first, second = data["pairs"]
    assert (first["resolutions"], second["resolutions"]) == (str(RESOLUTIONS), str(later))
    assert second["unresolved"] == ["armed_clash"] and "armed_clash" not in second["questions"]
    assert data["overall"]["n"] == first["n"] + second["n"] == 13
    pooled = [q["brier"] for p in (first, second) for q in p["questions"].values()]
    assert data["overall"]["brier"] == pytest.approx(sum(pooled) / 13, abs=1e-6)
    assert sum(row["n"] for row in data["overall"]["calibration"]) == 13


def test_score_json_lists_questions_the_observations_decided(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    out = tmp_path / "seen.json"
    got = runner.invoke(app, ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws",
                              "1000", "--observed",
                              str(folder / "observations" / "us-china-trade-2018.yaml"),
                              "--json", str(out)])  # fmt: skip
    assert got.exit_code == 0, got.output
    resolutions = folder / "resolutions" / "us-china-trade-2018.yaml"
    scored = runner.invoke(app, ["score", str(out), str(resolutions), "--json"])
    assert scored.exit_code == 0, scored.output
    (pair,) = json.loads(scored.stdout)["pairs"]
    assert pair["observed"] == ["hike", "truce"] and list(pair["questions"]) == ["deal_signed"]


def test_the_ledger_refuses_an_answer_against_the_observations_as_score_does(
    tmp_path: Path,
) -> None:
    folder = trade_folder(tmp_path)
    ledger = str(tmp_path / "ledger.sqlite")
    out = tmp_path / "seen.json"
    got = runner.invoke(app, ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws",
                              "1000", "--observed",
                              str(folder / "observations" / "us-china-trade-2018.yaml"),
                              "--json", str(out), "--record", "--ledger", ledger])  # fmt: skip
    assert got.exit_code == 0, got.output
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(TRADE_RESOLUTIONS.replace("hike: yes", "hike: no"))
    scored = clear_refusal(runner.invoke(app, ["score", str(out), str(wrong)]), str(wrong))
    resolved = runner.invoke(app, ["ledger", "resolve", str(wrong), "--ledger", ledger])
    assert clear_refusal(resolved, str(wrong)) == scored
    assert "questions.hike: resolved no, but the observations" in scored
    with open_ledger(ledger) as opened:
        assert opened.resolutions() == {}
