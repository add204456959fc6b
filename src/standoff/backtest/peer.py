"""Another implementation's per-issue DEU III forecasts set beside standoff's, issue by issue.

Reads a CSV with one row per issue (`issue_id` = the DEU `isnr`, `compromise_forecast`,
`challenge_forecast`; other columns are ignored), such as the per-issue file that the schelling
project publishes (`docs/review/deu-paired-differences.csv` of github.com/hamzagul07/schelling;
only its data are read). Only the issues of the given DEU III file are compared, against that
file's own outcomes: the other file's issues outside it (the holdout's) are counted, never scored.

For the compromise model it finds which of standoff's input options the other forecasts follow,
by recomputing standoff's compromise under each `Setup` of `READINGS` and counting the issues where
the two agree to `AGREE` points; the issues left over are listed with the reason found for them.

    python -m standoff.backtest.peer PEER.csv ../shared/data/deu3/deu3-dev.tsv [SIDE.csv]

prints the comparison as Markdown and, given SIDE.csv, writes the issues side by side (`isnr`,
`rule`, `outcome`, standoff's `compromise` and `eum`, the other's `other_compromise` and
`other_challenge`, and the reason the compromise forecasts still differ, if they do).
"""

from __future__ import annotations

import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import outputs
from ..case.yamlread import read_text_file
from ..errors import CaseError, Problem
from .capabilities import treaty
from .deu3 import Dataset, read_deu3
from .models import FloatArray, Setup, issue_inputs, run_engine

AGREE = 0.01  # points on the 0-100 scale within which two forecasts are the same
COLUMNS = ("issue_id", "compromise_forecast", "challenge_forecast")

#: Input readings tried, each adding one choice to the one before.
READINGS: tuple[tuple[str, Setup], ...] = (
    ("standoff's defaults", Setup()),
    ("Lisbon weights: population shares", Setup(lisbon="population")),
    (
        "and a position without salience counts 0",
        Setup(lisbon="population", missing_salience="zero"),
    ),
    (
        "and Commission and Parliament as the largest state present",
        Setup(lisbon="population", missing_salience="zero", institutions="largest-present"),
    ),
)


@dataclass(frozen=True)
class PeerForecasts:
    file: str
    compromise: dict[str, float]
    challenge: dict[str, float]


def read_peer(path: str | Path) -> PeerForecasts:
    """The per-issue forecasts of a CSV. CaseError (`FILE:LINE: column: problem`) for bad input."""
    file = str(path)
    text = read_text_file(Path(path))
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise CaseError([Problem(file, 1, "(header)", f"missing columns: {', '.join(missing)}")])
    problems: list[Problem] = []
    out: dict[str, dict[str, float]] = {"compromise": {}, "challenge": {}}
    for line, row in enumerate(reader, start=2):
        isnr = (row.get("issue_id") or "").strip()
        if not isnr:
            problems.append(Problem(file, line, "issue_id", "blank"))
            continue
        for model in out:
            text = (row.get(f"{model}_forecast") or "").strip()
            try:
                value = float(text)
            except ValueError:
                problems.append(Problem(file, line, f"{model}_forecast", f"{text!r}: not a number"))
                continue
            if not math.isfinite(value) or not 0 <= value <= 100:
                problems.append(Problem(file, line, f"{model}_forecast", f"{text!r}: not in 0-100"))
                continue
            out[model][isnr] = value
    if problems:
        raise CaseError(problems)
    return PeerForecasts(file, out["compromise"], out["challenge"])


@dataclass
class Comparison:
    """The issues both score, and where the forecasts differ."""

    common: list[int]  # indices into data.issues: outcome known here, forecast there
    predictions: dict[str, FloatArray]  # model -> predictions of the common issues
    outside: int  # the other file's issues not in this file (never scored here)
    unscored_here: list[str]  # this file's issues with an outcome the other file leaves out
    mae: dict[str, float]  # model -> MAE on the common issues
    mae_by_rule: dict[str, dict[str, float]]
    agree: list[tuple[str, int]]  # (reading, issues where the compromise forecasts agree)
    leftover: list[tuple[str, str, float]]  # (isnr, reason, |difference|) under the last reading
    challenge: dict[str, int]  # issues where eum and the other challenge model agree, sit at the
    # initial weighted median (each), within 0.5 points


