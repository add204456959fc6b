"""Hostile inputs for what the commands write and print: every problem ends in `error: ...` with
exit status 2 (never a traceback), no input is overwritten, no temporary file is left behind, and
user text is printed and written as data (rich markup, HTML, Markdown, mathtext, JSON)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from standoff.case import builtin_cases
from standoff.cli import app
from standoff.compile import load
from standoff.outputs import OutputError, write_text
from standoff.pipeline.memory import TooBig, check_fits
from standoff.serialize import NonFiniteError, dumps

from .test_backtest_deu3 import row, tsv

ROOT = Path(__file__).parents[1]
CORPUS = Path(__file__).parent / "hostile" / "outputs"
DPRK = ROOT / "cases" / "us-dprk-2018.yaml"
runner = CliRunner()
QUICK = ["--draws", "100", "--trajectories", "2", "--replicates", "2"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


def refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    no_traceback(result)
    assert "error:" in result.output
    for word in words:
        assert word in result.output, result.output


def no_strays(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """The built-in US–DPRK case with hostile labels (tests/hostile/outputs/)."""
    patch = yaml.safe_load((CORPUS / "hostile-labels.patch.yaml").read_text(encoding="utf-8"))
    text = DPRK.read_text(encoding="utf-8")
    for old, new in patch.items():
        assert text.count(old + "\n") == 1, old
        text = text.replace(old + "\n", new + "\n")
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- 1. never write over an input --------------------------------------------------------------


@pytest.fixture
def case_copy(tmp_path: Path) -> Path:
    path = tmp_path / "case.yaml"
    shutil.copy(DPRK, path)
    return path


def test_forecast_never_writes_over_the_case_however_spelled(case_copy: Path) -> None:
    flag = "--json"
    folder = case_copy.parent
    link = folder / "link.yaml"
    link.symlink_to(case_copy)
    (folder / "sub").mkdir()
    before = digest(case_copy)
    spellings = [
        str(case_copy),
        str(folder / "sub" / ".." / "case.yaml"),
        str(link),
        os.path.relpath(case_copy),
    ]
    for spelling in spellings:
        result = runner.invoke(app, ["forecast", str(case_copy), *QUICK, flag, spelling])
        refused(result, "refusing to overwrite")
        assert digest(case_copy) == before
    for name in ("r.md", "r.html"):  # a report path that is a link to the case
        (folder / name).symlink_to(case_copy)
        result = runner.invoke(app, ["forecast", str(case_copy), *QUICK, "--report",
                                     str(folder / "sub" / ".." / name)])  # fmt: skip
        refused(result, "refusing to overwrite")
        assert digest(case_copy) == before
    # the case given through the symlink, the output as the real file
    result = runner.invoke(app, ["forecast", str(link), *QUICK, "--json", str(case_copy)])
    refused(result, "refusing to overwrite")
    assert digest(case_copy) == before
    no_strays(folder)


def test_forecast_by_id_never_writes_over_the_builtin_file(tmp_path: Path) -> None:
    builtin = builtin_cases()["us-dprk-2018"]
    before = digest(Path(builtin))
    relative = os.path.relpath(builtin)
    for target in (str(builtin), relative):
        result = runner.invoke(app, ["forecast", "us-dprk-2018", "--draws", "50", "--json", target])
        refused(result, "refusing to overwrite")
    assert digest(Path(builtin)) == before


def test_settle_sensitivity_ablate_refuse_the_case_file(case_copy: Path) -> None:
    before = digest(case_copy)
    for args in (
        ["settle", str(case_copy)],
        ["sensitivity", str(case_copy), "--trajectories", "2", "--replicates", "2"],
        ["ablate", str(case_copy), "--draws", "50"],
    ):
        result = runner.invoke(app, [*args, "--json", str(case_copy)])
        refused(result, "refusing to overwrite")
        assert digest(case_copy) == before


@pytest.fixture(scope="module")
def recorded_ledger(tmp_path_factory) -> Path:
    """A ledger file holding one forecast of us-dprk-2018 (copied by each test that writes)."""
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    result = runner.invoke(app, ["forecast", "--draws", "50", "--record", "--ledger", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def ledger_copy(recorded_ledger: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of `recorded_ledger` in the test's folder, which is also the working folder, with
    neither $STANDOFF_LEDGER nor a default ledger of the user's in reach."""
    path = tmp_path / "ledger.sqlite"
    shutil.copy(recorded_ledger, path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STANDOFF_LEDGER", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return path


def spellings_of(path: Path) -> list[str]:
    """Ways to name `path` (in the working folder): relative, absolute, through `..`, through a
    symlink and as a hard link."""
    folder = path.parent
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "link").symlink_to(path)
    os.link(path, folder / "hard")
    return [path.name, str(path), f"sub/../{path.name}", str(folder / "link"), "hard"]


