"""The compile stage: a checked case and its source map -> the compiled case every later stage
takes. Compiling the crisis section resolves every id a formula or an effect names to an index and
names every sampled number; a problem is reported at the line it came from.

The stage's modules: `crisis` and `crisis_parts` (the crisis section, by part), `plan` (the
compiled crisis's types), `expr` and `formula_text` (the formula language), `games` (a strategic
game written into a case), `dates`, `pace` (the clock), `calibration` (the odds factor),
`intervals` (interval arithmetic on formulas), `observed` (an observation file compiled against
the crisis)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..case.loader import ChecksFailed, read_case, read_yaml_text
from ..case.schema import Case
from ..case.source import SourceMap
from ..errors import CaseError, Problem

if TYPE_CHECKING:
    from .plan import CompiledCrisis


@dataclass(frozen=True)
class CompiledCase:
    """A case ready to run: the case, where it came from, and its compiled crisis (None for a
    plain bargaining case: a KTAB or BDM table, or a YAML case without a crisis section)."""

    case: Case
    source: SourceMap
    crisis: CompiledCrisis | None

    @property
    def is_crisis(self) -> bool:
        return self.crisis is not None


def compile_case(case: Case, source: SourceMap) -> CompiledCase:
    """Compile a checked case. Raises CaseError with every problem found. The crisis modules
    are imported only for a case with a crisis section."""
    if case.crisis is None:
        return CompiledCase(case=case, source=source, crisis=None)
    from .crisis import compile_crisis

    crisis, problems = compile_crisis(case, source)
    if problems:
        raise CaseError(problems)
    return CompiledCase(case=case, source=source, crisis=crisis)


def load(ref: str | Path) -> CompiledCase:
    """Read, check and compile a case from a built-in id or a file. Raises CaseError."""
    return _compiled(read_case, ref)


def load_yaml(text: str, file: str = "<text>") -> CompiledCase:
    """Check and compile a case written as YAML text (`file` names it in problems)."""
    return _compiled(read_yaml_text, text, file)


def _compiled(read: Callable[..., tuple[Case, SourceMap]], *given: Any) -> CompiledCase:
    """The case `read(*given)` gives, compiled; a case that failed its checks is reported with
    the problems its crisis section would meet when compiled too, in one pass."""
    try:
        return compile_case(*read(*given))
    except ChecksFailed as e:
        raise CaseError(_with_compile_problems(e.case, e.source, e.problems)) from None


def _with_compile_problems(case: Case, source: SourceMap, problems: list[Problem]) -> list[Problem]:
    """The problems of a case that failed its checks, and those its crisis section would meet
    when compiled (a missing `otherwise` scenario, a formula naming an unknown event), so that
    one pass reports them all; a compile problem of a field the checks already reported is left
    out (the checks' message names the closest id), and so is the whole compile where the failed
    checks leave it nothing sound to work on."""
    if case.crisis is None:
        return problems
    from .crisis import compile_crisis

    try:
        more = compile_crisis(case, source)[1]
    except (LookupError, ValueError, TypeError, ArithmeticError):
        return problems
    said = {p.field for p in problems}
    return sorted(problems + [p for p in more if p.field not in said], key=lambda p: p.line)


def with_pace(compiled: CompiledCase, pace: str) -> CompiledCase:
    """The compiled case run at another pace (what the case would be with `pace:` written in
    its crisis section; compile/pace.py). Raises PaceError for a pace that cannot be read."""
    import dataclasses

    from .pace import inertia, pace_shares

    plan = compiled.crisis
    assert plan is not None and compiled.case.as_of is not None
    changed = dataclasses.replace(
        plan,
        shares=pace_shares(compiled.case.as_of, plan.dates, pace),
        pace=pace,
        inertia=inertia(pace) or 0.0,
    )
    return dataclasses.replace(compiled, crisis=changed)


def with_odds_factor(compiled: CompiledCase, factor: float) -> CompiledCase:
    """The compiled case run with another odds factor (as if its crisis section stated it;
    compile/calibration.py)."""
    import dataclasses

    plan = compiled.crisis
    assert plan is not None
    return dataclasses.replace(compiled, crisis=dataclasses.replace(plan, odds_factor=factor))
