"""The analyst's report and the sensitivity analysis."""

import json
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from standoff.case import builtin_cases, load_case
from standoff.cli import app
from standoff.compile import load_yaml
from standoff.pipeline.sensitivity import morris

runner = CliRunner()
SECTIONS = (
    "nutshell",
    "scenarios",
    "questions",
    "timeline",
    "calendar",
    "actors",
    "settlement",
    "drivers",
    "indicators",
    "method",
)


def pct(p):
    return f"{100 * p:.0f}%"


@pytest.fixture(scope="module", params=sorted(builtin_cases()))
def rendered(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    html, data = folder / "r.html", folder / "r.json"
    args = [
        "forecast",
        request.param,
        "--draws",
        "300",
        "--seed",
        "5",
        "--trajectories",
        "2",
        "--replicates",
        "4",
        "--report",
        str(html),
        "--json",
        str(data),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return request.param, html.read_text(), json.loads(data.read_text())


def test_report_has_every_section_in_order(rendered):
    _, html, _ = rendered
    positions = [html.index(f'<section id="{name}">') for name in SECTIONS]
    assert positions == sorted(positions)
    assert "<script" not in html  # nothing to run, nothing fetched: self-contained
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert html.count("<svg") >= 6  # scenarios, questions, timeline, actors, settlement, drivers
    assert html.count("<svg") == html.count("<figcaption") == html.count("<figure>")


def test_report_numbers_equal_the_json(rendered):
    case_id, html, data = rendered
    case = load_case(case_id)
    for scenario in case.scenarios:
        item = data["scenarios"][scenario.id]
        row = re.search(rf'<tr data-id="{scenario.id}">.*?</tr>', html, flags=re.S).group(0)
        assert pct(item["p"]) in row
        assert f"{pct(item['interval'][0])}–{pct(item['interval'][1])}" in row
        assert item["words"] in row
    for question in case.questions:
        item = data["questions"][question.id]
        row = re.search(rf'<tr data-id="{question.id}">.*?</tr>', html, flags=re.S).group(0)
        assert pct(item["p"]) in row and item["words"] in row
    top = max(data["scenarios"].values(), key=lambda s: s["p"])
    assert f"({pct(top['p'])}; {pct(top['interval'][0])}–{pct(top['interval'][1])} as the" in html
    for item in [*data["scenarios"].values(), *data["questions"].values()]:
        spread = item["spread"]
        if spread["two_peaked"]:
            below, above = pct(spread["under_5pct"]), pct(spread["over_50pct"])
            settings = "of the settings of the uncertain inputs"
            assert f"under 5% for {below} {settings}, over 50% for {above}" in html
    assert data["drivers"]["method"] == "morris"
    first = data["drivers"]["drivers"]
    assert first  # drivers were computed and written to the JSON
    for indicator in data["indicators"][:3]:
        assert indicator["date"] in html


def test_report_footer_reproduces_the_run(rendered):
    case_id, html, _ = rendered
    assert f"standoff forecast {case_id} --draws 300 --seed 5" in html
    assert re.search(r"SHA-256 <code>[0-9a-f]{64}</code>", html)


def test_markdown_report_writes_figures_beside_it(tmp_path):
    out = tmp_path / "korea.md"
    args = [
        "forecast",
        "--draws",
        "200",
        "--trajectories",
        "2",
        "--replicates",
        "2",
        "--report",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# US–North Korea")
    for name in ("scenarios", "questions", "timeline", "actors", "settlement", "drivers"):
        assert f"korea_figures/{name}.svg" in text
        assert (tmp_path / "korea_figures" / f"{name}.svg").read_text().startswith("<svg")


def test_report_needs_a_crisis_case_and_a_known_suffix(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("Actor,Capability,Position,Salience\nA,1,2,0.5\nB,1,4,0.5\n")
    result = runner.invoke(app, ["forecast", str(csv), "--report", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "crisis" in result.output
    result = runner.invoke(app, ["forecast", "--report", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and ".html or .md" in result.output


DOMINANT = """
id: dominant
as_of: 2020-01-01
horizon: 2020-05-01
issues: [{id: x}]
actors:
  - {id: a, capability: 10, stances: {x: {position: 30, salience: 0.5}}}
  - {id: b, capability: 10, stances: {x: {position: 70, salience: 0.5}}}
crisis:
  dyads: [[a, b]]
  parameters:
    strong: 0.0 to 0.5     # drives the event
    weak: 0.0 to 0.05      # barely matters
    unused: 1 to 10        # does not enter at all
  events:
    - {id: e, probability: "strong + weak"}
scenarios:
  - {id: happened, when: "happened('e')"}
  - {id: quiet, when: otherwise}
"""


def test_sensitivity_recovers_the_known_ranking():
    result = morris(load_yaml(DOMINANT, "dominant.yaml"), trajectories=10, replicates=64, seed=1)
    ranking = [d.input for d in result.for_target("happened")]
    assert ranking[:2] == ["strong", "weak"]
    effects = {d.input: d for d in result.for_target("happened")}
    assert effects["strong"].mu > 0.3  # P(e in 4 rounds) climbs steeply across its range
    assert effects["unused"].mu_star == pytest.approx(0.0, abs=1e-12)
    assert effects["strong"].mu_star > 5 * effects["weak"].mu_star


def test_sensitivity_command_prints_drivers(tmp_path):
    case = tmp_path / "dominant.yaml"
    case.write_text(DOMINANT)
    out = tmp_path / "drivers.json"
    result = runner.invoke(
        app,
        ["sensitivity", str(case), "--trajectories", "4", "--replicates", "16", "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "strong" in result.output and "parameter strong" not in result.output
    data = json.loads(out.read_text())
    assert data["drivers"]["happened"][0]["input"] == "strong"


def test_report_opens_in_headless_chromium(rendered, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless Chromium found (Debian package 'chromium'); .ci/run installs it")
    _, html, _ = rendered
    page = tmp_path / "report.html"
    page.write_text(html)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<svg") >= 6
    assert "What to watch" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, "--window-size=1000,2000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 20_000  # a blank page is a few kB


def test_an_observed_item_gets_no_bar_only_the_words() -> None:
    from standoff.report import figures

    labels, p, intervals = (
        ["seen", "open", "not seen"],
        [1.0, 0.3, 0.0],
        [[1, 1], [0.2, 0.4], [0, 0]],
    )
    plain = figures.probabilities(labels, p, intervals, "t")
    marked = figures.probabilities(labels, p, intervals, "t", [True, None, False])
    # two bars fewer (each bar a patch of its own), the words in their place
    assert plain.count('<g id="patch_') - marked.count('<g id="patch_') == 2
    assert "observed: yes (not a forecast)" in marked and "observed: no" in marked
    assert "observed" not in plain
    assert marked.count("30%") == plain.count("30%") == 1
