"""The documentation's examples are real: the complete case in docs/cases.md loads and runs."""

import re
from pathlib import Path

import pytest

from standoff.compile import load_yaml
from standoff.pipeline.forecast import run

DOCS = Path(__file__).resolve().parents[1] / "docs"


def yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_cases_md_example_loads_and_runs():
    block = yaml_blocks("cases.md")[0]
    compiled = load_yaml(block, "docs/cases.md")
    case = compiled.case
    assert case.id == "port-strike"
    assert case.issues[1].range == (0, 100)
    assert case.perceptions["union"]["ministry"].capability is not None
    forecast = run(compiled, draws=200, seed=1)
    wage = next(s for s in forecast.settlement if s.id == "wage")
    assert 0 <= wage.median <= 10


def test_cases_md_crisis_fragment_completes_a_case():
    """The crisis section's example, joined to a minimal case, loads and forecasts."""
    fragment = yaml_blocks("cases.md")[1]
    head = """
id: iran-2015
as_of: 2015-04-01
horizon: 2015-12-31
issues:
  - {id: enrichment}
actors:
  - {id: us, capability: 60, stances: {enrichment: {position: 95, salience: 0.9}}}
  - {id: iran, capability: 40, stances: {enrichment: {position: 20, salience: 0.9}}}
  - {id: eu3, capability: 20, stances: {enrichment: {position: 70, salience: 0.6}}}
"""
    forecast = run(load_yaml(head + fragment, "docs/cases.md"), draws=200, seed=1)
    assert {s.id for s in forecast.scenarios} == {"breakdown", "deal", "drift"}
    assert abs(sum(s.probability.p for s in forecast.scenarios) - 1) < 1e-9


def test_doctests_are_collected(pytestconfig: pytest.Config):
    """`pytest` runs the docstring examples in src/ and the `>>>` blocks in README.md and
    docs/*.md (pyproject.toml's [tool.pytest.ini_options])."""
    assert pytestconfig.getoption("doctestmodules")
    assert "*.md" in pytestconfig.getoption("doctestglob")
    assert {"tests", "src", "docs", "README.md"} <= set(pytestconfig.getini("testpaths"))