@pytest.mark.parametrize(
    "where", ["--ledger PATH", "--ledger sqlite:///NAME", "--ledger sqlite:////PATH", "env"]
)
def test_forecast_never_writes_over_its_ledger(ledger_copy: Path, monkeypatch, where: str):
    before = digest(ledger_copy)
    if where == "env":
        monkeypatch.setenv("STANDOFF_LEDGER", ledger_copy.name)
        given: list[str] = []
    else:
        url = where.split()[1].replace("NAME", ledger_copy.name).replace("/PATH", str(ledger_copy))
        given = ["--ledger", url.replace("PATH", str(ledger_copy))]
    for target in [*spellings_of(ledger_copy), f"{ledger_copy}-journal"]:
        start = time.monotonic()
        result = runner.invoke(
            app, ["forecast", "--draws", "50", "--record", *given, "--json", target]
        )
        refused(result, f"{target}: refusing to overwrite an input of this command")
        assert time.monotonic() - start < 10  # refused before the run
        assert digest(ledger_copy) == before
    assert not Path(f"{ledger_copy}-journal").exists()
    no_strays(ledger_copy.parent)


def test_forecast_never_writes_over_the_default_ledger(ledger_copy: Path) -> None:
    default = Path(os.environ["HOME"]) / ".standoff" / "ledger.sqlite"
    default.parent.mkdir(parents=True)
    shutil.copy(ledger_copy, default)
    before = digest(default)
    for target in (str(default), "home/.standoff/../.standoff/ledger.sqlite"):
        result = runner.invoke(app, ["forecast", "--draws", "50", "--record", "--json", target])
        refused(result, "refusing to overwrite an input of this command", str(default))
    assert digest(default) == before


