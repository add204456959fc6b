"""Every malformed or hostile case file in the project's corpora, through every command that reads
a case (`check`, `forecast`, `forecast --report` in both formats): exit 0, or exit 2 with
`FILE:LINE: field: problem` lines; never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app

HERE = Path(__file__).resolve().parent
CORPUS = sorted(
    p
    for folder in (HERE / "malformed", HERE / "hostile" / "formulas")
    for p in folder.iterdir()
    if p.is_file() and not p.name.startswith(".")
)
COMMANDS = {
    "check": lambda path, out: ["check", str(path)],
    "forecast": lambda path, out: [
        "forecast", str(path), "--draws", "40", "--json", str(out / "f.json"),
    ],
    "report-html": lambda path, out: [
        "forecast", str(path), "--draws", "40", "--trajectories", "2", "--replicates", "2",
        "--report", str(out / "r.html"),
    ],
    "report-md": lambda path, out: [
        "forecast", str(path), "--draws", "40", "--trajectories", "2", "--replicates", "2",
        "--report", str(out / "r.md"),
    ],
}  # fmt: skip
PROBLEM = re.compile(r"^.+:\d+: [^:]+: .+")

runner = CliRunner()


def test_the_corpus_is_there():
    assert len(CORPUS) >= 80


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_command_fails_cleanly_or_runs(path: Path, command: str, tmp_path: Path):
    before = path.read_bytes() if path.is_file() else None
    result = runner.invoke(app, COMMANDS[command](path, tmp_path))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        lines = [x for x in result.stderr.splitlines() if x.strip()]
        assert lines, "a refusal says why on stderr"
        assert any(PROBLEM.match(x) or x.startswith("error: ") for x in lines), lines
    if before is not None:
        assert path.read_bytes() == before  # nothing the user wrote is touched
