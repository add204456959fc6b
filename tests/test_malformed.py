"""Every malformed case in tests/malformed fails with the right line, field and message, and
`standoff check` reports it as `FILE:LINE: field: problem` with exit status 2 and no traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.case import load_case
from standoff.cli import app
from standoff.errors import CaseError, Problem

from .conftest import shared

HERE = Path(__file__).resolve().parent
MALFORMED = HERE / "malformed"

# file, line, field, a fragment of the message
CASES: list[tuple[str, int, str, str]] = [
    # not a case at all
    ("not-a-case.txt", 1, "(file)", "unknown file type '.txt'"),
    ("unknown-extension.json", 1, "(file)", "unknown file type '.json'"),
    ("binary.yaml", 1, "(file)", "not a text file"),
    ("empty.yaml", 1, "(file)", "the file is empty"),
    ("whitespace-only.yaml", 1, "(file)", "the file is empty"),
    ("whitespace-only.csv", 1, "(file)", "the file is empty"),
    ("comments-only.yaml", 1, "(file)", "the file is empty"),
    ("does-not-exist.yaml", 1, "(file)", "no such file or built-in case"),
    ("directory.yaml", 1, "(file)", "is a directory"),
    # YAML syntax
    ("yaml-bad-indent.yaml", 5, "(yaml)", "YAML syntax error"),
    ("yaml-unclosed-bracket.yaml", 6, "(yaml)", "flow sequence from line 5"),
    ("yaml-tab.yaml", 4, "(yaml)", "line 4 is indented with a tab; YAML indents with spaces"),
    ("yaml-bad-float-tag.yaml", 8, "actors[0].capability", "cannot read value 'abc'"),
    ("bad-date.yaml", 3, "as_of", "month must be in 1..12"),
    ("duplicate-yaml-key.yaml", 9, "actors[0].capability", "duplicate key"),
    ("merge-key.yaml", 16, "actors[1].stances.deal", "merge keys ('<<') are not supported"),
    ("alias-bomb.yaml", 1, "(yaml)", "expands to more than"),
    ("alias-recursive.yaml", 1, "(yaml)", "expands to more than"),
    # top level and structure
    (
        "top-level-list.yaml",
        1,
        "(top level)",
        "must be a mapping with id, issues and actors; found a list",
    ),
    ("top-level-scalar.yaml", 1, "(top level)", "found a single value (str)"),
    ("unknown-key-top.yaml", 15, "horizn", "unknown key 'horizn' (did you mean 'horizon'?)"),
    (
        "unknown-key-actor.yaml",
        9,
        "actors[0].capabilty",
        "unknown key 'capabilty' (did you mean 'capability'?)",
    ),
    (
        "unknown-key-stance.yaml",
        10,
        "actors[0].stances.deal.salinece",
        "unknown key 'salinece' (did you mean 'salience'?)",
    ),
    (
        "unknown-key-perception.yaml",
        18,
        "perceptions.dprk.usa.capabilities",
        "unknown key 'capabilities' (did you mean 'capability'?)",
    ),
    ("missing-capability.yaml", 7, "actors[0].capability", "required field is missing"),
    ("missing-issue-id.yaml", 4, "issues[0].id", "required field is missing"),
    ("no-actors.yaml", 6, "actors", "at least 1 item"),
    ("format-version.yaml", 1, "standoff", "unsupported format version 2"),
    # ids and references
    ("duplicate-issue-id.yaml", 5, "issues[1].id", "duplicate id 'deal'"),
    ("duplicate-actor-id.yaml", 15, "actors[2].id", "duplicate id 'usa'"),
    ("stance-unknown-issue.yaml", 11, "actors[0].stances.tarifs", "unknown issue 'tarifs'"),
    ("perception-unknown-holder.yaml", 16, "perceptions.china", "unknown actor 'china'"),
    ("perception-unknown-target.yaml", 17, "perceptions.dprk.japan", "unknown actor 'japan'"),
    (
        "perception-unknown-issue.yaml",
        19,
        "perceptions.dprk.usa.stances.tariffs",
        "unknown issue 'tariffs'",
    ),
    ("perception-of-self.yaml", 19, "perceptions.dprk.dprk", "beliefs about itself"),
    ("missing-stance.yaml", 14, "actors[1].stances", "no stance on issue 'sanctions'"),
    # numbers and ranges
    (
        "position-out-of-range.yaml",
        10,
        "actors[0].stances.deal.position",
        "value 120 is outside the valid range (between 0 and 100)",
    ),
    ("position-range-end-out.yaml", 10, "actors[0].stances.deal.position", "end 110 is outside"),
    (
        "position-range-low-end-out.yaml",
        10,
        "actors[0].stances.deal.position",
        "end -10 is outside",
    ),
    (
        "perceived-position-out-of-range.yaml",
        19,
        "perceptions.dprk.usa.stances.deal.position",
        "value 150 is outside",
    ),
    (
        "salience-above-one.yaml",
        10,
        "actors[0].stances.deal.salience",
        "value 1.5 is outside the valid range (between 0 and 1)",
    ),
    ("salience-range-above-one.yaml", 10, "actors[0].stances.deal.salience", "end 1.2 is outside"),
    ("negative-capability.yaml", 8, "actors[0].capability", "value -3 is outside the valid range"),
    ("nan-capability.yaml", 8, "actors[0].capability", "nan is not a finite number"),
    ("inf-position.yaml", 10, "actors[0].stances.deal.position", "inf is not a finite number"),
    ("inf-in-range.yaml", 8, "actors[0].capability", "cannot read '5 to inf'"),
    ("huge-integer.yaml", 8, "actors[0].capability", "too large to be a number"),
    ("range-reversed.yaml", 8, "actors[0].capability", "low end must be below the high end"),
    (
        "normal-negative-sd.yaml",
        8,
        "actors[0].capability",
        "the standard deviation must be positive",
    ),
    (
        "beta-zero-shape.yaml",
        10,
        "actors[0].stances.deal.salience",
        "both shape parameters must be positive",
    ),
    ("beta-unbounded.yaml", 8, "actors[0].capability", "beta() needs a bounded quantity"),
    ("unknown-distribution.yaml", 8, "actors[0].capability", "unknown distribution 'foo'"),
    ("uniform-wrong-arity.yaml", 8, "actors[0].capability", "expected uniform(low, high)"),
    (
        "flow-mapping-unquoted-call.yaml",
        10,
        "actors[0].stances.deal.salience",
        "quote it: salience: 'beta(2, 5)'",
    ),
    ("number-as-word.yaml", 8, "actors[0].capability", "cannot read 'strong' as a number"),
    ("boolean-salience.yaml", 10, "actors[0].stances.deal.salience", "got True"),
    (
        "issue-range-reversed.yaml",
        5,
        "issues[0].range",
        "the low end 100 must be below the high end 0",
    ),
    (
        "issue-range-equal.yaml",
        5,
        "issues[0].range",
        "the low end 50 must be below the high end 50",
    ),
    ("issue-range-infinite.yaml", 5, "issues[0].range[1]", "finite number"),
    ("horizon-before-as-of.yaml", 4, "horizon", "must come after as_of 2018-08-15"),
    # BDM CSV
    ("bdm-missing-column.csv", 1, "header", "missing column(s): salience"),
    ("bdm-extra-column.csv", 1, "header", "unexpected column(s): Risk"),
    ("bdm-wrong-order.csv", 1, "header", "columns must be in the order"),
    ("bdm-header-only.csv", 1, "(file)", "no actor rows after the header"),
    ("bdm-short-row.csv", 3, "row", "short row: 3 fields, expected 4"),
    ("bdm-long-row.csv", 3, "row", "long row: 5 fields, expected 4"),
    ("bdm-non-numeric-capability.csv", 2, "Capability", "'ten' is not a number"),
    ("bdm-negative-capability.csv", 2, "Capability", "-10 is negative"),
    ("bdm-salience-above-one.csv", 3, "Salience", "1.5 is above 1"),
    ("bdm-nan-position.csv", 2, "Position", "'nan' is not a finite number"),
    ("bdm-duplicate-actor.csv", 4, "Actor", "duplicate actor 'USA' (first on line 2)"),
    ("csv-unrecognised.csv", 1, "(file)", "not a recognised CSV"),
    # KTAB CSV
    ("ktab-header-vs-ndims.csv", 2, "header", "5 columns, but nDims = 2 needs 7"),
    ("ktab-nactors-mismatch.csv", 4, "nActors", "says 3 actors but 2 rows follow"),
    ("ktab-nactors-not-integer.csv", 1, "nActors", "'two' is not a whole number"),
    ("ktab-ndims-zero.csv", 1, "nDims", "0 must be at least 1"),
    ("ktab-scenario-line-short.csv", 1, "scenario line", "found 3 field(s)"),
    ("ktab-short-row.csv", 4, "row", "short row: 4 fields, expected 5"),
    ("ktab-salience-sum.csv", 4, "salience", "saliences sum to 110, above 100"),
    ("ktab-position-above-100.csv", 4, "Pstn1", "180 is above 100"),
    ("ktab-duplicate-actor.csv", 4, "Actor", "duplicate actor 'A' (first on line 3)"),
]

# A representative subset for the command line: one per kind of fault.
CLI_SUBSET = [
    "not-a-case.txt",
    "binary.yaml",
    "empty.yaml",
    "does-not-exist.yaml",
    "directory.yaml",
    "yaml-tab.yaml",
    "yaml-unclosed-bracket.yaml",
    "bad-date.yaml",
    "top-level-list.yaml",
    "unknown-key-actor.yaml",
    "missing-capability.yaml",
    "duplicate-actor-id.yaml",
    "perception-of-self.yaml",
    "position-range-end-out.yaml",
    "nan-capability.yaml",
    "huge-integer.yaml",
    "unknown-distribution.yaml",
    "horizon-before-as-of.yaml",
    "alias-bomb.yaml",
    "bdm-short-row.csv",
    "bdm-salience-above-one.csv",
    "ktab-nactors-not-integer.csv",
    "ktab-salience-sum.csv",
]

runner = CliRunner()


def _problems(name: str) -> list[Problem]:
    with pytest.raises(CaseError) as info:
        load_case(str(MALFORMED / name))
    return info.value.problems


def _matching(problems: list[Problem], line: int, field: str, fragment: str) -> list[Problem]:
    return [p for p in problems if p.line == line and p.field == field and fragment in p.message]


def test_corpus_is_large_and_fully_tabled():
    on_disk = {p.name for p in MALFORMED.iterdir() if not p.name.startswith(".")}
    tabled = {name for name, *_ in CASES}
    assert len(on_disk) >= 35
    assert on_disk - tabled == set(), "every malformed file needs a row in CASES"
    assert tabled - on_disk == {"does-not-exist.yaml"}
    assert len(tabled) == len(CASES), "one row per file"


@pytest.mark.parametrize(("name", "line", "field", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_load_case_reports_the_problem(name: str, line: int, field: str, fragment: str):
    problems = _problems(name)
    assert problems, "a CaseError must carry at least one problem"
    for p in problems:
        assert p.file == str(MALFORMED / name)
        assert p.line >= 1
        assert p.message and "\n" not in p.message
    assert _matching(problems, line, field, fragment), "\n".join(map(str, problems))


def test_no_cascade_from_a_bad_issue_range():
    """A reversed range is one problem, not one more per position on that issue."""
    assert len(_problems("issue-range-reversed.yaml")) == 1


def test_alias_bomb_is_refused_fast():
    start = time.perf_counter()
    problems = _problems("alias-bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert "expands to more than" in problems[0].message


@pytest.mark.parametrize("name", CLI_SUBSET)
def test_cli_check_reports_file_line_field_problem(name: str):
    expected = next(c for c in CASES if c[0] == name)
    _, line, field, fragment = expected
    path = str(MALFORMED / name)
    result = runner.invoke(app, ["check", path])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert lines, "problems go to stderr"
    for x in lines:
        assert x.startswith(f"{path}:"), x
        lineno, _, rest = x[len(path) + 1 :].partition(": ")
        assert lineno.isdigit(), x
        assert ": " in rest, x
    assert f"{path}:{line}: {field}: " in result.stderr
    assert fragment in result.stderr


def _hostile(tmp_path: Path, name: str, text: str) -> list[Problem]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CaseError) as info:
        load_case(str(path))
    return info.value.problems


def test_deeply_nested_yaml_is_refused_without_a_traceback(tmp_path: Path):
    problems = _hostile(tmp_path, "deep.yaml", "a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    assert "nested too deeply" in problems[0].message


def test_oversized_csv_field_is_reported(tmp_path: Path):
    text = 'Actor,Capability,Position,Salience\n"' + "x" * 200_000 + '",1,2,0.5\n'
    problems = _hostile(tmp_path, "big-field.csv", text)
    assert problems[0].line == 2 and problems[0].field == "(csv)"


def test_file_name_too_long_is_reported():
    with pytest.raises(CaseError) as info:
        load_case("x" * 5000 + ".yaml")
    assert info.value.problems[0].field == "(file)"


@pytest.mark.parametrize(
    "parts",
    [
        ("bdm-emissions", "actors.csv"),
        ("ktab", "SOE-Pol-Comp.csv"),
        ("ktab", "dummyData_3Dim.csv"),
        ("ktab", "SOE-Policy.csv"),
        ("ktab", "SOE-Competitive.csv"),
    ],
    ids=lambda parts: "/".join(parts),
)
def test_cli_check_accepts_shared_data(parts: tuple[str, ...]):
    result = runner.invoke(app, ["check", str(shared(*parts))])
    assert result.exit_code == 0, result.output
    assert "ok" in result.stdout


def test_cli_check_accepts_the_builtin_case():
    result = runner.invoke(app, ["check", "us-dprk-2018"])
    assert result.exit_code == 0, result.output
    assert "7 actors, 3 issues" in " ".join(result.stdout.split())
