"""Shared test helpers.

Reference data (published results and the data sets in ../shared/data beside the repo) is reached
only through `shared`: outside CI a missing file skips its test with the reason; in CI (the
environment variable CI is `true`, as .ci/run and the usual CI services set it) it fails the test,
so a published-result check can never be skipped unnoticed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"  # small published tables kept in the repo


def in_ci() -> bool:
    """True when the environment variable CI is `true` (any case)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def shared(*parts: str, what: str = "shared reference data") -> Path:
    """The reference file ../shared/data/<parts...> beside the repo.

    When it is missing, the test fails under CI=true and skips otherwise, with the path and why.
    """
    path = SHARED_DATA.joinpath(*parts)
    if path.exists():
        return path
    reason = f"{what} not found at {path} (../shared/data is expected beside the repo)"
    if in_ci():
        pytest.fail(
            f"{reason}; CI=true, so a missing reference fails instead of skipping", pytrace=False
        )
    pytest.skip(reason)


def clear_refusal(result: Any, file: str | None = None) -> str:
    """A CLI result that refused its input as the project promises: exit status 2, no traceback,
    and stderr made only of `FILE:LINE: field: problem` lines (of `file`, when given). Returns
    stderr."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert lines
    where = re.escape(file) if file is not None else r"[^:]+"
    for x in lines:
        assert re.match(rf"^{where}:\d+: [^:]+: .+", x), x
    return str(result.stderr)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A workspace folder for the web tests: the built-in Cuba case as `mine.yaml` (a test module
    that needs another workspace defines its own `folder`)."""
    from standoff.case import builtin_cases

    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(builtin_cases()["cuba-1962"], work / "mine.yaml")
    return work
