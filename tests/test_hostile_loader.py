"""Hostile case files: each ends in `FILE:LINE: field: problem` with exit status 2 (never a
traceback), with a message that says what to do, or runs cleanly."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.pipeline.indicators import indicators

from .conftest import clear_refusal

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

MINI = """\
standoff: 1
id: mini
issues:
  - id: deal
    range: [0, 100]
  - id: sanctions
actors:
  - id: usa
    capability: 10
    stances:
      deal: {position: 20, salience: 0.5}
      sanctions: {position: 90, salience: 0.5}
  - id: dprk
    capability: 5
    stances:
      deal: {position: 80, salience: 0.5}
      sanctions: {position: 10, salience: 0.5}
"""
CUBA = (ROOT / "cases" / "cuba-1962.yaml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def fails(path: Path, command: str = "check", *extra: str) -> str:
    """Run the command; it must exit 2 with only `FILE:LINE: field: problem` lines on stderr."""
    return clear_refusal(runner.invoke(app, [command, str(path), *extra]), str(path))


def without_scenarios(text: str) -> str:
    out, skipping = [], False
    for line in text.split("\n"):
        if line.startswith("scenarios:"):
            skipping = True
            continue
        if skipping and line and not line[0].isspace() and not line.startswith(("-", "#")):
            skipping = False
        if not skipping:
            out.append(line)
    return "\n".join(out)


# 1. loader edges


def test_alias_chain_expanding_1200_deep_is_refused(tmp_path: Path) -> None:
    # flat definitions, each an alias of the one before: shallow text, 1,200 levels when expanded
    text = "x0: &a0 [1]\n" + "".join(f"x{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 1200))
    assert "nested too deeply" in fails(write(tmp_path, text))
    text = "x0: &a0 [1]\n" + "".join(f"x{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 600))
    assert "nested too deeply" in fails(write(tmp_path, text))


def test_deep_flow_nesting_is_refused(tmp_path: Path) -> None:
    assert "nested too deeply" in fails(write(tmp_path, "a: " + "[" * 1200 + "]" * 1200 + "\n"))


def test_deeper_flow_nesting_than_libyaml_is_given_is_refused(tmp_path: Path) -> None:
    from standoff.case import yamlread

    depth = yamlread.FAST_NESTING + 10  # composed in Python: libyaml recurses without a check
    assert "nested too deeply" in fails(write(tmp_path, "a: " + "[" * depth + "]" * depth))


REPO = Path(__file__).resolve().parents[1]
YAML_FILES = sorted(
    p for d in ("cases", "tests") for p in (REPO / d).rglob("*.yaml") if p.is_file()
)


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_libyaml_and_python_composers_read_the_same(path: Path, monkeypatch) -> None:
    # the same data, lines, typed values and errors whichever composer PyYAML uses
    from standoff.case import yamlread
    from standoff.errors import CaseError

    def read() -> Any:
        typed: dict[Any, str] = {}
        try:
            return yamlread.read_yaml(path.read_text(encoding="utf-8"), str(path), typed), typed
        except CaseError as e:
            return str(e)
        except UnicodeDecodeError:
            return "not UTF-8"

    fast = read()
    monkeypatch.setattr(yamlread, "FAST_NESTING", 0)  # the Python composer only
    assert read() == fast


@pytest.mark.parametrize("value", ["1e308", "1e13", "'1 to 1e300'", "normal(5, 1e300)"])
def test_huge_capability_is_an_error(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, edit(MINI, "capability: 10", f"capability: {value}"))
    text = fails(path)
    assert f"{path}:9: actors[0].capability: " in text and "too large" in text
    fails(path, "forecast", "--draws", "10")


def test_huge_crisis_parameter_is_an_error(tmp_path: Path) -> None:
    rate = "strike_rate:\n      value: "
    path = write(tmp_path, edit(CUBA, f"{rate}0.05 to 0.25", f"{rate}1e300"))
    assert "crisis.parameters.strike_rate: 1e+300 is too large" in fails(path)


@pytest.mark.parametrize("bounds", ["[-1e300, 1e300]", "[0, 1e10]", "[-1e13, -1e12]"])
def test_too_wide_issue_range_is_an_error(tmp_path: Path, bounds: str) -> None:
    path = write(tmp_path, edit(MINI, "range: [0, 100]", f"range: {bounds}"))
    text = fails(path)
    assert f"{path}:5: issues[0].range: " in text and "too wide" in text
    assert "position" not in text  # no cascade onto the positions on that issue


def test_large_but_sane_numbers_run(tmp_path: Path) -> None:
    text = edit(MINI, "capability: 10", "capability: 1e12")
    text = edit(text, "range: [0, 100]", "range: [0, 1e9]")
    result = runner.invoke(app, ["forecast", str(write(tmp_path, text)), "--draws", "20"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("word", ["NO", "yes", "On", "off"])
def test_boolean_word_as_id_says_to_quote_it(tmp_path: Path, word: str) -> None:
    path = write(tmp_path, edit(MINI, "id: usa", f"id: {word}"))
    assert f"{path}:8: actors[0].id: expected text; {word} is read as a boolean; quote it: " \
        f"'{word}'" in fails(path)  # fmt: skip


def test_boolean_word_as_key_says_to_quote_it(tmp_path: Path) -> None:
    text = edit(MINI, "id: sanctions", "id: 'NO'")
    text = text.replace("sanctions: {", "NO: {")
    path = write(tmp_path, text)
    out = fails(path)
    assert (
        f"{path}:12: actors[0].stances.NO: NO is read as a boolean (yes/no); quote it: 'NO'" in out
    )
    fixed = write(tmp_path, text.replace("NO: {", "'NO': {"), "fixed.yaml")
    assert runner.invoke(app, ["check", str(fixed)]).exit_code == 0


def test_number_as_id_says_to_quote_it(tmp_path: Path) -> None:
    path = write(tmp_path, edit(MINI, "id: usa", "id: 2018"))
    assert "2018 is read as a number; quote it: '2018'" in fails(path)


def test_sexagesimal_number_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, edit(MINI, "capability: 10", "capability: 1:30"))
    out = fails(path)
    assert f"{path}:9: actors[0].capability: 1:30 is read as the number 90" in out
    assert "quote it" in out and "write the number" in out


def test_messages_name_fields_not_pydantic_internals(tmp_path: Path) -> None:
    text = edit(CUBA, "probability: \"now('agreement') * jupiter_given_deal\"", "probability: [1]")
    out = fails(write(tmp_path, text))
    assert re.search(
        r":\d+: crisis\.events\[4\]\.probability: expected text or a number$", out, re.M
    )
    text = edit(CUBA, "replicates: 50", "replicates: lots")
    out += fails(write(tmp_path, text))
    assert "crisis.replicates: expected a whole number" in out
    text = edit(MINI, "id: usa", "id: [usa]")
    out += fails(write(tmp_path, text))
    text = edit(CUBA, "\ncrisis:\n", "\ncrisis:\n  engine: eumm\n")
    out += fails(write(tmp_path, text))
    assert "crisis.engine: 'eumm' is not a choice here; write 'eum'" in out
    text = edit(CUBA, "step: week", "step: weekly")
    out += fails(write(tmp_path, text))
    assert "crisis.step: 'weekly' is not a choice here; write 'week', 'month' or 'quarter'" in out
    for internal in ("constrained-str", "function-after", "lax-or-strict", "Input should be"):
        assert internal not in out


# 2. messages a person can act on


def test_indentation_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, edit(MINI, "    stances:\n      deal: {position: 20", "   stances:\n"
                                "      deal: {position: 20"))  # fmt: skip
    assert f"{path}:10: (yaml): YAML syntax error: check the indentation of line 10" in fails(path)
    path = write(tmp_path, "id: x\n  issues: []\n")
    assert "check the indentation of line 2" in fails(path)


def test_unknown_issue_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, edit(MINI, "      deal: {position: 80", "      dael: {position: 80"))
    assert (
        f"{path}:16: actors[1].stances.dael: unknown issue 'dael'; did you mean 'deal'? "
        "(defined: deal, sanctions)" in fails(path)
    )


def test_unknown_actor_in_perceptions_lists_the_known_ones(tmp_path: Path) -> None:
    text = MINI + "perceptions:\n  dprk:\n    usaa: {capability: 3}\n"
    assert "unknown actor 'usaa'; did you mean 'usa'? (defined: usa, dprk)" in fails(
        write(tmp_path, text)
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    - [kennedy, khrushchev]", "    - [kenedy, khrushchev]",
         "crisis.dyads[0]: unknown actor 'kenedy'; did you mean 'kennedy'?"),
        ("ladder: [quarantine,", "ladder: [quarantin,",
         "crisis.ladder[0]: unknown event 'quarantin'; did you mean 'quarantine'? (defined: "),
        ("belief: kennedy_irresolute, ratio: 0.2", "belief: kennedy_resolute, ratio: 0.2",
         "unknown belief 'kennedy_resolute'; did you mean 'kennedy_irresolute'? (defined: "
         "kennedy_irresolute)"),
        ("holder: khrushchev", "holder: nikita",
         "crisis.beliefs[0].holder: unknown actor 'nikita' (defined: kennedy, "),
    ],
)  # fmt: skip
def test_unknown_crisis_references_list_the_known_ones(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in fails(write(tmp_path, edit(CUBA, old, new)))


def test_many_known_ids_are_counted_not_listed() -> None:
    from standoff.case.checks import unknown

    message = unknown("actor", "a_7x", [f"a_{i}" for i in range(30)])
    assert (
        message.startswith("unknown actor 'a_7x'; did you mean") and "(30 are defined)" in message
    )


@pytest.mark.parametrize(
    ("stance", "whole"),
    [
        ("{position: normal(50, 10), salience: 0.5}", "normal(50, 10)"),
        ("{position: triangular(10, 20, 40), salience: 0.5}", "triangular(10, 20, 40)"),
        ("{position: 20, salience: beta(2, 5)}", "beta(2, 5)"),
    ],
)
def test_distribution_split_in_flow_mapping_says_to_quote_it(
    tmp_path: Path, stance: str, whole: str
) -> None:
    path = write(tmp_path, edit(MINI, "{position: 20, salience: 0.5}", stance))
    out = fails(path)
    assert f"YAML split '{whole}' at its comma" in out and f": '{whole}'" in out
    assert "unknown key" not in out  # the stray pieces are explained, not listed
    assert len(out.strip().splitlines()) == 1


# 3. crisis cases


def test_crisis_case_without_scenarios_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, without_scenarios(CUBA))
    for command in ("check", "forecast"):
        out = fails(path, command, *(["--draws", "20"] if command == "forecast" else []))
        assert "crisis: a crisis case needs at least one scenario" in out


def test_crisis_question_without_when_is_an_error(tmp_path: Path) -> None:
    start = CUBA.index("\nquestions:")
    head, tail = CUBA[:start], CUBA[start:]
    when = re.search(r"\n    when: [^\n]*", tail)
    assert when
    path = write(tmp_path, head + tail[: when.start()] + tail[when.end() :])
    assert "questions[0]: a question of a crisis case needs a `when` rule" in fails(
        path, "forecast", "--draws", "20"
    )


def test_indicators_with_nothing_to_tell_apart_is_empty() -> None:
    plan: Any = SimpleNamespace(scenarios=[], events=[SimpleNamespace(id="e")])
    assert indicators(SimpleNamespace(), plan) == ()  # type: ignore[arg-type]
