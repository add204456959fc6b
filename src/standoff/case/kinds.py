"""What a YAML file handed to `standoff check` is, and the case it belongs to.

Three kinds of file are written by hand: a case (docs/cases.md), an observation file
(docs/observations.md) and a resolution file (docs/backtests.md). `file_kind` tells them apart by
their top-level keys: `events` marks observations; `resolved`, `scenario`, `scenario_order` or
`questions` written as a mapping mark resolutions; the keys of a case (`id`, `actors`, `issues`,
`crisis`, ...) or `questions` written as a list mark a case. Where the keys do not tell (an empty
file, one YAML cannot read), the folder does: a file in a folder named `observations` or
`resolutions` is of that kind, any other a case.

`case_of` finds the case an observation or resolution file is of: the one named with `--case`,
else the file's `case:` key (a case file `ID.yaml` in the folder above the file's, or a built-in
case), else the library's layout, `.../observations/ID.yaml` or `.../resolutions/ID.yaml` beside
`.../ID.yaml`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import CaseError
from .yamlread import MAX_BYTES, read_yaml

CASE = "case"
OBSERVATIONS = "observations"
RESOLUTIONS = "resolutions"

_OBSERVATION_KEYS = {"events"}
_RESOLUTION_KEYS = {"resolved", "scenario", "scenario_order"}
_SHARED = {"as_of", "questions", "source", "note", "case"}  # keys more than one kind has


def _top_level(path: Path) -> dict[str, Any] | None:
    """The file's top-level mapping, or None where it cannot be read as one."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        data, _ = read_yaml(path.read_text(encoding="utf-8-sig"), str(path))
    except (CaseError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def file_kind(path: Path) -> str:
    """CASE, OBSERVATIONS or RESOLUTIONS (see the module's docstring). A CSV table is a case."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return CASE
    from .schema import Case

    data = _top_level(path)
    if data is not None:
        keys = {str(k) for k in data}
        questions = data.get("questions")
        case_keys = set(Case.model_fields) - _SHARED
        scores = {
            CASE: len(keys & case_keys) + isinstance(questions, list),
            OBSERVATIONS: len(keys & _OBSERVATION_KEYS),
            RESOLUTIONS: len(keys & _RESOLUTION_KEYS) + isinstance(questions, dict),
        }
        best = max(scores.values())
        found = [kind for kind, score in scores.items() if score == best]
        if best > 0 and len(found) == 1:
            return found[0]
    folder = path.parent.name.lower()
    return folder if folder in (OBSERVATIONS, RESOLUTIONS) else CASE


def case_of(path: Path, given: str | None) -> tuple[str | None, str]:
    """The case an observation or resolution file is of, as a reference `standoff.compile.load`
    takes (None when none is found), and how it was found, in words."""
    if given is not None:
        return given, "from --case"
    data = _top_level(path) or {}
    named = data.get("case")
    if isinstance(named, str) and named.strip():
        beside = path.parent.parent / f"{named}.yaml"
        if beside.is_file():
            return str(beside), f"found by its case: key, {beside}"
        from .loader import builtin_cases

        if named in builtin_cases():
            return named, "found by its case: key, a built-in case"
    if path.parent.name.lower() in (OBSERVATIONS, RESOLUTIONS):
        beside = path.parent.parent / path.name
        if beside.is_file():
            return str(beside), f"found beside its folder, {beside}"
    return None, ""