@pytest.mark.parametrize("where", ["--ledger PATH", "--ledger sqlite:///NAME", "env"])
def test_ledger_plot_never_writes_over_its_ledger(ledger_copy: Path, monkeypatch, where: str):
    before = digest(ledger_copy)
    if where == "env":
        monkeypatch.setenv("STANDOFF_LEDGER", str(ledger_copy))
        given: list[str] = []
    else:
        given = ["--ledger", where.split()[1].replace("NAME", ledger_copy.name)]
        given = [g.replace("PATH", str(ledger_copy)) for g in given]
    for target in spellings_of(ledger_copy):
        result = runner.invoke(app, ["ledger", "plot", "second_summit", *given, "--out", target])
        refused(result, f"{target}: refusing to overwrite an input of this command")
        assert digest(ledger_copy) == before
    no_strays(ledger_copy.parent)
    drawn = runner.invoke(app, ["ledger", "plot", "second_summit", *given, "--out", "p.png"])
    assert drawn.exit_code == 0, drawn.output  # the ledger is still a ledger, and plots
    assert Path("p.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("command", ["forecast", "sensitivity"])
def test_observations_are_never_overwritten(tmp_path: Path, monkeypatch, command: str) -> None:
    seen = tmp_path / "seen.yaml"
    shutil.copy(ROOT / "cases" / "observations" / "us-dprk-2018.yaml", seen)
    monkeypatch.chdir(tmp_path)
    before = digest(seen)
    quick = ["--draws", "50"] if command == "forecast" else ["--trajectories", "2"]
    for target in spellings_of(seen):
        start = time.monotonic()
        result = runner.invoke(app, [command, *quick, "--observed", str(seen), "--json", target])
        refused(result, f"{target}: refusing to overwrite an input of this command")
        assert time.monotonic() - start < 10  # refused before the run
        assert digest(seen) == before
    (tmp_path / "r.md").symlink_to(seen)  # a report path too
    report = runner.invoke(app, ["forecast", *QUICK, "--observed", "seen.yaml", "--report", "r.md"])
    refused(report, "refusing to overwrite")
    assert digest(seen) == before
    no_strays(tmp_path)


@pytest.fixture
def icb_copy(tmp_path: Path, monkeypatch) -> Path:
    """The ICB tables copied into a folder that $STANDOFF_ICB names."""
    from .conftest import shared

    folder = tmp_path / "icb"
    folder.mkdir()
    for name in ("icb1v14.csv", "icb2v14.csv"):
        shutil.copy(shared("icb", name, what="the ICB data"), folder / name)
        (folder / name).chmod(0o644)
    monkeypatch.setenv("STANDOFF_ICB", str(folder))
    return folder


def test_reference_tables_are_inputs(icb_copy: Path) -> None:
    tables = {p: digest(p) for p in icb_copy.iterdir()}
    for table in tables:
        # us-dprk-2018 declares a reference class: its commands read the ICB tables
        for args in (["forecast", "--draws", "50"], ["settle", "us-dprk-2018"]):
            result = runner.invoke(app, [*args, "--json", str(table)])
            refused(result, "refusing to overwrite an input of this command", str(table))
        result = runner.invoke(app, ["baserates", "--json", str(table)])
        refused(result, "refusing to overwrite an input of this command", str(table))
        result = runner.invoke(app, ["baserates", "--data", str(icb_copy), "--json",
                                     str(icb_copy / ".." / "icb" / table.name)])  # fmt: skip
        refused(result, "refusing to overwrite an input of this command")
    assert {p: digest(p) for p in icb_copy.iterdir()} == tables


def small_deu3(tmp_path: Path) -> Path:
    rows = [
        row("d00001i1", {"com": "100", "de": "0", "fr": "50"}, {"com": "80", "de": "60"},
            out="40"),
        row("d00001i2", {"com": "0", "uk": "100", "de": "20"}, {"com": "50", "uk": "50"},
            out="40"),
    ]  # fmt: skip
    path = tmp_path / "small.tsv"
    path.write_text(tsv(*rows), encoding="utf-8")
    return path


def test_backtest_never_writes_predictions_over_its_dataset(tmp_path: Path) -> None:
    data = small_deu3(tmp_path)
    before = digest(data)
    for target in (str(data), str(tmp_path / "." / "small.tsv")):
        result = runner.invoke(app, ["backtest", "deu3", str(data), "--model", "median",
                                     "--no-interval", "--predictions", target])  # fmt: skip
        refused(result, "refusing to overwrite")
        assert digest(data) == before
    no_strays(tmp_path)


def test_json_into_a_directory_or_a_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    result = runner.invoke(app, ["settle", str(DPRK), "--json", str(tmp_path / "dir.json")])
    refused(result, "is a directory")
    result = runner.invoke(app, ["settle", str(DPRK), "--json", str(tmp_path / "no" / "x.json")])
    refused(result, "does not exist")
    no_strays(tmp_path)


@pytest.mark.parametrize("suffix", [".json", ".html", ".md"])
def test_one_rule_for_missing_folders(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / "missing" / f"out{suffix}"
    flag = "--json" if suffix == ".json" else "--report"
    start = time.monotonic()
    result = runner.invoke(app, ["forecast", *QUICK, flag, str(target)])
    refused(result, "does not exist", str(tmp_path / "missing"))
    assert time.monotonic() - start < 5  # refused before the run
    assert not (tmp_path / "missing").exists()


def test_markdown_figures_folder_taken_by_a_file(tmp_path: Path) -> None:
    taken = tmp_path / "r_figures"
    taken.write_text("mine\n")
    result = runner.invoke(app, ["forecast", *QUICK, "--report", str(tmp_path / "r.md")])
    refused(result, "r_figures")
    assert taken.read_text() == "mine\n"
    assert not (tmp_path / "r.md").exists()


def test_write_errors_are_clear_through_the_cli(tmp_path: Path, monkeypatch) -> None:
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    result = runner.invoke(app, ["settle", str(DPRK), "--json", str(tmp_path / "x.json")])
    refused(result, f"{tmp_path / 'x.json'}: Permission denied")
    assert list(tmp_path.iterdir()) == []


def test_write_text_leaves_nothing_behind_on_failure(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("old\n")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_text(target, "new\n")
    assert target.read_text() == "old\n"
    no_strays(tmp_path)


# -- 2. strictly valid JSON ----------------------------------------------------------------------


def test_json_refuses_non_finite_numbers_naming_the_field() -> None:
    with pytest.raises(NonFiniteError, match=r"scenarios\.x\.p"):
        dumps({"scenarios": {"x": {"p": math.nan}}})
    with pytest.raises(NonFiniteError, match=r"values\[1\]"):
        dumps({"values": [1.0, math.inf]})


def test_lone_surrogate_in_the_title_is_written_as_valid_json(hostile: Path, tmp_path: Path):
    out = tmp_path / "f.json"
    result = runner.invoke(app, ["forecast", str(hostile), "--draws", "100", "--json", str(out)])
    assert result.exit_code == 0, result.output
    no_traceback(result)
    text = out.read_text(encoding="utf-8")  # valid UTF-8
    data = json.loads(text)  # valid JSON
    assert data["title"].endswith("\ud800")
    assert "NaN" not in text and "Infinity" not in text


# -- 3. user text is data ----------------------------------------------------------------------


def test_terminal_prints_markup_in_labels_as_written(hostile: Path) -> None:
    result = runner.invoke(app, ["forecast", str(hostile), "--draws", "100"])
    assert result.exit_code == 0, result.output
    no_traceback(result)
    assert "[/bold]" in result.output
    assert "[link=http://x]y[/link]" in result.output
    assert "\x1b]8;" not in result.output  # no terminal hyperlink


def test_markdown_report_escapes_user_text(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = runner.invoke(app, ["forecast", str(hostile), *QUICK, "--report", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "a \\| b" in text and "a | b" not in text
    assert not re.search(r"(?<!\\)\[link=", text)  # escaped as \[link=...
    # every table row has as many cells as its header
    for block in re.split(r"\n\n", text):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        if len(lines) > 2:
            cells = {len(re.findall(r"(?<!\\)\|", ln)) for ln in lines}
            assert len(cells) == 1, lines


def test_figures_take_dollars_as_text(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["forecast", str(hostile), *QUICK, "--report", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "$5 to $10" in html  # in the SVG text, not typeset as mathtext


# -- 4. memory and work ------------------------------------------------------------------------


def test_too_many_draws_is_refused_fast_with_the_figure() -> None:
    start = time.monotonic()
    result = runner.invoke(app, ["forecast", "--draws", "1000000000000"])
    refused(result, "--draws 1,000,000,000,000", "TB", "lower --draws")
    assert time.monotonic() - start < 10


def test_too_many_draws_on_a_plain_table(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("Actor,Capability,Position,Salience\nA,1,2,0.5\nB,1,4,0.5\n")
    result = runner.invoke(app, ["forecast", str(csv), "--draws", "1000000000000000"])
    refused(result, "--draws", "lower --draws")


def test_settle_rounds_are_capped() -> None:
    start = time.monotonic()
    result = runner.invoke(app, ["settle", "us-dprk-2018", "--rounds", "1000000000"])
    refused(result, "--rounds", "lower --rounds")
    assert time.monotonic() - start < 10


def test_ablate_and_sensitivity_are_estimated_too() -> None:
    result = runner.invoke(app, ["ablate", "--draws", "1000000000000"])
    refused(result, "lower --draws")
    result = runner.invoke(app, ["sensitivity", "--trajectories", "1000000000000"])
    refused(result, "--trajectories")


def test_the_estimate_is_one_function() -> None:
    compiled = load("us-dprk-2018")
    check_fits(compiled, draws=10_000)
    with pytest.raises(TooBig, match="--chunk-size"):
        check_fits(compiled, draws=10_000, chunk_size=10_000, memory=10_000_000)


# -- 5. the report speaks the case's language ------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    html, md, data = folder / "r.html", folder / "r.md", folder / "r.json"
    for report in (html, md):
        args = ["forecast", *QUICK, "--report", str(report), "--json", str(data)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return html.read_text(), md.read_text(), json.loads(data.read_text())


def test_paths_name_events_by_label(reports) -> None:
    html, md, data = reports
    path = data["scenarios"]["walk_away"]["paths"][0]["path"]
    assert all(re.fullmatch(r"[a-z_]+", e) for e in path)  # the JSON keeps ids
    labels = {e: data["events"][e]["label"] for e in path}
    first = " → ".join(labels[e] for e in path)
    assert first in html.replace("&#39;", "'") or first in md


def test_headline_names_the_most_likely(reports) -> None:
    html, md, data = reports
    top = max(data["scenarios"].values(), key=lambda s: s["p"])
    headline = re.search(r"\*\*(Most likely: .*)\*\*", md)
    assert headline, md[:500]
    assert headline.group(1) in html
    if top["p"] <= 0.5 and "unlikely" in top["words"]:
        assert "no scenario is more likely than not" in headline.group(1)


def test_watch_list_drops_events_that_define_a_scenario(reports) -> None:
    html, _, data = reports
    watch = html[html.index('<section id="indicators">') : html.index('<section id="method">')]
    for event in ("walkout", "declaration", "collapse"):  # the scenario rules' events
        assert f"If '{data['events'][event]['label']}' has happened" not in watch.replace(
            "&#39;", "'"
        )


def test_markdown_has_the_sections_of_the_html(reports) -> None:
    html, md, _ = reports
    html_sections = re.findall(r"<h[23]>(.*?)</h[23]>", html)
    md_sections = re.findall(r"^#{2,3} (.*)$", md, flags=re.M)
    assert md_sections == html_sections


def test_timeline_colours_are_distinct() -> None:
    from standoff.report.figures import series_style

    styles = [tuple(sorted(series_style(n).items())) for n in range(40)]
    assert len(set(styles)) == 40
    assert len({series_style(n)["color"] for n in range(14)}) == 14
