"""Load a case from a built-in id, a YAML file, a KTAB CSV or a BDM CSV, or fail with clear
problems."""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import CaseError, Problem
from .bdm import is_bdm, read_bdm
from .checks import check_case
from .csvread import rows_with_lines
from .ktab import is_ktab, read_ktab
from .schema import Case, Strict
from .source import SourceMap
from .yamlread import Path as KeyPath
from .yamlread import dotted, line_of, read_yaml

MAX_BYTES = 5_000_000


def builtin_dir() -> Path:
    """Where the built-in cases live: inside an installed wheel, or the repository's cases/."""
    packaged = resources.files("standoff") / "_cases"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "cases"


def builtin_cases() -> dict[str, Path]:
    folder = builtin_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def load_case(ref: str | Path) -> Case:
    """A case from a built-in id or a file, its structure and references checked. Raises CaseError
    listing every problem found. The crisis section is compiled (and its formulas checked) by the
    next stage, `standoff.compile.compile_case`; `standoff.compile.load` does both."""
    return read_case(ref)[0]


def read_case(ref: str | Path) -> tuple[Case, SourceMap]:
    """A case and where it came from (file, bytes, lines). Raises CaseError."""
    path = Path(ref)
    try:
        exists = path.exists()
    except (OSError, ValueError) as e:  # a name too long for the file system, a NUL byte
        raise CaseError([Problem(str(ref)[:200], 1, "(file)", f"cannot open: {e}"[:300])]) from None
    if not exists:
        builtins = builtin_cases()
        if str(ref) in builtins:
            path = ref = builtins[str(ref)]
        else:
            hint = f"; built-in cases: {', '.join(builtins)}" if builtins else ""
            raise CaseError(
                [Problem(str(ref), 1, "(file)", f"no such file or built-in case{hint}")]
            )
    file = str(ref)
    if path.is_dir():
        raise CaseError([Problem(file, 1, "(file)", "is a directory, not a case file")])
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CaseError([Problem(file, 1, "(file)", f"cannot read: {e.strerror or e}")]) from None
    if len(raw) > MAX_BYTES:
        raise CaseError(
            [
                Problem(
                    file, 1, "(file)", f"larger than {MAX_BYTES // 1_000_000} MB; not a case file"
                )
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CaseError(
            [Problem(file, 1, "(file)", "not a text file: expected YAML or CSV")]
        ) from None
    if "\x00" in text:
        raise CaseError([Problem(file, 1, "(file)", "not a text file: expected YAML or CSV")])
    if not text.strip():
        raise CaseError([Problem(file, 1, "(file)", "the file is empty")])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        case, source = read_csv_text(text, file)
        return case, SourceMap(file, source.lines, raw)
    if suffix in (".yaml", ".yml"):
        case, source = read_yaml_text(text, file)
        return case, SourceMap(file, source.lines, raw)
    raise CaseError(
        [
            Problem(
                file,
                1,
                "(file)",
                f"unknown file type {suffix or '(none)'!r}: "
                "expected a .yaml/.yml case or a .csv table",
            )
        ]
    )


def read_csv_text(text: str, file: str) -> tuple[Case, SourceMap]:
    rows = rows_with_lines(text, file)
    if not rows:
        raise CaseError([Problem(file, 1, "(file)", "the file is empty")])
    if is_bdm(rows):
        data = read_bdm(rows, file)
    elif is_ktab(rows):
        data = read_ktab(rows, file)
    else:
        raise CaseError(
            [
                Problem(
                    file,
                    rows[0][0],
                    "(file)",
                    "not a recognised CSV: expected a BDM table (header Actor,Capability,"
                    "Position,Salience) or KTAB's format (scenario line, then Actor,Description,"
                    "Power,... header)",
                )
            ]
        )
    data["id"] = Path(file).stem
    return _validate(data, {}, file)


def read_yaml_text(text: str, file: str) -> tuple[Case, SourceMap]:
    data, lines = read_yaml(text, file)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        raise CaseError(
            [
                Problem(
                    file,
                    1,
                    "(top level)",
                    f"the top level must be a mapping with id, issues and actors; found {kind}",
                )
            ]
        )
    return _validate(data, lines, file)


def _validate(data: dict[str, Any], lines: dict[KeyPath, int], file: str) -> tuple[Case, SourceMap]:
    try:
        case = Case.model_validate(data)
    except ValidationError as err:
        raise CaseError(_pydantic_problems(err, lines, file)) from None
    problems = check_case(case, file, lines)
    if problems:
        raise CaseError(problems)
    return case, SourceMap(file, lines)


def _field_names() -> list[str]:
    names: set[str] = set()
    stack: list[type[Strict]] = [Case]
    seen: set[type] = set()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        names.update(model.model_fields)
        stack.extend(sub for sub in Strict.__subclasses__() if sub not in seen)
    return sorted(names)


def _pydantic_problems(err: ValidationError, lines: dict[KeyPath, int], file: str) -> list[Problem]:
    problems: list[Problem] = []
    for e in err.errors(include_url=False):
        loc: KeyPath = tuple(
            p for p in e["loc"] if not (isinstance(p, str) and p.endswith("[key]"))
        )
        kind = e["type"]
        message = str(e["msg"]).removeprefix("Value error, ")
        line = line_of(lines, loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            close = difflib.get_close_matches(key, _field_names(), n=1)
            message = f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            line = lines.get((*loc, "<key>"), line)
        elif kind == "missing":
            message = "required field is missing"
        problems.append(Problem(file, line, dotted(loc), message))
    problems.sort(key=lambda p: p.line)
    return problems


def load_yaml_text(text: str, file: str) -> Case:
    """A case from YAML text, its structure and references checked (no crisis compile)."""
    return read_yaml_text(text, file)[0]


def load_csv_text(text: str, file: str) -> Case:
    """A case from a KTAB or BDM table's text."""
    return read_csv_text(text, file)[0]
