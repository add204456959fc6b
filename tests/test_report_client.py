"""The report reads as a document for a client: things by their names (a case's labels), the
case's reasoning (notes) where its numbers are used, drivers in plain words, a caption and a title
on every figure, the calendar, the scales' meanings, right round dates, a watch list of rows that
change something, paths told by the events that define the scenarios, progress while it is
written, and a ledger plot whose labels fit."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from standoff.case import load_case
from standoff.case.schema import reader_name
from standoff.cli import app
from standoff.compile import load_yaml
from standoff.pipeline.forecast import DriverOptions, run
from standoff.pipeline.sensitivity import morris
from standoff.report import build_report
from standoff.report.content import STAGE
from standoff.report.drivers import driver_rows
from standoff.report.scenarios import watch_rows
from standoff.result import Driver, Indicator, Sensitivity

runner = CliRunner()

# Every id carries "zq_", which no word of the report has: any "zq_" a reader sees is an id.
CASE = """
id: zq_case
title: A client's case
as_of: 2018-12-01
horizon: 2019-06-01
issues:
  - id: zq_issue
    label: The border
    low_means: the old line holds
    high_means: the new line is drawn
actors:
  - id: zq_a
    name: Country A
    capability: 40 to 60
    note: A's army is the larger.
    stances: {zq_issue: {position: 20 to 30, salience: 0.6 to 0.8}}
  - id: zq_b
    name: Country B
    capability: 30 to 50
    stances: {zq_issue: {position: 70 to 80, salience: 0.5 to 0.7}}
perceptions:
  zq_a:
    zq_b:
      capability: 10 to 20
      note: A reads B's mobilisation as bluster.
calendar:
  - id: zq_vote
    date: 2019-02-10
    label: A scheduled vote in B's parliament
    description: The vote may bring a new government.
scenarios:
  - {id: zq_deal_scenario, label: A deal, when: "happened('zq_deal')"}
  - {id: zq_war_scenario, label: A war, when: "happened('zq_war')"}
  - {id: zq_none_scenario, label: Neither, when: otherwise}
questions:
  - {id: zq_talks_question, text: Will the two sides talk?, when: "happened('zq_talks')"}
crisis:
  step: month
  replicates: 10
  dyads: [[zq_a, zq_b]]
  parameters:
    zq_talk_rate:
      value: 0.3 to 0.6
      label: the monthly chance of talks
      note: Envoys have met most months this year.
    zq_deal_rate: {value: 0.05 to 0.3, label: the monthly chance of a deal once talks have met}
    zq_war_rate: {value: 0.01 to 0.05, label: the monthly chance of war}
  beliefs:
    - id: zq_belief
      holder: zq_b
      label: A will back down
      prior: 0.3 to 0.6
      note: A backed down in the last crisis.
      perception: {zq_a: {capability: 20 to 30}}
  events:
    - id: zq_talks
      label: Talks between envoys
      probability: zq_talk_rate
      note: Envoys meet whenever either side asks.
    - id: zq_deal
      label: A deal is signed
      probability: "zq_deal_rate * happened('zq_talks')"
      once: true
      effects: [{do: end}]
    - id: zq_war
      label: War breaks out
      probability: zq_war_rate
      once: true
      effects: [{do: end}]
    - id: zq_protest
      label: Street protests
      probability: 0.6
"""
OBSERVED = """
as_of: 2019-02-01
events:
  zq_talks: [2018-12-20]
  zq_deal: []
  zq_war: []
