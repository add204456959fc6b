"""Text from data never acts on the terminal it is printed to: ids may not hold control
characters or bidirectional overrides (`standoff check` refuses them at their line), and every
title, label, name, id read back from a ledger and error message quoting user text prints them as
visible escapes (`\\x1b`), with rich markup printed as written. The ledger's `resolve` refuses a
case or scenario id that no record has, with the closest one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from standoff.cli import app
from standoff.console import fail, print_problems, printable, safe
from standoff.controlchars import CONTROL, inert_json, visible
from standoff.ledger import open_ledger

from .conftest import clear_refusal

ROOT = Path(__file__).parents[1]
DPRK = ROOT / "cases" / "us-dprk-2018.yaml"
RESOLUTIONS = ROOT / "cases" / "resolutions" / "us-dprk-2018.yaml"
runner = CliRunner()

# one of each kind the rule names: C0 (ESC, as in an OSC title sequence), DEL, C1 (CSI),
# a bidirectional override and an isolate; as YAML double-quoted escapes and as characters
HIDDEN = {
    "\\e]0;pwned\\a": "\x1b",
    "\\x7f": "\x7f",
    "\\x9b2K": "\x9b",
    "\\u202e": "\u202e",
    "\\u2066": "\u2066",
}
# (the line of cases/us-dprk-2018.yaml, the text on it, what the text becomes with {} for the
# escape): every kind of id the case format has
IDS = {
    "case": (23, "id: us-dprk-2018", 'id: "us-dprk-2018{}"'),
    "issue": (33, "  - id: sequencing", '  - id: "sequencing{}"'),
    "actor": (50, "  - id: trump", '  - id: "trump{}"'),
    "calendar": (107, "  - id: unga", '  - id: "unga{}"'),
    "scenario": (120, "  - id: walk_away", '  - id: "walk_away{}"'),
    "question": (144, "  - id: second_summit", '  - id: "second_summit{}"'),
    "parameter": (217, "    talks_rate:", '    "talks_rate{}":'),
    "belief": (267, "    - id: president_independent", '    - id: "president_independent{}"'),
    "event": (289, "    - id: talks", '    - id: "talks{}"'),
}


def no_raw_controls(text: str) -> None:
    """No character of the rule in `text` but line breaks (the output's own)."""
    found = {c for c in CONTROL.findall(text) if c != "\n"}
    assert not found, sorted(found)


def patched(tmp_path: Path, line: int, old: str, new: str) -> Path:
    lines = DPRK.read_text(encoding="utf-8").split("\n")
    assert lines[line - 1].startswith(old), lines[line - 1]
    lines[line - 1] = new + lines[line - 1][len(old) :]
    path = tmp_path / "case.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def wide(monkeypatch) -> None:
    """Tables as wide as their text, so that no cell wraps."""
    import standoff.console

    monkeypatch.setattr(standoff.console.out, "_width", 400)


# -- ids are plain text ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(IDS))
@pytest.mark.parametrize("escape", list(HIDDEN))
def test_check_refuses_a_control_character_in_any_id(tmp_path: Path, kind: str, escape: str):
    line, old, new = IDS[kind]
    path = patched(tmp_path, line, old, new.format(escape))
    result = runner.invoke(app, ["check", str(path)])
    stderr = clear_refusal(result, str(path))
    code = f"control character U+{ord(HIDDEN[escape]):04X}"
    here = f"{path}:{line}: "
    assert any(x.startswith(here) and code in x for x in stderr.splitlines()), stderr
    no_raw_controls(result.output)


def test_a_table_actor_with_a_control_character_is_refused_at_its_row(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text('Actor,Capability,Position,Salience\nA,1,2,0.5\n"B\x1b[2K",1,4,0.5\n')
    result = runner.invoke(app, ["check", str(table)])
    stderr = clear_refusal(result, str(table))
    assert f"{table}:3: actors[1].id: the id 'B\\x1b[2K' holds the control character U+001B" in (
        stderr
    )
    no_raw_controls(result.output)


def test_ids_in_any_script_are_kept(tmp_path: Path) -> None:
    path = patched(tmp_path, 23, "id: us-dprk-2018", 'id: "us–dprk–조선–é"')
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert "'us–dprk–조선–é'" in result.output


# -- text from data prints as escapes --------------------------------------------------------


def test_visible_writes_every_control_character_as_an_escape() -> None:
    for code in range(0x10000):
        char = chr(code)
        shown = visible(f"a{char}b")
        if CONTROL.match(char):
            escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
            assert shown == f"a{escape}b"
        elif not 0xD800 <= code < 0xE000:
            assert shown == f"a{char}b"
    assert visible("\ud800") == "\\ud800"  # a lone surrogate, which no terminal encoding holds


def test_inert_json_is_the_same_json() -> None:
    data = {"id": "x\x1b]0;t\x07 \x9b\x7f \u202eevil \u2066 –é", "n": [1, "\n"]}
    text = inert_json(json.dumps(data, indent=2, ensure_ascii=False))
    assert json.loads(text) == data
    no_raw_controls(text)
    assert "–é" in text  # other text as written


def test_messages_problems_and_markup_print_as_data(capsys) -> None:
    with pytest.raises(typer.Exit) as raised:
        raise fail("x\x1b]0;pwned\x07 [red]y[/red]")
    assert raised.value.exit_code == 2
    print_problems(["f.yaml:3: questions.a\x1b[2K: unknown\nsecond line \u202eevil"])
    err = capsys.readouterr().err
    assert "error: x\\x1b]0;pwned\\x07 [red]y[/red]" in err
    assert "f.yaml:3: questions.a\\x1b[2K: unknown\nsecond line \\u202eevil" in err
    no_raw_controls(err)
    assert safe("[red]\x1b") == "\\[red]\\x1b" and printable("\x9b") == "\\x9b"


def test_forecast_prints_titles_and_labels_as_escapes(tmp_path: Path, wide: None) -> None:
    text = DPRK.read_text(encoding="utf-8")
    for old, new in (
        ("title: US–North Korea denuclearization talks (2018)\n",
         'title: "\\e]0;pwned\\a\\e[2K\\r[red]US[/red]\\u202e–North Korea"\n'),
        ("    label: The US walks away\n", '    label: "The US\\e]8;;http://x\\a walks"\n'),
        ("    label: Denuclearization sequencing\n", '    label: "\\x9b31m sequencing"\n'),
    ):  # fmt: skip
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["forecast", str(path), "--draws", "50"])
    assert result.exit_code == 0, result.output
    no_raw_controls(result.output)
    assert "\\x1b]0;pwned\\x07\\x1b[2K\\x0d[red]US[/red]\\u202e–North Korea" in result.output
    assert "The US\\x1b]8;;http://x\\x07 walks (walk_away)" in result.output
    assert "\\x9b31m sequencing" in result.output


# -- the ledger: a shared file whose rows anyone may have written -----------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A ledger with one forecast of us-dprk-2018 and one whose ids hold control characters and
    markup, as a teammate's (or a hostile) ledger might."""
    from standoff.compile import load
    from standoff.pipeline.forecast import run
    from standoff.serialize import forecast_json

    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    forecast = forecast_json(run(load("us-dprk-2018"), draws=50, seed=1))
    hostile = json.loads(json.dumps(forecast))
    hostile["case"] = "x\x1b]0;pwned\x07\x1b[2K\r[red]y[/red]\u202e"
    hostile["questions"] = {"q\x1b]8;;http://evil\x07click\x1b]8;;\x07\x9b": {"p": 0.5}}
    with open_ledger(str(path)) as ledger:
        ledger.record(forecast)
        ledger.record(hostile)
    return path


@pytest.fixture
def ledger_file(recorded: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    shutil.copy(recorded, path)
    return path


def test_ledger_list_and_score_print_recorded_ids_as_escapes(ledger_file: Path, wide: None):
    shown = "x\\x1b]0;pwned\\x07\\x1b[2K\\x0d[red]y[/red]\\u202e"
    for command in (["list"], ["score"]):
        result = runner.invoke(app, ["ledger", *command, "--ledger", str(ledger_file)])
        assert result.exit_code == 0, result.output
        no_raw_controls(result.output)
        assert shown in result.output
    score = runner.invoke(app, ["ledger", "score", "--ledger", str(ledger_file)])
    assert "q\\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07\\x9b" in score.output


def test_ledger_json_keeps_the_ids_and_escapes_what_acts_on_a_terminal(ledger_file: Path):
    result = runner.invoke(app, ["ledger", "list", "--ledger", str(ledger_file), "--json"])
    assert result.exit_code == 0, result.output
    no_raw_controls(result.stdout)
    records = json.loads(result.stdout)["records"]
    assert records[1]["case"] == "x\x1b]0;pwned\x07\x1b[2K\r[red]y[/red]\u202e"


def test_resolve_errors_quote_ids_as_escapes(ledger_file: Path, tmp_path: Path) -> None:
    resolutions = tmp_path / "r.yaml"
    resolutions.write_text('case: us-dprk-2018\nquestions:\n  "nope\\e]0;pwned\\a": yes\n')
    result = runner.invoke(app, ["ledger", "resolve", str(resolutions), "--ledger",
                                 str(ledger_file)])  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "nope\\x1b]0;pwned\\x07" in result.stderr
    no_raw_controls(result.output)


# -- resolve refuses ids no record has ----------------------------------------------------------


def resolutions_with(tmp_path: Path, old: str, new: str) -> Path:
    text = RESOLUTIONS.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "resolutions.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_resolve_refuses_a_case_with_no_record(ledger_file: Path, tmp_path: Path) -> None:
    typo = resolutions_with(tmp_path, "case: us-dprk-2018", "case: us-dprk-2081")
    result = runner.invoke(app, ["ledger", "resolve", str(typo), "--ledger", str(ledger_file)])
    stderr = clear_refusal(result, str(typo))
    line = typo.read_text().split("\n").index("case: us-dprk-2081") + 1
    assert stderr.startswith(f"{typo}:{line}: case: no forecast of case 'us-dprk-2081'")
    assert "did you mean 'us-dprk-2018'?" in stderr and "nothing stored" in stderr
    with open_ledger(str(ledger_file)) as ledger:
        assert ledger.resolutions() == {}


def test_resolve_refuses_a_case_in_an_empty_ledger(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    result = runner.invoke(app, ["ledger", "resolve", str(RESOLUTIONS), "--ledger", str(empty)])
    assert "it holds no records yet" in clear_refusal(result, str(RESOLUTIONS))
    with open_ledger(str(empty)) as ledger:
        assert ledger.resolutions() == {}


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("scenario: talks_continue", "scenario: talks_continues", "scenario"),
        ("scenario: talks_continue", "scenario: talks_continue\nscenario_order: [walk_away, "
         "summit_declaration, collapse_to_presure, talks_continue]", "scenario_order"),
    ],
)  # fmt: skip
def test_resolve_refuses_a_scenario_no_record_has(
    ledger_file: Path, tmp_path: Path, old: str, new: str, field: str
) -> None:
    typo = resolutions_with(tmp_path, old, new)
    result = runner.invoke(app, ["ledger", "resolve", str(typo), "--ledger", str(ledger_file)])
    stderr = clear_refusal(result, str(typo))
    line = next(n for n, x in enumerate(typo.read_text().split("\n"), 1) if x.startswith(field))
    assert f"{typo}:{line}: {field}: " in stderr
    assert "no recorded forecast of 'us-dprk-2018' has this scenario" in stderr
    assert "did you mean 'talks_continue'?" in stderr or "'collapse_to_pressure'?" in stderr
    with open_ledger(str(ledger_file)) as ledger:
        assert ledger.resolutions() == {}


def test_resolve_stores_a_resolution_of_a_recorded_case(ledger_file: Path) -> None:
    result = runner.invoke(
        app, ["ledger", "resolve", str(RESOLUTIONS), "--ledger", str(ledger_file)]
    )
    assert result.exit_code == 0, result.output
    scored = runner.invoke(app, ["ledger", "score", "--ledger", str(ledger_file), "--json"])
    case = json.loads(scored.stdout)["cases"]["us-dprk-2018"]
    assert case["scenarios"]["n"] == 1 and case["scenarios"]["brier"] is not None