def compare(data: Dataset, peer: PeerForecasts) -> Comparison:
    """Standoff's compromise and eum (default inputs) beside the other forecasts."""
    isnrs = {i.isnr for i in data.issues}
    common = [
        k
        for k, i in enumerate(data.issues)
        if i.isnr in peer.compromise and i.isnr in peer.challenge and not math.isnan(i.outcome)
    ]
    outside = len(set(peer.compromise) - isnrs)
    unscored = [i.isnr for i in data.scored if i.isnr not in peer.compromise]
    y = np.array([data.issues[k].outcome for k in common])
    rule = np.array([data.issues[k].voting for k in common])
    setup = Setup()
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    preds: dict[str, FloatArray] = {
        "standoff compromise": run_engine("compromise", per, setup=setup)[common, 0],
        "standoff eum": run_engine("eum", per, setup=setup)[common, 0],
        "other compromise": np.array([peer.compromise[data.issues[k].isnr] for k in common]),
        "other challenge": np.array([peer.challenge[data.issues[k].isnr] for k in common]),
    }
    mae = {m: float(np.abs(p - y).mean()) if len(y) else math.nan for m, p in preds.items()}
    by_rule = {
        m: {r: float(np.abs(p - y)[rule == r].mean()) for r in np.unique(rule)}
        for m, p in preds.items()
    }
    median = run_engine("median", per, setup=setup)[common, 0]
    near = 0.5
    challenge = {
        "eum and the other challenge model agree": int(
            (np.abs(preds["standoff eum"] - preds["other challenge"]) <= near).sum()
        ),
        "eum at the weighted median": int((np.abs(preds["standoff eum"] - median) <= near).sum()),
        "other challenge at the weighted median": int(
            (np.abs(preds["other challenge"] - median) <= near).sum()
        ),
    }
    agree = []
    last = preds["standoff compromise"]
    for label, reading in READINGS:
        per = [issue_inputs(i, data.gdp, reading) for i in data.issues]
        last = run_engine("compromise", per, setup=reading)[common, 0]
        same = np.abs(last - preds["other compromise"]) <= AGREE
        agree.append((label, int(same.sum())))
    leftover = []
    for j, k in enumerate(common):
        gap = float(abs(last[j] - preds["other compromise"][j]))
        if gap > AGREE:
            issue = data.issues[k]
            if issue.decided is None:
                dated = " from its introduction date" if issue.introduced else ""
                why = f"no decision date: {treaty(issue)} weights{dated}"
            elif treaty(issue) == "lisbon":
                why = "Lisbon: the population shares differ"
            else:
                why = "not explained"
            leftover.append((issue.isnr, why, gap))
    return Comparison(common, preds, outside, unscored, mae, by_rule, agree, leftover, challenge)


def side_by_side(data: Dataset, c: Comparison) -> str:
    """The common issues as CSV, one row each."""
    why = {isnr: reason for isnr, reason, _gap in c.leftover}
    p = c.predictions
    lines = ["isnr,rule,outcome,compromise,eum,other_compromise,other_challenge,still_different"]
    for j, k in enumerate(c.common):
        issue = data.issues[k]
        values = [p[m][j] for m in ("standoff compromise", "standoff eum", "other compromise",
                                    "other challenge")]  # fmt: skip
        cells = [issue.isnr, issue.voting, f"{issue.outcome:g}", *(f"{v:.4f}" for v in values)]
        lines.append(",".join([*cells, why.get(issue.isnr, "")]))
    return "\n".join(lines) + "\n"


def report(data: Dataset, peer: PeerForecasts) -> str:
    """The comparison as Markdown."""
    c = compare(data, peer)
    lines = [
        f"{len(c.common)} issues of {data.file} have an outcome and a forecast in {peer.file}; "
        f"{c.outside} of its issues are outside the file (not scored here); issues with an "
        f"outcome here it leaves out: {', '.join(c.unscored_here) or 'none'}.",
        "",
        "| forecasts | MAE | " + " | ".join(sorted(next(iter(c.mae_by_rule.values())))) + " |",
        "|---|---|" + "---|" * len(next(iter(c.mae_by_rule.values()))),
    ]
    for m, v in c.mae.items():
        rules = " | ".join(f"{c.mae_by_rule[m][r]:.2f}" for r in sorted(c.mae_by_rule[m]))
        lines.append(f"| {m} | {v:.2f} | {rules} |")
    lines += ["", "| compromise inputs | issues within 0.01 |", "|---|---|"]
    lines += [f"| {label} | {n} of {len(c.common)} |" for label, n in c.agree]
    reasons: dict[str, list[float]] = {}
    for _isnr, why, gap in c.leftover:
        reasons.setdefault(why, []).append(gap)
    lines += ["", "| still different | issues | largest difference |", "|---|---|---|"]
    lines += [f"| {why} | {len(g)} | {max(g):.2f} |" for why, g in reasons.items()]
    lines += ["", "| challenge models (within 0.5 points) | issues |", "|---|---|"]
    lines += [f"| {what} | {n} of {len(c.common)} |" for what, n in c.challenge.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print(
            "usage: python -m standoff.backtest.peer PEER.csv DEU3.tsv [SIDE.csv]", file=sys.stderr
        )
        return 2
    try:
        data, peer = read_deu3(args[1]), read_peer(args[0])
        if len(args) == 3:
            outputs.write_text(Path(args[2]), side_by_side(data, compare(data, peer)), args[:2])
        text = report(data, peer)
    except CaseError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return 2
    except outputs.OutputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
