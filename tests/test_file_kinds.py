"""`standoff check` on the three kinds of file an analyst writes: a case, an observation file and a
resolution file, each recognised and checked as what it is, against its case where one is found,
with every problem reported at its line in one pass.

The files are those of a US–China trade war case written as of 1 July 2018, laid out as the
library lays out its cases: `trade/us-china-trade-2018.yaml`, `trade/observations/...` and
`trade/resolutions/...`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app

from .conftest import REPO, clear_refusal

runner = CliRunner()

TRADE_CASE = """\
# US–China trade war, as of 1 July 2018: tariffs on $34bn of Chinese goods from 6 July.
standoff: 1
id: us-china-trade-2018
title: US–China trade war (2018)
as_of: 2018-07-01
horizon: 2019-07-01
issues:
  - id: tariffs
    label: Tariffs on each other's goods
    low_means: no new tariffs
    high_means: tariffs on all trade
  - id: structural
    label: Structural reforms in China (subsidies, technology transfer)
    low_means: none
    high_means: sweeping reforms, enforced
actors:
  - id: trump
    name: President Trump
    capability: 50 to 70
    stances:
      tariffs: {position: 70 to 90, salience: 0.6 to 0.8}
      structural: {position: 80 to 95, salience: 0.5 to 0.7}
  - id: xi
    name: President Xi
    capability: 45 to 65
    stances:
      tariffs: {position: 10 to 25, salience: 0.6 to 0.8}
      structural: {position: 10 to 30, salience: 0.7 to 0.9}
scenarios:
  - id: deal
    label: A deal that rolls tariffs back
    when: "happened('deal')"
  - id: escalation
    label: Tariffs on all trade
    when: "happened('all_trade_tariffs')"
  - id: stalemate
    label: Tariffs stay, talks drag on
    when: otherwise
questions:
  - id: hike
    text: Will the US raise tariffs on Chinese goods again by 1 July 2019?
    resolves: 2019-07-01
    when: "happened('hike')"
  - id: truce
    text: Will the two leaders agree a truce by 1 July 2019?
    resolves: 2019-07-01
    when: "happened('truce')"
  - id: deal_signed
    text: Will a trade deal be signed by 1 July 2019?
    resolves: 2019-07-01
    when: "happened('deal')"
crisis:
  step: month
  replicates: 20
  dyads:
    - [trump, xi]
  parameters:
    hike_rate: 0.10 to 0.30
    truce_rate: 0.05 to 0.20
    deal_rate: 0.02 to 0.10
    escalation_rate: 0.01 to 0.05
  events:
    - id: hike
      label: The US raises tariffs
      probability: "hike_rate * (not happened('truce'))"
    - id: truce
      label: A truce at a leaders' meeting
      once: true
      probability: "truce_rate"
    - id: deal
      label: A deal is signed
      once: true
      probability: "deal_rate * happened('truce')"
    - id: all_trade_tariffs
      label: Tariffs on all trade
      once: true
      probability: "escalation_rate * happened('hike')"
"""

# what was seen to 1 December 2018: the September tariffs, the Buenos Aires truce, no deal
TRADE_OBSERVATIONS = """\
# Seen to 1 December 2018 (USTR, White House readouts).
as_of: 2018-12-01
events:
  hike: [2018-09-24]        # tariffs on $200bn of goods
  truce: [2018-12-01]       # Trump and Xi at the G20 in Buenos Aires
  deal: []
"""

TRADE_RESOLUTIONS = """\
case: us-china-trade-2018
resolved: 2019-07-01
scenario: stalemate
questions:
  hike: yes          # May 2019: 10% to 25% on $200bn
  truce: yes
  deal_signed: no
