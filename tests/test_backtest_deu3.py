"""The DEU III loader and its quirks; capabilities by treaty; engines batched over issues."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from standoff.backtest.capabilities import (
    NICE,
    PRE_NICE,
    capability,
    council_weights,
    lisbon_banzhaf,
    treaty,
)
from standoff.backtest.deu3 import ACTORS, META, parse_date, parse_deu3, read_deu3
from standoff.backtest.models import (
    Setup,
    cross_validated_blend,
    fit_blend,
    group_folds,
    issue_inputs,
    run_engine,
)
from standoff.errors import CaseError

from .conftest import SHARED_DATA, shared

DATA = SHARED_DATA / "deu3"
DEV = DATA / "deu3-dev.tsv"
HOLDOUT = DATA / "deu3-holdout-inputs.tsv"


def needs_data(test: Callable[..., None]) -> Callable[..., None]:
    """Decorate a test that reads DEV and HOLDOUT: without them it skips, or fails under CI=true
    (through `conftest.shared`). test_backtest_cli.py uses it too."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        for path in (DEV, HOLDOUT):
            shared("deu3", path.name, what="DEU III data")
        test(*args, **kwargs)

    return wrapper


HEADER = [*META, *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS), "rp", "out"]


def row(isnr: str, positions: dict[str, str], saliences: dict[str, str], **meta: str) -> str:
    cells = {name: "" for name in HEADER}
    cells.update(prnr=isnr[:6], isnr=isnr, proc="COD", counvte="QMV", finact="999")
    cells.update(meta)
    cells.update({f"p{a}": v for a, v in positions.items()})
    cells.update({f"s{a}": v for a, v in saliences.items()})
    return "\t".join(cells[name] for name in HEADER)


def tsv(*rows: str, gdp: bool = True) -> str:
    lines = ["\t".join(HEADER)]
    if gdp:
        g = {name: "" for name in HEADER}
        g.update({f"p{a}": "1" for a in ACTORS})
        g["pde"] = "4.1"
        lines.append("\t".join(g[name] for name in HEADER))
    return "\n".join([*lines, *rows]) + "\n"


def test_parse_date_undoes_the_mangling() -> None:
    assert parse_date("1930-05-01") == dt.date(2001, 5, 30)  # the README's example
    assert parse_date("2019-01-01") == dt.date(2001, 1, 19)
    assert parse_date("2028-12-05") == dt.date(2005, 12, 28)
    assert parse_date("25-05-99") == dt.date(1999, 5, 25)
    assert parse_date("08-06-00") == dt.date(2000, 6, 8)
    assert parse_date("02-02-2016") == dt.date(2016, 2, 2)
    assert parse_date("999") is None and parse_date("") is None
    with pytest.raises(ValueError):
        parse_date("31-02-01")
    with pytest.raises(ValueError):
        parse_date("soon")


def test_loader_blank_positions_votes_and_gdp() -> None:
    text = tsv(
        row("d00001i1", {"com": "100", "de": "0", "fr": "50"}, {"com": "80", "de": "60"},
            counvte="Unan", finact="1930-05-01", rp="0", out="40"),
        row("d00001i2", {"com": "0", "uk": "100"}, {"com": "50", "uk": "50"},
            counvte="QMV(10)"),
    )  # fmt: skip
    data = parse_deu3(text, "x.tsv")
    a, b = data.issues
    assert a.present.sum() == 3 and not a.present[ACTORS.index("uk")]
    assert np.isnan(a.salience[ACTORS.index("fr")])  # position without salience
    assert (a.voting, b.voting, b.voting_label) == ("Unan", "QMV", "QMV(10)")
    assert a.decided == dt.date(2001, 5, 30) and b.decided is None
    assert a.outcome == 40 and np.isnan(b.outcome) and np.isnan(b.reference)
    assert data.gdp[ACTORS.index("de")] == pytest.approx(4.1)
    assert len(data.scored) == 1
    # the missing salience is imputed (issue mean, 50, or 0)
    for how, expect in (("mean", 0.7), ("fifty", 0.5), ("zero", 0.0)):
        x = issue_inputs(a, data.gdp, Setup(capabilities="equal", missing_salience=how))
        assert x.salience[1] == pytest.approx(expect)  # com, fr, de in file order


