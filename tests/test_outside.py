"""The outside view: reference-class base rates from the ICB data.

Expected counts are computed here straight from the raw CSV files with a few lines of the csv
module (not through standoff.outside), then compared with what the package reports.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app

from .conftest import REPO, clear_refusal, shared

runner = CliRunner()


# --- the raw files, read independently ------------------------------------------------------------


def raw_system() -> list[dict[str, str]]:
    with shared("icb", "icb1v14.csv", what="ICB data").open(encoding="utf-8-sig") as f:
        return [r for r in csv.DictReader(f) if r["yrtrig"].strip()]


def raw_actors() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    with shared("icb", "icb2v14.csv", what="ICB data").open(encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["crisno"], []).append(r)
    return out


def nuclear_crisis(actors: list[dict[str, str]]) -> bool:
    return any(a["nuclear"] in ("3", "4") for a in actors)


def surely_before(row: dict[str, str], day: dt.date) -> bool:
    """Triggered before `day` for certain, whatever the missing or odd trigger day."""
    year, month = int(row["yrtrig"]), int(row["motrig"])
    if (year, month) != (day.year, day.month):
        return (year, month) < (day.year, day.month)
    return row["datrig"].strip() != "" and int(row["datrig"]) < day.day


def baserates(*args: str) -> dict:
    out_file = Path(args[-1])
    result = runner.invoke(app, ["baserates", *args[:-1], "--json", str(out_file)])
    assert result.exit_code == 0, result.output
    return json.loads(out_file.read_text())


# --- counts and rates against the raw files -------------------------------------------------------


def test_all_crises(tmp_path):
    data = baserates(str(tmp_path / "all.json"))
    rows = raw_system()
    assert data["crises"] == len(rows) == 486
    war = sum(r["viol"] == "4" for r in rows)
    assert data["violence"]["full-scale-war"]["count"] == war
    assert data["violence"]["full-scale-war"]["n"] == sum(
        r["viol"] in "1234" and r["viol"] != "" for r in rows
    )


def test_nuclear_protracted_class(tmp_path):
    data = baserates("--nuclear", "--protracted", str(tmp_path / "np.json"))
    actors = raw_actors()
    rows = [
        r for r in raw_system()
        if r["protrac"] in ("2", "3") and nuclear_crisis(actors.get(r["crisno"], []))
    ]  # fmt: skip
    assert data["crises"] == len(rows)
    assert {m["crisno"] for m in data["members"]} == {int(r["crisno"]) for r in rows}
    violent = sum(r["viol"] in ("3", "4") for r in rows)
    serious = (
        data["violence"]["serious-clashes"]["count"] + data["violence"]["full-scale-war"]["count"]
    )
    assert serious == violent
    agreements = sum(r["forout"] in ("1", "2") for r in rows)
    form = data["form"]
    assert form["formal-agreement"]["count"] + form["semi-formal-agreement"]["count"] == agreements
    mediated = sum(r["mediate"] == "4" for r in rows)
    assert data["mediation"]["mediated"]["count"] == mediated


def test_east_asia_and_korea(tmp_path):
    data = baserates("--region", "east-asia", str(tmp_path / "ea.json"))
    rows = [r for r in raw_system() if r["geog"] == "11"]
    assert data["crises"] == len(rows)
    assert data["violence"]["none"]["count"] == sum(r["viol"] == "1" for r in rows)
    korea = baserates("--actor", "PRK", str(tmp_path / "prk.json"))
    actors = raw_actors()
    prk = [r for r in raw_system() if any(a["actor"] == "PRK" for a in actors[r["crisno"]])]
    assert korea["crises"] == len(prk)
    outcomes = [a["outcom"] for r in prk for a in actors[r["crisno"]] if a["actor"] == "PRK"]
    assert korea["content_by_actor"]["PRK"]["victory"]["count"] == outcomes.count("1")


def test_gravity_mediated_and_dates(tmp_path):
    data = baserates(
        "--gravity", "grave-damage,existence", "--mediated", "--triggered-after", "1945",
        "--triggered-before", "1990-01-01", str(tmp_path / "g.json"),
    )  # fmt: skip
    rows = [
        r for r in raw_system()
        if r["gravcr"] in ("5", "6") and r["mediate"] == "4" and 1945 <= int(r["yrtrig"]) < 1990
    ]  # fmt: skip
    assert data["crises"] == len(rows)


def test_jeffreys_interval():
    from scipy import stats

    from standoff.outside.rates import jeffreys

    rate = jeffreys(31, 104)
    assert rate.p == pytest.approx(31 / 104)
    assert rate.low == pytest.approx(stats.beta.ppf(0.05, 31.5, 73.5))
    assert rate.high == pytest.approx(stats.beta.ppf(0.95, 31.5, 73.5))
    assert jeffreys(0, 10).low == 0.0 and jeffreys(10, 10).high == 1.0
    assert 0.0 < jeffreys(0, 10).high < 0.25


def test_kaplan_meier_by_hand():
    from standoff.outside.rates import kaplan_meier

    # ends at 1, censored at 2, ends at 2, ends at 3: S(1) = 3/4; at 2 three are at risk (the
    # one censored at 2 counts as at risk then), one ends: S(2) = 3/4 x 2/3 = 1/2; S(3) = 0
    curve = kaplan_meier([1, 2, 2, 3], [True, False, True, True])
    assert [p.survival for p in curve.points] == pytest.approx([0.75, 0.5, 0.0])
    assert curve.at(2.5).survival == pytest.approx(0.5)
    assert curve.at(0.5).survival == 1.0
    assert curve.median() == 2


def test_survival_without_censoring_is_the_share_still_open(tmp_path):
    data = baserates("--nuclear", str(tmp_path / "n.json"))
    actors = raw_actors()
    days = [int(r["brexit"]) for r in raw_system() if nuclear_crisis(actors[r["crisno"]])]
    for months in (1, 6, 12):
        still = sum(d / 30.4375 > months for d in days) / len(days)
        assert data["duration"]["still_open_after"][str(months)]["survival"] == pytest.approx(
            still, abs=1e-4
        )
    hazard = data["duration"]["monthly_hazard_of_ending"]
    assert hazard["ended"] == len(days)
    assert hazard["crisis_months"] == sum(max(1, math.ceil(d / 30.4375 - 1e-9)) for d in days)


# --- the as-of rule -------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["us-dprk-2018", "cuba-1962"])
def test_reference_class_never_sees_the_future(ref, tmp_path):
    from standoff.compile import load
    from standoff.pipeline.outside import outside_view

    compiled = load(ref)
    case = compiled.case
    assert case.reference_class is not None and case.as_of is not None
    view = outside_view(case, compiled.source, {})
    assert view is not None
    system = {r["crisno"]: r for r in raw_system()}
    for member in view.rates.members:
        assert member.trigger < case.as_of
        assert surely_before(system[str(member.number)], case.as_of), member.name
    # the class is every nuclear crisis (both cases' filter) surely triggered before as_of
    actors = raw_actors()
    expected = {
        int(r["crisno"]) for r in system.values()
        if surely_before(r, case.as_of) and nuclear_crisis(actors[r["crisno"]])
        and (ref == "cuba-1962" or r["protrac"] in ("2", "3"))
    }  # fmt: skip
    assert {m.number for m in view.rates.members} == expected
    # a crisis open on as_of has no outcome in the class: it ended later
    for crisis in view.rates.closed:
        assert crisis.end is not None and crisis.end < case.as_of


def test_as_of_overrides_a_later_triggered_before(tmp_path):
    from standoff.outside.filters import build

    reference = build({"triggered_before": "2020-01-01"}, as_of=dt.date(1962, 10, 20))
    assert reference.cutoff() == dt.date(1962, 10, 20)


def test_cuba_is_open_on_its_own_as_of(tmp_path):
    from standoff.compile import load
    from standoff.pipeline.outside import outside_view

    compiled = load("cuba-1962")
    view = outside_view(compiled.case, compiled.source, {})
    assert view is not None
    cuban = [m for m in view.rates.members if m.number == 196]
    assert cuban and not cuban[0].ended  # triggered 16 October, ended 20 November 1962
    assert all(c.number != 196 for c in view.rates.closed)


def test_forecast_shows_the_outside_view(tmp_path):
    out = tmp_path / "cuba.json"
    result = runner.invoke(app, ["forecast", "cuba-1962", "--draws", "400", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "Outside view" in result.output
    data = json.loads(out.read_text())["outside_view"]
    ids = {c["id"] for c in data["comparisons"]}
    assert ids == {"war", "us_air_strike", "negotiated_withdrawal", "standoff"}
    names = {m["name"] for m in data["members"]}
    assert "BERLIN BLOCKADE" in names and "N. KOREA NUCLEAR I" not in names
    for c in data["comparisons"]:
        low, high = c["class_rate"]["interval"]
        assert c["large_gap"] == (not low <= c["case_p"] <= high)


# --- errors ---------------------------------------------------------------------------------------


def test_unknown_filter_value_lists_known(tmp_path):
    result = runner.invoke(app, ["baserates", "--region", "atlantis"])
    assert result.exit_code == 2
    assert "unknown region 'atlantis'" in result.stderr and "east-asia" in result.stderr
    result = runner.invoke(app, ["baserates", "--gravity", "dire"])
    assert result.exit_code == 2 and "grave-damage" in result.stderr


PAIRS = [("--nuclear", "--not-nuclear"), ("--protracted", "--not-protracted"),
         ("--great-power", "--no-great-power"), ("--superpower", "--no-superpower"),
         ("--mediated", "--not-mediated")]  # fmt: skip


@pytest.mark.parametrize(("yes", "no"), PAIRS)
def test_contradicting_flags_are_refused(yes, no):
    """Both flags of a pair: refused, naming both, whichever comes last (never the last one
    silently winning)."""
    for args in ([yes, no], [no, yes], [yes, "--region", "asia", no]):
        result = runner.invoke(app, ["baserates", *args])
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.stderr == (
            f"error: {yes} and {no} contradict each other: give one of them, or neither\n"
        )


def test_each_flag_of_a_pair_alone_is_its_filter(tmp_path):
    actors = raw_actors()
    rows = raw_system()
    nuclear = baserates("--nuclear", str(tmp_path / "yes.json"))
    assert nuclear["crises"] == sum(nuclear_crisis(actors.get(r["crisno"], [])) for r in rows)
    assert nuclear["crises"] == 133
    not_nuclear = baserates("--not-nuclear", str(tmp_path / "no.json"))
    assert not_nuclear["crises"] == sum(
        all(a["nuclear"] in ("1", "2") for a in actors.get(r["crisno"], [])) for r in rows
    )


def test_too_small_class_says_so(tmp_path):
    result = runner.invoke(app, ["baserates", "--actor", "PRK", "--triggered-after", "2016"])
    assert result.exit_code == 2
    assert "holds 2 crises, fewer than the minimum of 10" in result.stderr
    assert "nothing is widened" in result.stderr


def test_missing_data_folder(tmp_path):
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["baserates", "--data", str(missing)])
    assert result.exit_code == 2
    assert str(missing) in result.stderr and "STANDOFF_ICB" in result.stderr
    assert "Traceback" not in result.output


def _case_with(block: str, tmp_path: Path, drop_as_of: bool = False) -> Path:
    text = (REPO / "cases" / "cuba-1962.yaml").read_text()
    start = text.index("reference_class:")
    end = text.index("# The crisis: weekly rounds")
    text = text[:start] + block + "\n" + text[end:]
    if drop_as_of:
        text = re.sub(r"^as_of: .*$", "", text, flags=re.M)
    path = tmp_path / "case.yaml"
    path.write_text(text)
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, x in enumerate(path.read_text().splitlines(), 1) if needle in x)


def test_case_errors_carry_file_and_line(tmp_path):
    block = (
        "reference_class:\n"
        "  nuclear: true\n"
        "  nukes: true\n"
        "  region: atlantis\n"
        "  compare:\n"
        "    no_such_scenario: {violence: [war]}\n"
        "    war: {violence: [apocalypse]}\n"
    )
    path = _case_with(block, tmp_path)
    result = runner.invoke(app, ["check", str(path)])
    stderr = clear_refusal(result, str(path))
    assert f"{path}:{_line_of(path, 'nukes:')}: reference_class.nukes: unknown filter" in stderr
    assert "great_power" in stderr  # the known filters are listed
    assert (
        f":{_line_of(path, 'region: atlantis')}: reference_class.region: unknown region" in stderr
    )
    line = _line_of(path, "no_such_scenario")
    assert (
        f":{line}: reference_class.compare.no_such_scenario: unknown scenario or question" in stderr
    )
    assert (
        f":{_line_of(path, 'apocalypse')}: reference_class.compare.war: unknown violence" in stderr
    )


def test_case_without_as_of_is_refused(tmp_path):
    path = _case_with("reference_class:\n  nuclear: true\n", tmp_path, drop_as_of=True)
    result = runner.invoke(app, ["check", str(path)])
    # the crisis section may also complain about the missing date; ours must be among the lines
    assert result.exit_code == 2
    assert "reference_class: a reference class needs the case's as_of" in result.stderr


def test_version_does_not_load_the_outside_view():
    import subprocess
    import sys

    code = (
        "import sys, standoff.cli\n"
        "print(any(m.startswith('standoff.outside') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- a parameter written from a base rate ---------------------------------------------------------


def _dprk_with(old: str, new: str, tmp_path: Path) -> Path:
    text = (REPO / "cases" / "us-dprk-2018.yaml").read_text()
    assert text.count(old) == 1
    path = tmp_path / "dprk.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_parameter_from_the_class_duration_curve(tmp_path):
    from standoff.compile import load

    path = _dprk_with(
        "collapse_rate:\n      value: 0.05 to 0.20",
        "collapse_rate:\n      base_rate: monthly_end_hazard",  # its label and note kept
        tmp_path,
    )
    dist = load(str(path)).case.crisis.parameters["collapse_rate"]
    # the class: nuclear and protracted crises surely triggered before 15 August 2018, all ended
    actors = raw_actors()
    as_of = dt.date(2018, 8, 15)
    days = [
        int(r["brexit"]) for r in raw_system()
        if surely_before(r, as_of) and r["protrac"] in ("2", "3")
        and nuclear_crisis(actors[r["crisno"]])
    ]  # fmt: skip
    months = sum(max(1, math.ceil(d / 30.4375 - 1e-9)) for d in days)
    from scipy import stats

    a, b = len(days) + 0.5, months - len(days) + 0.5  # the Jeffreys posterior of the hazard
    assert dist.kind == "range"
    assert dist.params[0] == pytest.approx(stats.beta.ppf(0.05, a, b), rel=1e-3)
    assert dist.params[1] == pytest.approx(stats.beta.ppf(0.95, a, b), rel=1e-3)
    result = runner.invoke(app, ["forecast", str(path), "--draws", "200"])
    assert result.exit_code == 0, result.output


def test_parameter_from_an_unknown_base_rate(tmp_path):
    path = _dprk_with(
        "collapse_rate:\n      value: 0.05 to 0.20",
        "collapse_rate:\n      base_rate: yearly_doom",
        tmp_path,
    )
    result = runner.invoke(app, ["check", str(path)])
    stderr = clear_refusal(result, str(path))
    assert "unknown base rate 'yearly_doom'; known: monthly_end_hazard" in stderr
    assert f"{path}:{_line_of(path, 'yearly_doom')}:" in stderr


def test_too_small_case_class_is_refused_at_its_line(tmp_path):
    block = "reference_class:\n  actors: [CUB]\n  superpower: true\n"
    path = _case_with(block, tmp_path)
    result = runner.invoke(app, ["forecast", str(path), "--draws", "100"])
    stderr = clear_refusal(result, str(path))
    assert f"{path}:{_line_of(path, 'reference_class:')}: reference_class:" in stderr
    assert "fewer than the minimum of 10" in stderr


def test_report_has_the_outside_view(tmp_path):
    report = tmp_path / "r.md"
    args = ["forecast", "cuba-1962", "--draws", "200", "--trajectories", "2", "--replicates", "2"]
    result = runner.invoke(app, [*args, "--report", str(report)])
    assert result.exit_code == 0, result.output
    text = report.read_text()
    section = text[text.index("## Outside view") : text.index("## How the crisis unfolds")]
    assert "27 crises of its reference class (nuclear, triggered before 1962-10-20)" in section
    assert "outside the 90% (Jeffreys) interval" in section  # what "large" means
    assert "| 5 of 26 |" in section  # war: full-scale war in 5 of the 26 ended crises
    assert "**large: justify**" in section