"""
NOTES = {
    "actor": "A's army is the larger.",
    "perception": "A reads B's mobilisation as bluster.",
    "parameter": "Envoys have met most months this year.",
    "belief": "A backed down in the last crisis.",
    "event": "Envoys meet whenever either side asks.",
}
QUICK = ["--draws", "400", "--seed", "3", "--trajectories", "3", "--replicates", "8"]


def visible(html: str) -> str:
    """The text a reader sees in a page: no tags, no attributes, no style."""
    text = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<title>.*?</title>", " ", text, count=1, flags=re.S)  # the page's own
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", text))


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Any]:
    """The case's report in both formats, and a conditioned one, through the command line."""
    folder = tmp_path_factory.mktemp("client")
    case = folder / "client.yaml"
    case.write_text(CASE)
    (folder / "seen.yaml").write_text(OBSERVED)
    out: dict[str, Any] = {"folder": folder}
    for name, extra in (
        ("r.html", []),
        ("r.md", []),
        ("seen.html", ["--observed", str(folder / "seen.yaml")]),
        ("seen.md", ["--observed", str(folder / "seen.yaml")]),
    ):
        result = runner.invoke(
            app, ["forecast", str(case), *QUICK, *extra, "--report", str(folder / name)]
        )
        assert result.exit_code == 0, result.output
        out[name] = (folder / name).read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def report() -> Any:
    compiled = load_yaml(CASE, "client.yaml")
    result = run(compiled, draws=400, seed=3, drivers=DriverOptions(3, 8))
    return build_report(result)


# -- the case's words: labels and notes ------------------------------------------------------


def test_a_parameter_takes_a_label_and_a_note():
    crisis = load_yaml(CASE, "client.yaml").case.crisis
    assert crisis is not None
    assert str(crisis.parameters["zq_talk_rate"]) == "0.3 to 0.6"
    assert crisis.parameter_label("zq_talk_rate") == "the monthly chance of talks"
    assert crisis.parameter_note("zq_talk_rate") == NOTES["parameter"]
    assert crisis.parameter_label("zq_war_rate") == "the monthly chance of war"
    assert crisis.parameter_note("zq_war_rate") == ""


