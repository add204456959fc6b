"""The hints a mistake earns: a salience written as a percentage, an actor id in other capitals or
with a first name, a `compare:` key with no close match, a relative `sqlite:///` path, and what
the terminal shows: a log score of 0.000 (never -0.000), and ids and dates whole at 80 columns
and through a pipe (the test runner's output is a pipe)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from standoff.cli import app

from .conftest import REPO, clear_refusal
from .test_file_kinds import TRADE_CASE, trade_folder

runner = CliRunner()


def refused(tmp_path: Path, text: str) -> tuple[str, str]:
    path = tmp_path / "us-china-trade-2018.yaml"
    path.write_text(text)
    return str(path), clear_refusal(runner.invoke(app, ["check", str(path)]), str(path))


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def test_a_salience_of_60_asks_for_0_6(tmp_path: Path) -> None:
    text = TRADE_CASE.replace(
        "tariffs: {position: 70 to 90, salience: 0.6 to 0.8}",
        "tariffs: {position: 70 to 90, salience: 60}",
    ).replace(
        "structural: {position: 10 to 30, salience: 0.7 to 0.9}",
        "structural: {position: 10 to 30, salience: 70 to 90}",
    )
    path, stderr = refused(tmp_path, text)
    assert f"{path}:{line_of(text, 'salience: 60}')}: actors[0].stances.tariffs.salience: value " \
        "60 is outside the valid range (between 0 and 1); written as a percentage? did you mean " \
        "0.6?" in stderr  # fmt: skip
    assert f"{path}:{line_of(text, 'salience: 70 to 90')}: actors[1].stances.structural." \
        "salience: end 70 is outside the valid range (between 0 and 1); written as a " \
        "percentage? did you mean 0.7 to 0.9?" in stderr  # fmt: skip


def test_a_salience_out_of_range_but_not_a_percentage_earns_no_such_hint(tmp_path: Path) -> None:
    text = TRADE_CASE.replace("salience: 0.6 to 0.8}", "salience: 0.6 to 180}", 1)
    _, stderr = refused(tmp_path, text)
    assert "end 180 is outside the valid range" in stderr and "percentage" not in stderr


def test_an_unknown_actor_id_names_the_one_meant(tmp_path: Path) -> None:
    text = TRADE_CASE.replace("    - [trump, xi]", "    - [trump, president_xi]").replace(
        'probability: "truce_rate"',
        "probability: \"truce_rate * sees('Xi', 'trump', 'compromise')\"",
    )
    path, stderr = refused(tmp_path, text)
    assert f"{path}:{line_of(text, 'president_xi')}: crisis.dyads[0]: unknown actor " \
        "'president_xi'; did you mean 'xi'? (defined: trump, xi)" in stderr  # fmt: skip
    formula = tmp_path / "formula.yaml"
    formula.write_text(text.replace("[trump, president_xi]", "[trump, xi]"))
    stderr = clear_refusal(runner.invoke(app, ["check", str(formula)]), str(formula))
    assert f"{formula}:{line_of(text, 'sees(')}: crisis.events[1].probability: sees(): unknown " \
        "actor 'Xi'; did you mean 'xi'? (defined: trump, xi)" in stderr  # fmt: skip


def test_a_compare_key_with_no_close_match_names_the_nearest(tmp_path: Path) -> None:
    """The built-in case has 4 scenarios and 7 questions: too many to list, never just counted."""
    text = (REPO / "cases" / "us-dprk-2018.yaml").read_text()
    text = text.replace(
        "    talks_continue: {still_open_after: 12}", "    walkout: {violence: [none]}"
    )
    path = tmp_path / "dprk.yaml"
    path.write_text(text)
    stderr = clear_refusal(runner.invoke(app, ["check", str(path)]), str(path))
    assert f"{path}:{line_of(text, '    walkout:')}: reference_class.compare.walkout: unknown " \
        "scenario or question 'walkout'; the nearest: walk_away, " in stderr  # fmt: skip
    assert "(11 are defined)" in stderr


def test_a_relative_sqlite_url_shows_the_four_slash_form(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    got = runner.invoke(app, ["ledger", "list", "--ledger", "sqlite:///data/l.sqlite"])
    assert got.exit_code == 2
    assert f"error: {tmp_path}/data/l.sqlite: folder {tmp_path}/data does not exist (create it " \
        "first); sqlite:///data/l.sqlite is the relative path data/l.sqlite (from the current " \
        "folder); for /data/l.sqlite write four slashes: sqlite:////data/l.sqlite" in " ".join(
        got.stderr.split())  # fmt: skip
    assert not (tmp_path / "data").exists()


def test_a_certain_hit_scores_0_000_not_minus_0_000(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    forecast = tmp_path / "dec.json"
    got = runner.invoke(
        app, ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws", "500",
              "--json", str(forecast)],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    data = json.loads(forecast.read_text())
    data["questions"]["hike"]["p"] = 1.0  # a forecaster certain of the hike, and right
    forecast.write_text(json.dumps(data))
    scored = runner.invoke(
        app, ["score", str(forecast), str(folder / "resolutions" / "us-china-trade-2018.yaml")]
    )
    assert scored.exit_code == 0, scored.output
    (hike,) = [row for row in scored.stdout.splitlines() if "│ hike " in row]
    assert "0.000 │ 0.000 │" in hike and "-0.000" not in scored.stdout


def test_ids_and_dates_print_whole_at_80_columns_and_through_a_pipe(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    ledger = str(tmp_path / "ledger.sqlite")
    case = str(folder / "us-china-trade-2018.yaml")
    seen = str(folder / "observations" / "us-china-trade-2018.yaml")
    for more in ([], ["--observed", seen]):
        got = runner.invoke(
            app, ["forecast", case, "--draws", "500", "--record", "--ledger", ledger, *more],
            env={"COLUMNS": "80"},
        )  # fmt: skip
        assert got.exit_code == 0, got.output
        assert "…" not in got.stdout
    resolutions = folder / "resolutions" / "us-china-trade-2018.yaml"
    runner.invoke(app, ["ledger", "resolve", str(resolutions), "--ledger", ledger])
    for command in (["list"], ["score"], ["show", "2"]):
        got = runner.invoke(app, ["ledger", *command, "--ledger", ledger], env={"COLUMNS": "80"})
        assert got.exit_code == 0, got.output
        assert "…" not in got.stdout, got.stdout
        assert "us-china-trade-2018" in got.stdout, got.stdout
        assert max(len(line) for line in got.stdout.splitlines()) <= 80
    listed = runner.invoke(app, ["ledger", "list", "--ledger", ledger], env={"COLUMNS": "80"})
    rows = [line for line in listed.stdout.splitlines() if "us-china-trade-2018" in line]
    assert len(rows) == 2 and "2018-07-01" in rows[0] and "2018-12-01" in rows[1]
