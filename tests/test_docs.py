"""The documentation's examples are real: the complete case in docs/cases.md loads and runs."""

import re
from pathlib import Path

from standoff.case.loader import load_yaml_text
from standoff.forecast import run_forecast

DOCS = Path(__file__).resolve().parents[1] / "docs"


def yaml_blocks(name: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_cases_md_example_loads_and_runs():
    (block,) = yaml_blocks("cases.md")
    case = load_yaml_text(block, "docs/cases.md")
    assert case.id == "port-strike"
    assert case.issues[1].range == (0, 100)
    assert case.perceptions["union"]["ministry"].capability is not None
    forecast = run_forecast(case, draws=200, seed=1)
    summary = forecast.settlement_summary()
    assert 0 <= summary["wage"]["median"] <= 10
