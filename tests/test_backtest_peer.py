"""Another implementation's per-issue forecasts beside standoff's (`standoff.backtest.peer`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from standoff.backtest.deu3 import parse_deu3
from standoff.backtest.models import Setup, issue_inputs, run_engine
from standoff.backtest.peer import compare, main, read_peer, report
from standoff.errors import CaseError

from .test_backtest_deu3 import row, tsv


def dev():
    return parse_deu3(
        tsv(
            row("d00001i1", {"com": "100", "de": "0", "fr": "50"}, {"com": "80", "de": "60",
                "fr": "40"}, out="40"),
            row("d00001i2", {"com": "0", "uk": "100"}, {"com": "50", "uk": "50"}, out="90"),
            row("d00002i1", {"com": "30", "pl": "20"}, {"com": "50", "pl": "50"}, out="25"),
        ),
        "dev.tsv",
    )  # fmt: skip


def peer_file(tmp_path: Path, compromise: dict[str, float], outcome: str = "0") -> Path:
    lines = ["issue_id,outcome,challenge_forecast,compromise_forecast"]
    lines += [f"{k},{outcome},50,{v}" for k, v in compromise.items()]
    path = tmp_path / "peer.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def standoff_compromise(setup: Setup) -> list[float]:
    data = dev()
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    return [float(v) for v in run_engine("compromise", per, setup=setup)[:, 0]]


def test_only_this_files_issues_are_compared_on_its_own_outcomes(tmp_path: Path) -> None:
    """The other file's outcome column and its issues outside this file are never used: an issue
    of the holdout (`h...`) is counted outside; the MAEs come from this file's outcomes."""
    ours = standoff_compromise(Setup())
    peer = read_peer(peer_file(tmp_path, {"d00001i1": ours[0], "d00002i1": 30.0, "h00009i1": 1.0},
                                outcome="99"))  # fmt: skip
    c = compare(dev(), peer)
    assert [dev().issues[k].isnr for k in c.common] == ["d00001i1", "d00002i1"]
    assert c.outside == 1 and c.unscored_here == ["d00001i2"]
    assert c.mae["other compromise"] == pytest.approx((abs(ours[0] - 40) + abs(30 - 25)) / 2)
    assert c.mae["other challenge"] == pytest.approx((10 + 25) / 2)
    # the first issue agrees under standoff's defaults; the second is left over, explained
    assert c.agree[0][1] == 1
    assert [isnr for isnr, _why, _gap in c.leftover] == ["d00002i1"]
    text = report(dev(), peer)
    assert "2 issues of dev.tsv" in text and "1 of its issues are outside" in text


def test_a_reading_that_matches_is_found(tmp_path: Path) -> None:
    """Forecasts made with the Commission and Parliament as the largest state present agree only
    under that reading."""
    theirs = standoff_compromise(Setup(lisbon="population", missing_salience="zero",
                                       institutions="largest-present"))  # fmt: skip
    peer = read_peer(peer_file(tmp_path, {"d00001i1": theirs[0], "d00001i2": theirs[1],
                                          "d00002i1": theirs[2]}))  # fmt: skip
    c = compare(dev(), peer)
    counts = [n for _label, n in c.agree]
    assert counts[-1] == 3 and counts[0] < 3 and not c.leftover


def test_bad_files_are_refused_with_file_and_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("issue_id,compromise_forecast\nx,1\n")
    with pytest.raises(CaseError, match=r"bad.csv:1: \(header\): missing columns"):
        read_peer(bad)
    bad.write_text("issue_id,compromise_forecast,challenge_forecast\nx,abc,1\n,1,1\ny,120,1\n")
    with pytest.raises(CaseError) as e:
        read_peer(bad)
    text = str(e.value)
    assert "bad.csv:2: compromise_forecast: 'abc': not a number" in text
    assert "bad.csv:3: issue_id: blank" in text and "bad.csv:4: compromise_forecast" in text
    assert main([str(bad), str(tmp_path / "dev.tsv")]) == 2
    assert "dev.tsv:1: (file): no such file" in capsys.readouterr().err
    data = tmp_path / "dev.tsv"
    data.write_text(tsv(row("d00001i1", {"com": "100"}, {"com": "50"}, out="40")))
    assert main([str(bad), str(data)]) == 2
    assert "bad.csv:2: compromise_forecast" in capsys.readouterr().err
    assert main([]) == 2


def test_side_by_side_file_and_never_over_an_input(tmp_path: Path, capsys) -> None:
    data = tmp_path / "dev.tsv"
    data.write_text(tsv(row("d00001i1", {"com": "100", "de": "0"}, {"com": "50", "de": "50"},
                            counvte="Unan", finact="25-05-99", out="40")))  # fmt: skip
    peer = peer_file(tmp_path, {"d00001i1": 12.5})
    side = tmp_path / "side.csv"
    assert main([str(peer), str(data), str(side)]) == 0
    lines = side.read_text().splitlines()
    assert lines[0].startswith("isnr,rule,outcome,compromise,eum,other_compromise")
    cells = lines[1].split(",")
    assert cells[:3] == ["d00001i1", "Unan", "40"] and float(cells[5]) == 12.5
    assert cells[-1] == "not explained"  # 50 against 12.5, a dated pre-Lisbon issue
    before = peer.read_text()
    assert main([str(peer), str(data), str(peer)]) == 2
    assert "refusing" in capsys.readouterr().err and peer.read_text() == before