def test_a_parameter_mapping_written_wrong_is_refused_at_its_line(tmp_path: Path):
    text = CASE.replace("      label: the monthly chance of talks\n", "      lable: talks\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    line = text.splitlines().index("      value: 0.3 to 0.6") + 1  # where the mapping starts
    assert f"{path}:{line}: crisis.parameters.zq_talk_rate: unknown key 'lable'" in result.stderr
    assert "Traceback" not in result.output


def test_an_unlabelled_parameter_reads_as_words():
    assert reader_name("", "deal_rate") == "deal rate"
    compiled = load_yaml(CASE.replace(", label: the monthly chance of war}", "}"), "c.yaml")
    assert compiled.crisis is not None
    assert compiled.crisis.parameters["zq_war_rate"].ref.label == "zq war rate"
    assert compiled.crisis.parameters["zq_talk_rate"].ref.label == "the monthly chance of talks"


def test_a_report_names_nothing_by_its_id(written):
    for name in ("r.html", "seen.html"):
        text = visible(written[name])
        body = text[: text.index("Reproduce:")]  # the footer's command names the case's file
        assert "zq_" not in body, re.findall(r".{40}zq_.{20}", body)[:3]
    for name in ("r.md", "seen.md"):
        body = written[name][: written[name].rindex("\n---\n")]
        assert "zq\\_" not in body and "zq_" not in body, re.findall(r".{40}zq.{20}", body)[:3]


@pytest.mark.parametrize("name", ["r.html", "r.md", "seen.html", "seen.md"])
def test_a_report_has_no_symbols_or_field_names(written, name):
    text = visible(written[name]) if name.endswith(".html") else written[name]
    for symbol in ("μ", "σ", "mc_interval", "input draws", "parameter zq", "(points, Morris"):
        assert symbol not in text, symbol


def test_each_note_stands_where_its_number_is_used(written):
    page = written["r.html"]

    def row(where: str, ident: str) -> str:
        part = section(page, where)
        found = re.search(rf'<tr data-id="{ident}">.*?</tr>', part, flags=re.S)
        assert found, (where, ident)
        return html_lib.unescape(found.group(0))

    assert NOTES["actor"] in row("actors", "zq_a")
    assert NOTES["parameter"] in row("method", "zq_talk_rate")
    assert NOTES["event"] in row("timeline", "zq_talks")
    perceptions = html_lib.unescape(section(page, "actors"))
    assert NOTES["perception"] in perceptions and NOTES["belief"] in perceptions
    for note in NOTES.values():
        assert note in written["r.md"], note


def test_each_driver_carries_the_note_of_what_it_belongs_to():
    screened = morris(load_yaml(CASE, "client.yaml"), trajectories=2, replicates=2, seed=1)
    notes = {d.input: d.note for d in screened.drivers}
    assert notes["zq_talk_rate"] == NOTES["parameter"]
    assert notes["zq_deal_rate"] == ""
    assert notes["capability[zq_a]"] == NOTES["actor"]
    assert notes["belief[zq_a→zq_b].capability"] == NOTES["perception"]
    assert notes["beliefs.zq_belief.prior"] == NOTES["belief"]
    assert notes["capability[zq_b]"] == ""


# -- drivers in plain words ------------------------------------------------------------------


def _sensitivity(mu: float, mu_star: float) -> Sensitivity:
    driver = Driver(
        "zq_deal_rate", "the monthly chance of a deal", "zq_deal_scenario", "scenario",
        mu_star=mu_star, mu=mu, sigma=0.2, mu_star_conf=0.03, low=0.1, high=0.3,
    )  # fmt: skip
    return Sensitivity([driver], ["zq_deal_rate"], 10, 64, 20, 1)


def test_a_driver_sentence_and_its_row_give_the_same_size():
    # effects both ways: a small mean (1 point) and a large mean size (14 points)
    rows, sentences = driver_rows(_sensitivity(-0.01, 0.14), {"zq_deal_scenario": "A deal"})
    assert rows[0].effect == "14"
    assert "by about 14 points on average" in sentences[0]
    assert (
        "raising it for some settings of the other inputs and lowering it for others"
        in (sentences[0])
    )
    assert rows[0].direction == "either way"
    assert "1 points" not in sentences[0]


def test_a_driver_that_always_moves_one_way_says_which():
    rows, sentences = driver_rows(_sensitivity(-0.2, 0.2), {"zq_deal_scenario": "A deal"})
    assert sentences[0] == (
        "Moving the monthly chance of a deal from the low end of its range (0.1) to the high end "
        "(0.3) lowers the chance of ‘A deal’ by about 20 points on average."
    )
    assert rows[0].direction == "lowers it"
    rows, sentences = driver_rows(_sensitivity(0.01, 0.01), {"zq_deal_scenario": "A deal"})
    assert "raises the chance of ‘A deal’ by about 1 point on average" in sentences[0]


def test_the_drivers_table_and_sentences_agree_in_a_report(report):
    assert report.drivers
    for row, sentence in zip(report.drivers, report.driver_sentences, strict=False):
        assert f"by about {row.effect} point" in sentence or "unchanged" in sentence
        assert row.name in sentence and row.target in sentence


# -- figures ----------------------------------------------------------------------------------


def test_every_figure_has_a_title_and_a_caption(written, report):
    assert {"scenarios", "questions", "timeline", "actors", "settlement", "bargaining",
            "drivers"} <= set(report.figures)  # fmt: skip
    for name, svg in report.figures.items():
        assert f"<title>{html_lib.escape(report.titles[name])}</title>" in svg, name
        assert report.captions[name].strip(), name
    for page in (written["r.html"], written["seen.html"]):
        figures = re.findall(r"<figure>(.*?)</figure>", page, flags=re.S)
        assert len(figures) == page.count("<svg") >= 7
        for figure in figures:
            assert re.search(r"<svg[^>]*>\s*<title>[^<]+</title>", figure)
            assert re.search(r"<figcaption[^>]*>[^<]{20,}</figcaption>", figure)
    assert "What changed" in written["seen.html"]
    assert written["seen.html"].count("<figure>") == written["r.html"].count("<figure>") + 2
    for md in (written["r.md"], written["seen.md"]):
        images = re.findall(r"^!\[([^\]]+)\]\(([^)]+)\)\n\n\*([^*]+)\*$", md, flags=re.M)
        assert len(images) == md.count("![") >= 7


# -- the calendar, the scales, the rounds --------------------------------------------------------


def test_the_calendar_is_in_the_report(written):
    part = html_lib.unescape(section(written["r.html"], "calendar"))
    assert "<h2>The calendar</h2>" in part
    assert "2019-02-10" in part and "A scheduled vote in B's parliament" in part
    assert "The vote may bring a new government." in part
    md = written["r.md"]
    calendar = md[md.index("## The calendar") : md.index("## How the bargaining moved")]
    assert "| 1 | 2019-02-10 | A scheduled vote in B's parliament" in calendar.replace("\\", "")
    timeline = html_lib.unescape(section(written["r.html"], "timeline"))
    assert "Dotted lines: the dates of the calendar" in timeline


def test_the_settlement_says_what_the_ends_of_each_scale_mean(written):
    part = html_lib.unescape(section(written["r.html"], "settlement"))
    row = re.search(r'<tr data-id="zq_issue">.*?</tr>', part, flags=re.S)
    assert row and "0 = the old line holds … 100 = the new line is drawn" in row.group(0)
    assert "100: the new line is drawn" in part  # on the figure's axis too
    md = written["r.md"]
    assert "| The border | 0 = the old line holds … 100 = the new line is drawn |" in md


def test_rounds_are_headed_by_the_whole_date_they_end(written):
    # the first round runs from 1 December 2018 to 1 January 2019: it is December, not "2019-01"
    ends = [f"{year}-{month:02d}-01" for year, month in
            [(2019, 1), (2019, 2), (2019, 3), (2019, 4), (2019, 5), (2019, 6)]]  # fmt: skip
    md = written["r.md"]
    header = next(line for line in md.splitlines() if line.startswith("| event: happened by |"))
    assert header == "| event: happened by |" + "".join(f" {d} |" for d in ends)
    assert not re.search(r"\| 2019-0\d \|", md)
    page = section(written["r.html"], "timeline")
    assert [h for h in re.findall(r'<th class="small">([^<]*)</th>', page)] == ends


# -- the watch list ---------------------------------------------------------------------------


def _indicator(event: str, seen: float, unseen: float, prior: float = 0.17) -> Indicator:
    return Indicator(event, event.title(), 2, "2019-02-01", 0.5, 0.1,
                     {"s": seen, "t": 0.5}, {"s": unseen, "t": 0.5},
                     {"s": prior, "t": 0.5})  # fmt: skip


def test_the_watch_list_leaves_out_rows_that_change_nothing():
    rows = watch_rows(
        (
            _indicator("still", 0.172, 0.168),  # 17% to 17% either way
            _indicator("moves", 0.30, 0.05),
            _indicator("unseen", 0.171, 0.60),  # seeing it changes nothing; not seeing it does
        ),
        {"s": "Scenario S", "t": "Scenario T"},
    )
    assert [r.event for r in rows] == ["moves", "unseen"]
    assert rows[0].sentence == (
        "If ‘Moves’ has happened by 2019-02-01, ‘Scenario S’ goes from 17% to 30%; if not, to 5%."
    )
    assert rows[1].sentence.startswith(
        "If ‘Unseen’ has not happened by 2019-02-01, ‘Scenario S’ goes from 17% to 60%"
    )
    for row in rows:
        assert not re.search(r"from (\d+%) to \1", row.sentence)


def test_no_watch_row_in_a_report_changes_nothing(written):
    part = html_lib.unescape(section(written["r.html"], "indicators"))
    assert not re.search(r"goes from (\d+%) to \1;", part)


# -- paths ------------------------------------------------------------------------------------


def test_paths_are_told_by_the_events_that_define_the_scenarios(report):
    result = run(load_yaml(CASE, "client.yaml"), draws=400, seed=3)
    defining = {"zq_deal", "zq_war"}
    for scenario in result.scenarios:
        for path in scenario.paths:
            assert set(path.events) <= defining | {"(nothing)"}, path
    deal = next(s for s in result.scenarios if s.id == "zq_deal_scenario")
    assert deal.reads == ("zq_deal",)
    assert deal.paths[0].events == ("zq_deal",) and deal.paths[0].share > 0.9
    none = next(s for s in result.scenarios if s.id == "zq_none_scenario")
    assert none.paths[0].events == ("(nothing)",) and none.paths[0].share == 1.0
    row = next(r for r in report.scenarios if r.id == "zq_none_scenario")
    assert row.paths == ("none of ‘A deal is signed’, ‘War breaks out’ (100%)",)
    for r in report.scenarios:
        assert "Street protests" not in " ".join(r.paths)  # a repeated, undefining event


# -- progress ---------------------------------------------------------------------------------


def test_the_report_reports_its_progress(report):
    heard: list[tuple[str, int, int]] = []
    result = run(load_yaml(CASE, "client.yaml"), draws=200, seed=1)
    build_report(result, progress=lambda *a: heard.append(a))
    assert heard and {stage for stage, _, _ in heard} == {STAGE}
    assert heard[-1][1] == heard[-1][2] and heard[0][1] == 0
    assert [done for _, done, _ in heard] == sorted(done for _, done, _ in heard)


def test_forecast_report_shows_the_report_stage(tmp_path: Path, monkeypatch):
    import standoff.cli.forecast

    heard: list[tuple[str, int, int]] = []

    class Bar:
        def __init__(self, enabled: bool) -> None:
            self.enabled = enabled

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            heard.append(("(closed)", 0, 0))

        def __call__(self, stage: str, done: int, total: int) -> None:
            heard.append((stage, done, total))

    monkeypatch.setattr(standoff.cli.forecast, "ProgressBar", Bar)
    case = tmp_path / "client.yaml"
    case.write_text(CASE)
    result = runner.invoke(app, ["forecast", str(case), *QUICK, "--report", str(tmp_path / "r.md")])
    assert result.exit_code == 0, result.output
    stages = [stage for stage, _, _ in heard]
    assert STAGE in stages and stages.index(STAGE) < stages.index("(closed)")
    last = [h for h in heard if h[0] == STAGE][-1]
    assert last[1] == last[2]


# -- the built-in cases carry labels and notes ------------------------------------------------


@pytest.mark.parametrize("name", ["us-dprk-2018", "cuba-1962"])
def test_every_parameter_of_a_builtin_case_has_a_label(name):
    crisis = load_case(name).crisis
    assert crisis is not None
    for parameter in crisis.parameters:
        assert crisis.parameter_label(parameter), parameter
    assert any(crisis.parameter_note(p) for p in crisis.parameters)
    assert any(e.note for e in crisis.events) and any(b.note for b in crisis.beliefs)


# -- the ledger plot --------------------------------------------------------------------------


def test_the_ledger_plot_keeps_its_labels_inside():
    import matplotlib.pyplot as plt

    from standoff.ledger.plot import draw_question
    from standoff.ledger.record import StoredResolution

    day = dt.datetime(2018, 8, 15)
    series = {
        "us-dprk-2018": [(day, 0.6, [0.55, 0.65]), (day + dt.timedelta(days=90), 0.7, None)],
        "other-case": [(day + dt.timedelta(days=30), 0.2, None)],
    }
    resolved = {
        (case, "question", "second_summit"): StoredResolution(
            n, case, "question", "second_summit", outcome, resolved_on=on
        )
        for n, (case, outcome, on) in enumerate(
            [("us-dprk-2018", "yes", "2019-02-28"), ("other-case", "no", "2018-08-01")]
        )
    }
    fig = draw_question("second_summit", series, resolved)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        frame = fig.bbox
        texts = [t for ax in fig.axes for t in ax.texts]
        assert len(texts) == 2
        for text in texts:
            box = text.get_window_extent(renderer)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, text.get_text()
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, text.get_text()
    finally:
        plt.close(fig)


# -- in a browser -----------------------------------------------------------------------------


def test_the_report_reads_without_ids_in_headless_chromium(written, tmp_path: Path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless Chromium found (Debian package 'chromium'); .ci/run installs it")
    page = tmp_path / "report.html"
    page.write_text(written["seen.html"], encoding="utf-8")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    text = visible(dom)
    assert "zq_" not in text[: text.index("Reproduce:")]
    for heading in ("What changed", "The calendar", "What drives the forecast", "What to watch"):
        assert heading in text
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, "--window-size=1000,3000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 20_000  # a blank page is a few kB


def test_an_observed_question_is_not_drawn_as_a_forecast(written):
    figures = re.findall(r"<figure>(.*?)</figure>", written["seen.html"], flags=re.S)
    questions = next(f for f in figures if "How likely each question" in f)
    assert "observed: yes (not a forecast)" in questions
    plain = re.findall(r"<figure>(.*?)</figure>", written["r.html"], flags=re.S)
    assert "observed:" not in next(f for f in plain if "How likely each question" in f)
