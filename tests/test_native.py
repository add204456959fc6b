"""The EUM kernel compiled ahead of time (eum/native.py) gives the JIT kernel's numbers bit for
bit, and a missing, stale, broken or failed build leaves the JIT kernel serving, not a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from standoff.bargaining.eum import ExpectedUtility, engine, native, native_build
from standoff.compile import load as load_case
from standoff.pipeline.forecast import run
from standoff.serialize import forecast_json

from .conftest import in_ci
from .engine_contract import random_inputs
from .test_eum import KERNEL_CONFIGURATIONS, kernel_inputs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def built() -> native.RoundFunction:
    """The ahead-of-time function. `make` builds it where a C compiler (and Python's headers)
    are installed; .ci/run installs a compiler where it is missing, and under CI=true its
    absence fails the test. Elsewhere it skips with the build's reason (the JIT kernel serves)."""
    function = native.load()
    if function is not None:
        return function
    try:
        why = json.loads((native.HERE / native.STAMP).read_text()).get("why") or "stale build"
    except (OSError, ValueError):
        why = "not built (run make)"
    if in_ci():
        pytest.fail(f"the ahead-of-time EUM kernel is missing under CI=true: {why}", pytrace=False)
    pytest.skip(f"the ahead-of-time EUM kernel is not built here: {why}")


def test_make_built_the_native_kernel(built: native.RoundFunction):
    assert native.round_function() is built


@pytest.fixture
def calls(built: native.RoundFunction, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the engine's calls of the ahead-of-time function (its draws per call)."""
    seen: list[int] = []

    def counted(*args: np.ndarray) -> None:
        seen.append(len(args[0]))
        built(*args)

    monkeypatch.setattr(engine, "round_function", lambda: counted)
    return seen


@pytest.mark.parametrize("world", ["shared", "perceived"])
@pytest.mark.parametrize("options", KERNEL_CONFIGURATIONS, ids=str)
def test_native_kernel_equals_the_jit_kernel_bit_for_bit(
    world: str, options: dict, calls: list[int], monkeypatch: pytest.MonkeyPatch
):
    options = dict(options)
    rounds = options.pop("rounds", 3)
    inputs = kernel_inputs(world, seed=31)
    ahead = ExpectedUtility(**options).run(inputs, rounds)
    assert sum(calls) >= 300  # every draw went through the ahead-of-time function
    monkeypatch.setattr(engine, "round_function", lambda: None)
    jit = ExpectedUtility(**options).run(inputs, rounds)
    np.testing.assert_array_equal(ahead.positions, jit.positions)
    np.testing.assert_array_equal(ahead.rounds_run, jit.rounds_run)
    for name in ("cycle_length", "cycle_settlement"):
        np.testing.assert_array_equal(ahead.diagnostics[name], jit.diagnostics[name])
    one, two = ahead.dyadic, jit.dyadic
    assert one is not None and two is not None
    for name in ("interaction", "taken", "eu_self", "eu_other", "offer", "risk_exponent", "p_win"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)


def test_a_forecast_is_the_same_with_either_kernel(
    built: native.RoundFunction, monkeypatch: pytest.MonkeyPatch
):
    case = load_case(ROOT / "cases" / "us-dprk-2018.yaml")
    ahead = forecast_json(run(case, draws=600, seed=5, chunk_size=256))
    monkeypatch.setenv("STANDOFF_NATIVE", "0")
    assert native.round_function() is None
    jit = forecast_json(run(case, draws=600, seed=5, chunk_size=256))
    assert ahead == jit


def test_the_native_kernel_runs_on_one_thread(calls: list[int]):
    """It holds the GIL, so the engine does not split a round across threads for it."""
    inputs = random_inputs(500, 5, 1, seed=3)
    ExpectedUtility(threads=4).run(inputs, 1)
    assert calls == [500]


def _copy_build(folder: Path) -> Path:
    for name in (native.STAMP, native.module_path().name):
        shutil.copyfile(native.HERE / name, folder / name)
    return folder


def test_a_copied_build_loads(built: native.RoundFunction, tmp_path: Path):
    assert native.load(_copy_build(tmp_path)) is not None


@pytest.mark.parametrize(
    "damage",
    ["stale digest", "not built", "no stamp", "stamp not json", "garbage module", "no module"],
)
def test_a_damaged_build_is_not_used(built: native.RoundFunction, tmp_path: Path, damage: str):
    folder = _copy_build(tmp_path)
    stamp_path, module = folder / native.STAMP, native.module_path(folder)
    stamp = json.loads(stamp_path.read_text())
    if damage == "stale digest":
        stamp_path.write_text(json.dumps({**stamp, "digest": "0" * 64}))
    elif damage == "not built":
        stamp_path.write_text(json.dumps({**stamp, "built": False}))
    elif damage == "no stamp":
        stamp_path.unlink()
    elif damage == "stamp not json":
        stamp_path.write_text("{")
    elif damage == "garbage module":
        module.write_bytes(b"\x7fELF not really")
    else:
        module.unlink()
    assert native.load(folder) is None


def test_a_build_from_other_sources_is_not_used(built: native.RoundFunction, tmp_path: Path):
    sources = tmp_path / "src"
    sources.mkdir()
    for name in native.SOURCES:
        shutil.copyfile(native.HERE / name, sources / name)
    folder = _copy_build(tmp_path)
    assert native.load(folder, sources) is not None
    kernel = sources / "kernel.py"
    kernel.write_text(kernel.read_text() + "\n# changed\n")
    assert native.load(folder, sources) is None


def test_a_failed_build_says_why_and_leaves_the_jit_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    def no_compiler(folder: Path) -> Path:
        raise OSError("no C compiler found")

    monkeypatch.setattr(native_build, "build", no_compiler)
    assert native_build.main(tmp_path) == 0
    stamp = json.loads((tmp_path / native.STAMP).read_text())
    assert stamp["built"] is False and "no C compiler found" in stamp["why"]
    assert "JIT kernel" in capsys.readouterr().err
    assert native.load(tmp_path) is None


def test_standoff_native_0_asks_for_the_jit_kernel(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STANDOFF_NATIVE", "0")
    assert native.round_function() is None
    assert ExpectedUtility()._kernel_threads() == ExpectedUtility().threads