def test_loader_reports_problems_with_lines(tmp_path: Path) -> None:
    bad = tsv(
        row("d00001i1", {"com": "120"}, {}, counvte="Maybe", finact="31-02-01"),
        row("d00001i1", {"com": "x"}, {}),
    )
    with pytest.raises(CaseError) as e:
        parse_deu3(bad, "bad.tsv")
    text = str(e.value)
    assert "bad.tsv:3: pcom: '120' is outside 0-100" in text
    assert "bad.tsv:3: counvte:" in text and "bad.tsv:3: finact:" in text
    assert "bad.tsv:4: isnr: 'd00001i1' repeats line 3" in text
    assert "bad.tsv:4: pcom: 'x' is not a number" in text
    with pytest.raises(CaseError, match=r"one.tsv:1: \(header\): missing columns: .*out"):
        parse_deu3("isnr\tprnr\n", "one.tsv")
    with pytest.raises(CaseError, match="no such file"):
        read_deu3(tmp_path / "nope.tsv")


def test_council_tables() -> None:
    assert sum(PRE_NICE.values()) == 87
    assert sum(NICE.values()) == 345 + 7  # 27 states, then Croatia's 7
    power = lisbon_banzhaf()
    assert sum(power.values()) == pytest.approx(1.0)
    assert power["de"] > power["fr"] > power["es"] > power["nl"] > power["mt"] > 0
    text = tsv(
        row("d00001i1", {"de": "0", "lu": "100"}, {}, finact="25-05-99"),
        row("d00001i2", {"de": "0", "pl": "100"}, {}),  # no date, a 2004 entrant: Nice
        row("d00001i3", {"de": "0"}, {}, finact="2013-02-08"),  # 13 Feb 2008
        row("d00001i4", {"de": "0"}, {}, finact="2017-12-18"),  # 20 Dec 2018
    )
    issues = parse_deu3(text).issues
    assert [treaty(i) for i in issues] == ["pre-nice", "nice", "nice", "lisbon"]
    w = council_weights(issues[0])
    assert w["de"] == pytest.approx(10 / 87)
    cap = capability(issues[0], "council-votes", np.ones(len(ACTORS)), institutions="procedure")
    assert cap[0] == cap[1] == pytest.approx(10 / 87)  # COD: the Parliament counts
    cap = capability(issues[0], "council-votes", np.ones(len(ACTORS)), institutions="none")
    assert cap[0] == cap[1] == 0


def test_batched_engines_match_one_issue_at_a_time() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for k, n in enumerate([5, 7, 5, 9]):
        actors = ACTORS[:n]
        pos = rng.integers(0, 101, n)
        sal = rng.integers(10, 101, n)
        rows.append(
            row(
                f"d0000{k}i1",
                {a: str(int(v)) for a, v in zip(actors, pos, strict=True)},
                {a: str(int(v)) for a, v in zip(actors, sal, strict=True)},
            )
        )
    data = parse_deu3(tsv(*rows))
    setup = Setup(capabilities="gdp")
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    for model in ("compromise", "median", "eum"):
        together = run_engine(model, per, setup=setup)[:, 0]
        alone = [run_engine(model, [x], setup=setup)[0, 0] for x in per]
        assert together == pytest.approx(alone), model
    # draws: draw 0 is the central prediction, the rest vary
    sampled = run_engine("compromise", per, draws=50, setup=setup)
    assert sampled[:, 0] == pytest.approx(run_engine("compromise", per, setup=setup)[:, 0])
    assert (sampled.std(axis=1) > 0).all()


def test_blend_fits_and_cross_validates_on_training_issues_only() -> None:
    rng = np.random.default_rng(0)
    n = 60
    feats = {f: rng.uniform(0, 100, n) for f in ("compromise", "median", "reference", "commission")}
    outcome = 0.6 * feats["compromise"] + 0.4 * feats["reference"]
    voting = ["QMV"] * n
    w = fit_blend(feats, outcome, voting)
    assert w["QMV"] == pytest.approx([0.6, 0.0, 0.4, 0.0])
    groups = [f"p{i // 2}" for i in range(n)]
    folds = group_folds(groups, 5)
    assert all(len({folds[i] for i in range(n) if groups[i] == g}) == 1 for g in set(groups))
    # poisoning a fold's outcomes must not change that fold's predictions
    clean = cross_validated_blend(feats, outcome, voting, groups)
    poisoned = outcome.copy()
    poisoned[folds == 0] = 0.0
    again = cross_validated_blend(feats, poisoned, voting, groups)
    assert again[folds == 0] == pytest.approx(clean[folds == 0])


@needs_data
def test_the_real_files() -> None:
    dev = read_deu3(DEV)
    assert (len(dev.issues), len(dev.scored)) == (222, 215)
    assert {i.voting for i in dev.issues} == {"QMV", "Unan"}
    assert all(i.decided is None or i.decided.year >= 1996 for i in dev.issues)
    assert all(
        i.decided >= i.introduced for i in dev.issues if i.decided and i.introduced
    )  # unmangled dates keep the order of events
    holdout = read_deu3(HOLDOUT)
    assert len(holdout.issues) == 142 and not holdout.scored
    assert "QMV(10)" in {i.voting_label for i in holdout.issues}
