"""The documentation's examples are real: the complete case in docs/cases.md loads and runs."""

import re
from pathlib import Path

from standoff.case.loader import load_yaml_text
from standoff.forecast import run_forecast

DOCS = Path(__file__).resolve().parents[1] / "docs"


def yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_cases_md_example_loads_and_runs():
    block = yaml_blocks("cases.md")[0]
    case = load_yaml_text(block, "docs/cases.md")
    assert case.id == "port-strike"
    assert case.issues[1].range == (0, 100)
    assert case.perceptions["union"]["ministry"].capability is not None
    forecast = run_forecast(case, draws=200, seed=1)
    summary = forecast.settlement_summary()
    assert 0 <= summary["wage"]["median"] <= 10


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
    case = load_yaml_text(head + fragment, "docs/cases.md")
    from standoff.crisis import run_crisis, summarize

    summary = summarize(run_crisis(case, 200, 1, 200))
    assert set(summary["scenarios"]) == {"breakdown", "deal", "drift"}
    assert abs(sum(s["p"] for s in summary["scenarios"].values()) - 1) < 1e-9
