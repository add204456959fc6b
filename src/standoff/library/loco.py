"""A global setting chosen leave-one-case-out on the library: for each case, the setting that
scores best on every *other* case is the one it is forecast with, so that no case's forecast
has seen its own outcome. The pooled score of those forecasts is the honest score of the rule
"choose the setting on the library"; the setting chosen on every case is the default a user gets.

Used for the crisis clock (`pace`, compile/pace.py): each case that does not state its own pace is
forecast at every candidate pace, and each question scored with the Brier score (0-1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Choice:
    """The leave-one-case-out result: for each case the setting chosen without it and the mean
    Brier of its questions with that setting; the pooled Brier over every question so forecast;
    the pooled Brier of each setting on every case (in-sample, for reference); and the setting
    chosen on every case."""

    per_case: Mapping[str, str]
    loco_brier: float
    in_sample: Mapping[str, float]
    chosen: str
    questions: int


def pooled(scores: Mapping[str, Sequence[float]], cases: Sequence[str]) -> float:
    values = [v for c in cases for v in scores[c]]
    return sum(values) / len(values) if values else math.nan


def leave_one_case_out(scores: Mapping[str, Mapping[str, Sequence[float]]]) -> Choice:
    """`scores[setting][case]`: the Brier score of each of the case's questions under that
    setting (every setting scores the same questions). Ties go to the setting listed first."""
    settings = list(scores)
    cases = list(scores[settings[0]])

    def best(among: Sequence[str]) -> str:
        return min(settings, key=lambda s: (pooled(scores[s], among), settings.index(s)))

    per_case = {c: best([o for o in cases if o != c]) for c in cases}
    held = [v for c in cases for v in scores[per_case[c]][c]]
    return Choice(
        per_case=per_case,
        loco_brier=sum(held) / len(held) if held else math.nan,
        in_sample={s: pooled(scores[s], cases) for s in settings},
        chosen=best(cases),
        questions=len(held),
    )


def held_out(
    scores: Mapping[str, Mapping[str, Sequence[float]]], choice: Choice
) -> tuple[list[float], list[str]]:
    """The Brier score of every question forecast leave-one-case-out (each case under the
    setting chosen without it), and the case each comes from, in case order: the items of the
    paired comparisons of the rule "choose the setting on the library" with a baseline."""
    values: list[float] = []
    cases: list[str] = []
    for case, setting in choice.per_case.items():
        values.extend(scores[setting][case])
        cases.extend([case] * len(scores[setting][case]))
    return values, cases