"""


def trade_folder(tmp_path: Path, **files: str) -> Path:
    """The trade case in the library's layout; `files` replace or add files by their path in the
    folder (`observations/x.yaml`)."""
    folder = tmp_path / "trade"
    written = {
        "us-china-trade-2018.yaml": TRADE_CASE,
        "observations/us-china-trade-2018.yaml": TRADE_OBSERVATIONS,
        "resolutions/us-china-trade-2018.yaml": TRADE_RESOLUTIONS,
        **files,
    }
    for name, text in written.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def check(*args: str) -> object:
    return runner.invoke(app, ["check", *args])


def test_each_kind_of_file_is_checked_as_what_it_is(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    case = check(str(folder / "us-china-trade-2018.yaml"))
    assert case.exit_code == 0, case.output
    assert "ok: case 'us-china-trade-2018', 2 actors, 2 issues" in case.stdout

    seen = check(str(folder / "observations" / "us-china-trade-2018.yaml"))
    assert seen.exit_code == 0, seen.output
    beside = folder / "us-china-trade-2018.yaml"
    assert f"ok: observations of case 'us-china-trade-2018' (found beside its folder, {beside}) " \
        "to 2018-12-01, 3 events over 5 rounds" in seen.stdout  # fmt: skip
    # the tariffs and the truce were seen: those two questions are answered, not forecast
    assert "they decide hike (yes), truce (yes)" in seen.stdout

    resolved = check(str(folder / "resolutions" / "us-china-trade-2018.yaml"))
    assert resolved.exit_code == 0, resolved.output
    assert "ok: resolutions of case 'us-china-trade-2018' (found by its case: key, " \
        f"{beside}), 3 of 3 questions resolved" in resolved.stdout  # fmt: skip


@pytest.mark.parametrize(
    "file",
    [
        "cases/observations/us-dprk-2018.yaml",
        "cases/resolutions/us-dprk-2018.yaml",
        "cases/library/observations/iraq-2002.yaml",
        "cases/library/resolutions/iraq-2002.yaml",
    ],
)
def test_the_shipped_observation_and_resolution_files_pass_check(file: str) -> None:
    got = check(str(REPO / file))
    assert got.exit_code == 0, got.output
    assert "unknown key" not in got.output and ": ok: " in got.stdout


def test_an_observation_file_is_not_read_as_a_case(tmp_path: Path) -> None:
    """It used to say "unknown key 'events' (did you mean 'events'?)"."""
    folder = trade_folder(tmp_path)
    got = check(str(folder / "observations" / "us-china-trade-2018.yaml"))
    assert "did you mean 'events'" not in got.output and "required field" not in got.output


def test_deal_no_says_write_an_empty_list(tmp_path: Path) -> None:
    seen = TRADE_OBSERVATIONS.replace("deal: []", "deal: no").replace(
        "truce: [2018-12-01]", "truce: yes"
    )
    folder = trade_folder(tmp_path, **{"observations/us-china-trade-2018.yaml": seen})
    path = str(folder / "observations" / "us-china-trade-2018.yaml")
    stderr = clear_refusal(check(path), path)
    assert (
        f"{path}:6: events.deal: no is read as false, not a date; write [] for 'did not happen'"
        in stderr
    )
    assert f"{path}:5: events.truce: yes is read as true, not a date; write the dates" in stderr


def test_observations_are_checked_against_their_case_every_problem_at_its_line(
    tmp_path: Path,
) -> None:
    seen = TRADE_OBSERVATIONS.replace("  deal: []\n", "  deel: []\n  truce_talks: [2018-06-20]\n")
    folder = trade_folder(tmp_path, **{"observations/us-china-trade-2018.yaml": seen})
    path = str(folder / "observations" / "us-china-trade-2018.yaml")
    stderr = clear_refusal(check(path), path)
    assert f"{path}:6: events.deel: the case has no event 'deel'; did you mean 'deal'?" in stderr
    assert f"{path}:7: events.truce_talks: the case has no event 'truce_talks'; did you mean " \
        "'truce'?" in stderr  # fmt: skip


def test_the_case_is_found_by_the_case_key_or_by_option(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    loose = tmp_path / "seen-dec-2018.yaml"  # outside the layout
    loose.write_text(TRADE_OBSERVATIONS)
    shape_only = check(str(loose))
    assert shape_only.exit_code == 0
    assert "ok: observations to 2018-12-01, 3 events listed" in shape_only.stdout
    assert "no case found to check it against, so only its shape is checked: give --case CASE" \
        in shape_only.stderr  # fmt: skip

    given = check(str(loose), "--case", str(folder / "us-china-trade-2018.yaml"))
    assert given.exit_code == 0 and "they decide hike (yes)" in given.stdout

    named = tmp_path / "observations" / "dec.yaml"
    named.parent.mkdir()
    named.write_text("case: us-china-trade-2018\n" + TRADE_OBSERVATIONS)
    (tmp_path / "us-china-trade-2018.yaml").write_text(TRADE_CASE)
    by_key = check(str(named))
    assert by_key.exit_code == 0 and "(found by its case: key" in by_key.stdout


def test_observations_of_another_case_are_refused(tmp_path: Path) -> None:
    folder = trade_folder(tmp_path)
    other = tmp_path / "seen.yaml"
    other.write_text("case: us-dprk-2018\n" + TRADE_OBSERVATIONS)
    stderr = clear_refusal(check(str(other), "--case", str(folder / "us-china-trade-2018.yaml")))
    assert "seen.yaml:1: case: these observations are of 'us-dprk-2018', the case is " \
        "'us-china-trade-2018'" in stderr  # fmt: skip
    forecast = runner.invoke(
        app, ["forecast", str(folder / "us-china-trade-2018.yaml"), "--draws", "200",
              "--observed", str(other)],
    )  # fmt: skip
    assert "case: these observations are of 'us-dprk-2018'" in clear_refusal(forecast)


def test_a_resolution_file_is_held_to_its_case(tmp_path: Path) -> None:
    bad = (
        TRADE_RESOLUTIONS.replace("scenario: stalemate", "scenario: stalmate")
        .replace("  truce: yes\n", "")
        .replace("  deal_signed: no", "  deal: no")
    )
    folder = trade_folder(tmp_path, **{"resolutions/us-china-trade-2018.yaml": bad})
    path = str(folder / "resolutions" / "us-china-trade-2018.yaml")
    stderr = clear_refusal(check(path), path)
    assert f"{path}:3: scenario: 'stalmate' is not a scenario of the case; did you mean " \
        "'stalemate'?" in stderr  # fmt: skip
    assert f"{path}:4: questions: not resolved: truce, deal_signed (in the case)" in stderr
    assert f"{path}:6: questions.deal: not in the case; did you mean 'deal_signed'?" in stderr


def test_one_pass_reports_a_removed_scenario_and_the_missing_otherwise(tmp_path: Path) -> None:
    """The otherwise scenario removed while `compare:` still names it: both are reported."""
    text = (REPO / "cases" / "us-dprk-2018.yaml").read_text()
    start = text.index("  - id: talks_continue")
    text = text[:start] + "\n" + text[text.index("questions:", start) :]
    path = tmp_path / "dprk.yaml"
    path.write_text(text)
    stderr = clear_refusal(check(str(path)), str(path))
    assert "scenarios[2].when: the last scenario's rule must be 'otherwise'" in stderr
    assert "reference_class.compare.talks_continue: unknown scenario or question " \
        "'talks_continue'" in stderr  # fmt: skip


def test_a_tab_in_the_indentation_says_use_spaces(tmp_path: Path) -> None:
    text = TRADE_CASE.replace("\n  - id: xi\n", "\n\t- id: xi\n")
    path = tmp_path / "trade.yaml"
    path.write_text(text)
    line = text[: text.index("\t- id: xi")].count("\n") + 1
    stderr = clear_refusal(check(str(path)), str(path))
    assert f"{path}:{line}: (yaml): YAML syntax error: line {line} is indented with a tab; " \
        "YAML indents with spaces, not tabs" in stderr  # fmt: skip


def test_a_key_out_of_place_says_where_it_belongs_never_itself(tmp_path: Path) -> None:
    text = TRADE_CASE.replace(
        "horizon: 2019-07-01\n", "horizon: 2019-07-01\ndyads: [[trump, xi]]\n"
    )
    path = tmp_path / "trade.yaml"
    path.write_text(text)
    stderr = clear_refusal(check(str(path)), str(path))
    assert f"{path}:7: dyads: unknown key 'dyads' here; 'dyads' belongs under crisis" in stderr
    assert "did you mean 'dyads'" not in stderr
