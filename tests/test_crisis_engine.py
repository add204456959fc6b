"""`crisis.engine`: documented with the crisis section's fields, and the refusal of `--model` on a
crisis case says what the engine is and how to run another one, a command that then works."""

from __future__ import annotations

import typing

from typer.testing import CliRunner

from standoff.case.crisis_schema import Crisis
from standoff.cli import app

from .conftest import REPO

runner = CliRunner()


def crisis_section() -> str:
    text = (REPO / "docs" / "cases.md").read_text(encoding="utf-8")
    return text.split("## The crisis section")[1].split("\n## ")[0]


def test_every_engine_a_crisis_takes_is_documented_with_the_crisis_fields() -> None:
    section = crisis_section()
    engines = typing.get_args(Crisis.model_fields["engine"].annotation)
    assert engines  # the values `crisis.engine` accepts
    assert f"  engine: {Crisis.model_fields['engine'].default}" in section  # in the example
    about = section.split("### The engine")[1].split("\n### ")[0]
    for engine in engines:
        assert f"`{engine}`" in about
    assert "--model" in about and "standoff settle CASE --model" in about


def test_model_on_a_crisis_case_says_how_to_change_the_engine() -> None:
    got = runner.invoke(app, ["forecast", "us-dprk-2018", "--model", "nash", "--draws", "10"])
    assert got.exit_code == 2 and "Traceback" not in got.output
    (line,) = got.stderr.strip().splitlines()
    assert "crisis.engine: eum" in line and 'docs/cases.md, "The engine"' in line
    suggested = line.split("run ")[-1]
    assert suggested == "standoff settle us-dprk-2018 --model nash"
    settled = runner.invoke(app, suggested.split()[1:])
    assert settled.exit_code == 0, settled.output
