import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from standoff import __version__
from standoff.bargaining.eum import native
from standoff.cli import app

from .conftest import TEST_DATA, shared

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_version_loads_no_engine():
    """`standoff --version` (and `--help`) start quickly: numba and the engines load only in the
    commands that use them."""
    code = (
        "import sys, standoff.cli\n"
        "for args in (['--version'], ['--help']):\n"
        "    try:\n"
        "        standoff.cli.app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('numba', 'standoff.bargaining', 'standoff.pipeline.forecast')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert __version__ in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_settle_loads_neither_numba_nor_the_crisis(tmp_path):
    """`settle` of a KTAB table with a numpy engine (smp) loads neither numba (the EUM's JIT
    kernel) nor the crisis modules; the flagship forecast in one process loads the crisis, and
    numba only where the kernel compiled ahead of time is not used (STANDOFF_NATIVE=0, or not
    built: tests/test_native.py)."""
    table = shared("ktab", "SOE-Pol-Comp.csv")
    code = (
        "import sys, standoff.cli\n"
        "try:\n"
        "    standoff.cli.app(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('numba', 'standoff.simulate.crisis') if m in sys.modules))\n"
    )
    flagship = ["forecast", "--draws", "50", "--workers", "1"]
    runs = {
        "settle": (["settle", str(table), "--model", "smp"], "1"),
        "flagship": (flagship, "1"),
        "flagship, JIT kernel": (flagship, "0"),
    }
    loaded = {}
    for name, (args, use_native) in runs.items():
        env = {**os.environ, "STANDOFF_NATIVE": use_native}
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                              text=True, check=True, cwd=tmp_path, env=env)  # fmt: skip
        loaded[name] = done.stdout.strip().splitlines()[-1]
    built = native.load() is not None
    assert loaded == {
        "settle": "[]",
        "flagship": "['standoff.simulate.crisis']"
        if built
        else "['numba', 'standoff.simulate.crisis']",
        "flagship, JIT kernel": "['numba', 'standoff.simulate.crisis']",
    }


def test_option_defaults_match_their_sources():
    """cli.py writes out the defaults and engine names its options show (to start quickly)."""
    from standoff import cli
    from standoff.backtest import run as backtest_run
    from standoff.bargaining import ENGINES
    from standoff.cli import backtest as commands
    from standoff.pipeline import forecast, sensitivity

    assert cli.MODELS == tuple(sorted(ENGINES))
    assert cli.DEFAULT_DRAWS == forecast.DEFAULT_DRAWS
    assert cli.DEFAULT_SEED == forecast.DEFAULT_SEED
    assert cli.DEFAULT_CHUNK == forecast.DEFAULT_CHUNK
    assert cli.DEFAULT_TRAJECTORIES == sensitivity.DEFAULT_TRAJECTORIES
    assert cli.DEFAULT_REPLICATES == sensitivity.DEFAULT_REPLICATES
    assert commands.DEFAULT_FOLDS == backtest_run.DEFAULT_FOLDS


def test_lazy_commands_are_listed_and_suggested():
    assert "backtest" in run("--help").output
    result = run("backtst")
    assert result.exit_code == 2
    assert "Did you mean 'backtest'?" in result.output


def test_help_has_examples():
    result = run("--help")
    assert result.exit_code == 0
    assert "standoff forecast" in result.output
    for command in ("check", "settle", "forecast", "cases"):
        assert command in result.output


def test_cases_lists_the_flagship():
    result = run("cases")
    assert result.exit_code == 0
    assert "us-dprk-2018" in result.output


def test_check_accepts_builtin_and_shared_files():
    assert run("check", "us-dprk-2018").exit_code == 0
    assert run("check", str(shared("bdm-emissions", "actors.csv"))).exit_code == 0
    assert run("check", str(shared("ktab", "SOE-Pol-Comp.csv"))).exit_code == 0


def test_settle_json_format(tmp_path):
    out = tmp_path / "out.json"
    result = run(
        "settle",
        str(TEST_DATA / "bdm-emissions.csv"),  # the published table kept in the repo
        "--model",
        "compromise",
        "--json",
        str(out),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["model"] == "compromise"
    assert data["issues"] == ["issue"]
    assert data["actors"][0] == "Netherlands" and len(data["actors"]) == 10
    assert [r["round"] for r in data["rounds"]] == [0, 1]
    first = data["rounds"][0]
    assert first["positions"]["France"] == [10.0]
    assert first["median"] == [7.0]
    assert first["mean"] == [pytest.approx(7.39, abs=0.005)]
    assert data["rounds"][1]["positions"]["France"] == [pytest.approx(7.39, abs=0.005)]


def test_settle_rounds_gives_n_plus_one_entries(tmp_path):
    out = tmp_path / "o.json"
    assert run("settle", "us-dprk-2018", "--rounds", "3", "--json", str(out)).exit_code == 0
    assert len(json.loads(out.read_text())["rounds"]) == 4


def test_forecast_json(tmp_path):
    out = tmp_path / "f.json"
    result = run("forecast", "--draws", "500", "--seed", "3", "--json", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["case"] == "us-dprk-2018"
    assert data["draws"] == 500 and data["seed"] == 3
    assert data["as_of"] == "2018-08-15"
    for issue in ("sequencing", "pressure", "security"):
        s = data["settlement"][issue]
        assert s["interval"][0] <= s["median"] <= s["interval"][1]
    assert "Denuclearization sequencing" in result.output


def _forecast_bytes(tmp_path, case, draws, chunk):
    out = tmp_path / f"c{chunk}.json"
    args = ["forecast", case, "--draws", str(draws), "--seed", "11", "--chunk-size", str(chunk)]
    result = run(*args, "--json", str(out))
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_forecast_same_seed_byte_identical_for_any_chunk_size(tmp_path):
    """1,100 draws cross a sampling block (1,024 draws); chunks of 1, 7 and 1,000 cut it
    differently."""
    case = str(shared("ktab", "SOE-Pol-Comp.csv"))
    texts = {_forecast_bytes(tmp_path, case, 1100, chunk) for chunk in (1, 7, 1000)}
    assert len(texts) == 1


def test_crisis_forecast_same_seed_byte_identical_for_any_chunk_size(tmp_path):
    """The flagship crisis: 45 draws are 4.5 groups of 10 replicates; chunks of 1 and 7 split
    groups."""
    texts = {_forecast_bytes(tmp_path, "us-dprk-2018", 45, chunk) for chunk in (1, 7, 1000)}
    assert len(texts) == 1


def test_unknown_model_is_a_clear_error():
    result = run("settle", "us-dprk-2018", "--model", "nonsense")
    assert result.exit_code == 2
    assert "unknown model" in result.output


def test_bad_option_is_a_clear_error():
    result = run("settle", "us-dprk-2018", "-o", "Q")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.output


def test_refuses_to_overwrite_the_case(tmp_path):
    case = tmp_path / "c.csv"
    case.write_text("Actor,Capability,Position,Salience\nA,1,2,0.5\nB,1,4,0.5\n")
    before = case.read_text()
    result = run("settle", str(case), "--json", str(case))
    assert result.exit_code == 2
    assert case.read_text() == before
