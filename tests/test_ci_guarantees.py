"""Guarantees the suite cannot skip: a missing reference file fails CI; every engine has the
engine contract; the published table kept in the repo is the shared one."""

from __future__ import annotations

import csv
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from standoff.bargaining import ENGINES

from . import conftest
from .conftest import TEST_DATA, shared
from .engine_contract import EngineContract

HERE = Path(__file__).resolve().parent

# Every file of ../shared/data that a test reads (through `shared`).
REFERENCES = [
    ("bdm-emissions", "actors.csv"),
    ("deu3", "deu3-dev.tsv"),
    ("deu3", "deu3-holdout-inputs.tsv"),
    ("ktab", "SOE-Pol-Comp.csv"),
    ("ktab", "SOE-Pol-Comp.expected.json"),
    ("ktab", "SOE-Pol-Comp.positions-by-turn.csv"),
    ("ktab", "dummyData_3Dim.csv"),
    ("ktab", "dummyData_3Dim.expected.json"),
    ("ktab", "dummyData_3Dim.positions-by-turn.csv"),
    ("ktab", "SOE-Policy.csv"),
    ("ktab", "SOE-Competitive.csv"),
]

# Skips that are not about reference data, and why they may stay plain skips.
PLAIN_SKIPS = {
    "test_report.py": "headless Chromium is a tool .ci/run installs, not reference data",
    "test_report_client.py": "headless Chromium is a tool .ci/run installs, not reference data",
    "test_web_browser.py": "headless Chromium and chromedriver are tools .ci/run installs (and "
    "under CI=true their absence fails the tests), not reference data",
    "test_ledger_postgres.py": "PostgreSQL is a server .ci/run installs, not reference data; under "
    "CI=true a missing server fails",
    "test_native.py": "the ahead-of-time EUM kernel needs a C compiler, a tool (.ci/run installs "
    "one where it is missing), not reference data; under CI=true a missing build fails",
    "test_dask_faults.py": "the TLS cluster test makes its certificates with the openssl tool, "
    "not reference data",
    "test_web_faults.py": "the bytes-read measurement needs Linux's /proc/self/io, a property of "
    "the system, not reference data",
}


def test_missing_reference_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as info:
        shared("no-such-folder", "no-such-file.csv")
    message = str(info.value)
    assert str(conftest.SHARED_DATA / "no-such-folder" / "no-such-file.csv") in message
    assert "not found" in message and "CI=true" in message


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_missing_reference_skips_outside_ci(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.skip.Exception) as info:
        shared("no-such-folder", "no-such-file.csv", what="KTAB reference data")
    assert "KTAB reference data not found at" in str(info.value)
    assert "no-such-file.csv" in str(info.value)


@pytest.mark.parametrize("value", ["true", "TRUE", None])
def test_present_reference_is_returned(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    (tmp_path / "ktab").mkdir()
    (tmp_path / "ktab" / "x.csv").write_text("x\n")
    assert shared("ktab", "x.csv") == tmp_path / "ktab" / "x.csv"


def _run_pytest_on(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """pytest, in a fresh process, on a test that reads a reference file that is missing."""
    test = tmp_path / "test_needs_reference.py"
    test.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(HERE.parent)!r})\n"
        "from tests.conftest import shared\n\n\n"
        "def test_reads_a_reference():\n"
        "    shared('no-such-folder', 'no-such-file.csv')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", test.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_under_ci_fails_and_a_run_outside_skips(tmp_path: Path) -> None:
    """End to end: the same test fails the run under CI=true and is skipped without it."""
    failed = _run_pytest_on(tmp_path, "true")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 failed" in failed.stdout and "no-such-file.csv" in failed.stdout
    skipped = _run_pytest_on(tmp_path, None)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "1 skipped" in skipped.stdout and "no-such-file.csv" in skipped.stdout


@pytest.mark.parametrize("parts", REFERENCES, ids=lambda parts: "/".join(parts))
def test_reference_data_is_present(parts: tuple[str, ...]) -> None:
    """Each reference file is there: under CI=true a missing one fails here, by name."""
    assert shared(*parts).stat().st_size > 0


def test_no_test_skips_a_reference_behind_the_helper() -> None:
    """Only conftest.shared reaches ../shared/data or skips for a missing file; the one other
    skip is listed in PLAIN_SKIPS with its reason."""
    skip = re.compile(r"pytest\.skip\(|pytest\.mark\.skip|skipif\(|importorskip\(")
    shared_path = re.compile(r"""["']shared["']\s*/|/\s*["']shared["']""")
    offenders = []
    for path in sorted(HERE.glob("*.py")):
        if path.name in ("conftest.py", Path(__file__).name):
            continue
        text = path.read_text(encoding="utf-8")
        if shared_path.search(text):
            offenders.append(f"{path.name}: builds a ../shared path (use conftest.shared)")
        if skip.search(text) and path.name not in PLAIN_SKIPS:
            offenders.append(f"{path.name}: skips by itself (use conftest.shared)")
    assert not offenders, offenders


def test_emissions_table_in_the_repo_is_the_published_one() -> None:
    """tests/data/bdm-emissions.csv (retyped from Scholz et al. 2011) equals the shared copy."""

    def rows(path: Path) -> list[tuple[str, float, float, float]]:
        with path.open(newline="") as f:
            reader = csv.reader(f)
            assert next(reader) == ["Actor", "Capability", "Position", "Salience"]
            return [(a, float(c), float(p), float(s)) for a, c, p, s in reader]

    ours = rows(TEST_DATA / "bdm-emissions.csv")
    assert len(ours) == 10
    assert "Scholz" in (TEST_DATA / "README.md").read_text(encoding="utf-8")
    assert ours == rows(shared("bdm-emissions", "actors.csv"))


def _contract_classes() -> Iterator[type[EngineContract]]:
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name.startswith("test_"):
            importlib.import_module(f"{__package__}.{info.name}")

    def walk(cls: type[EngineContract]) -> Iterator[type[EngineContract]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    yield from walk(EngineContract)


def test_every_registered_engine_has_an_engine_contract() -> None:
    tested = {type(cls.engine()) for cls in _contract_classes()}
    missing = sorted(name for name, engine in ENGINES.items() if engine not in tested)
    assert not missing, f"engines without an EngineContract subclass in tests/: {missing}"
