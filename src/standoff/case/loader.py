"""Load a case from a built-in id, a YAML file, a KTAB CSV or a BDM CSV, or fail with clear
problems."""

from __future__ import annotations

import difflib
import re
import types
import typing
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


class ChecksFailed(CaseError):
    """A case that read and validated but failed its checks: the problems, with the case and its
    source map, so that the compile stage can add the problems its crisis section would meet
    (`compile.load` reports them in one pass)."""

    def __init__(self, problems: list[Problem], case: Case, source: SourceMap):
        super().__init__(problems)
        self.case, self.source = case, source


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


def example_cases() -> dict[str, Path]:
    """The example cases (`examples/` among the built-in ones), by file name: each shows a feature
    on a variant of a built-in case and is run by its file; they are not built-in cases (not
    loaded by id, not pinned, not offered by the web workspace)."""
    folder = builtin_dir() / "examples"
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
    return _validate(data, _csv_lines(data, rows), file)


def _csv_lines(data: dict[str, Any], rows: list[tuple[int, list[str]]]) -> dict[KeyPath, int]:
    """The line of each actor's row of a table (its first cell is the actor's id), so that a
    problem found after reading (an id with a control character) names the row."""
    first: dict[str, int] = {}
    for line, fields in rows:
        if fields:
            first.setdefault(fields[0], line)
    lines: dict[KeyPath, int] = {}
    for i, actor in enumerate(data.get("actors") or []):
        found = first.get(str(actor.get("id"))) if isinstance(actor, dict) else None
        if found is not None:
            lines[("actors", i)] = found
    return lines


def read_yaml_text(text: str, file: str) -> tuple[Case, SourceMap]:
    typed: dict[KeyPath, str] = {}
    data, lines = read_yaml(text, file, typed)
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
    return _validate(data, lines, file, typed)


def _validate(
    data: dict[str, Any],
    lines: dict[KeyPath, int],
    file: str,
    typed: dict[KeyPath, str] | None = None,
) -> tuple[Case, SourceMap]:
    crisis = data.get("crisis")
    if isinstance(crisis, dict) and isinstance(crisis.get("parameters"), dict):
        if any(isinstance(v, dict) and "base_rate" in v for v in crisis["parameters"].values()):
            from .reference_class import resolve_base_rates  # a parameter from a base rate

            resolve_base_rates(data, lines, file)
    split, explained = _split_flow(data, lines, file)
    try:
        case = Case.model_validate(data)
    except ValidationError as err:
        found = _pydantic_problems(err, lines, file, data, typed or {})
        found = [p for p in found if p.field not in explained]
        raise CaseError(sorted(split + found, key=lambda p: p.line)) from None
    if split:
        raise CaseError(split)
    problems = check_case(case, file, lines)
    if problems:
        raise ChecksFailed(problems, case, SourceMap(file, lines))
    return case, SourceMap(file, lines)


def _models(annotation: Any) -> list[Any]:
    """The types a field's annotation may hold a value of, unwrapped from Optional, unions and
    Annotated."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(args[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in args for m in _models(arg)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> list[Any]:
    """The types reached from a value of type `annotation` by one step of a location: a field of
    a model, an item of a list, a value of a mapping."""
    out: list[Any] = []
    for kind in _models(annotation):
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if isinstance(kind, type) and issubclass(kind, Strict):
            field = kind.model_fields.get(str(part))
            if field is not None:
                out.append(field.annotation)
        elif origin in (list, tuple) and args and isinstance(part, int):
            out.append(args[0])
        elif origin is dict and len(args) == 2:
            out.append(args[1])
    return out


def _keys_at(loc: tuple[Any, ...]) -> list[str]:
    """The keys a mapping at location `loc` of a case may hold (empty when unknown)."""
    kinds: list[Any] = [Case]
    for part in loc:
        kinds = [reached for kind in kinds for reached in _step(kind, part)]
    keys: list[str] = []
    for kind in kinds:
        for model in _models(kind):
            if isinstance(model, type) and issubclass(model, Strict):
                keys += [k for k in model.model_fields if k not in keys]
    return keys


def _homes(key: str) -> list[str]:
    """Where in a case the key `key` belongs (`crisis`, `actors[].stances`), by the sections
    whose mappings hold it."""
    out: list[str] = []
    stack: list[tuple[Any, str]] = [(Case, "")]
    seen: set[Any] = set()
    while stack:
        kind, where = stack.pop(0)
        for model in _models(kind):
            origin, args = typing.get_origin(model), typing.get_args(model)
            if isinstance(model, type) and issubclass(model, Strict):
                if model in seen:
                    continue
                seen.add(model)
                if key in model.model_fields and where:
                    out.append(where)
                for name, field in model.model_fields.items():
                    stack.append((field.annotation, f"{where}.{name}" if where else name))
            elif origin in (list, tuple) and args:
                stack.append((args[0], f"{where}[]"))
            elif origin is dict and len(args) == 2:
                stack.append((args[1], f"{where}.ID"))
    return out


def _unknown_key(key: str, at: tuple[Any, ...]) -> str:
    """`unknown key 'horizn' (did you mean 'horizon'?)`: the closest key allowed where it was
    written (never the key itself), else where the key belongs, else the keys allowed there."""
    allowed = _keys_at(at)
    message = f"unknown key {key!r}"
    close = [k for k in difflib.get_close_matches(key, allowed, n=2) if k != key]
    homes = _homes(key)
    belongs = f"{key!r} belongs under {' or '.join(homes[:2])}" if homes else ""
    if close:
        return message + f" (did you mean {close[0]!r}?{' ' + belongs if belongs else ''})"
    if belongs:
        return message + f" here; {belongs}"
    return message + (f" (keys here: {', '.join(allowed)})" if allowed else "")


# pydantic's names for the parts of a type it tried (`function-after[...]`, `constrained-str`,
# `float`, `lax-or-strict[...]`): steps of an error's location that are not the user's keys
_INTERNAL = re.compile(
    r"^(?:[a-z]+(?:-[a-z]+)*\[.*\]|[a-z]+-[a-z-]+|str|float|int|bool|date|none)$"
)

# what a field expected, by pydantic's error type, in the user's words
_EXPECTED = {
    "string_type": "text",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "list_type": "a list",
    "tuple_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "none_required": "nothing",
}

_CALL_START = re.compile(r"^\s*[a-z]+\s*\([^)]*$")  # `normal(50` : a distribution cut at a comma
_CALL_REST = re.compile(r"^\s*[-+.\deE\s]*\)?\s*$")  # `10)` or `5` : the rest of it


def _clean_loc(loc: tuple[Any, ...], data: Any) -> KeyPath:
    """The location as the user wrote it: the steps through the data, less pydantic's names for
    the parts of a type."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(part, str) and part.endswith("[key]"):
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
            if isinstance(part, str) and _INTERNAL.match(part):
                continue
        out.append(part)
    return tuple(out)


def _typed_note(text: str) -> str:
    low = text.lower()
    if low in ("yes", "no", "on", "off", "true", "false", "y", "n"):
        return f"{text} is read as a boolean; quote it: '{text}'"
    if low in ("~", "null", ""):
        return f"{text or 'an empty value'} is read as null (no value); write the text"
    if re.match(r"^\d{4}-\d\d-\d\d", text):
        return f"{text} is read as a date; quote it: '{text}'"
    return f"{text} is read as a number; quote it: '{text}'"


def _split_flow(
    data: Any, lines: dict[KeyPath, int], file: str, path: KeyPath = ()
) -> tuple[list[Problem], set[str]]:
    """Distributions inside `{ }` that YAML split at their commas: `{position: normal(50, 10)}`
    reads as position 'normal(50' and a key '10)'. One problem each, and the fields explained."""
    problems: list[Problem] = []
    explained: set[str] = set()
    if isinstance(data, list):
        for i, item in enumerate(data):
            p, e = _split_flow(item, lines, file, (*path, i))
            problems += p
            explained |= e
        return problems, explained
    if not isinstance(data, dict):
        return problems, explained
    keys = list(data)
    for k, key in enumerate(keys):
        value = data[key]
        if isinstance(value, str) and _CALL_START.match(value):
            rest: list[str] = []
            for stray in keys[k + 1 :]:
                if data[stray] is not None or not _CALL_REST.match(stray):
                    break
                rest.append(stray)
                if stray.strip().endswith(")"):
                    break
            if not rest:
                continue
            whole = ", ".join([value.strip(), *(r.strip() for r in rest)])
            problems.append(
                Problem(
                    file,
                    line_of(lines, (*path, key)),
                    dotted((*path, key)),
                    f"YAML split {whole!r} at its comma{'s' if len(rest) > 1 else ''} "
                    f"inside {{ }}; quote it: {key}: '{whole}'",
                )
            )
            explained.add(dotted((*path, key)))
            explained.update(dotted((*path, r)) for r in rest)
        else:
            p, e = _split_flow(value, lines, file, (*path, key))
            problems += p
            explained |= e
    return problems, explained


def _shown(value: object) -> str:
    """A value a user wrote, short, for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _pydantic_problems(
    err: ValidationError,
    lines: dict[KeyPath, int],
    file: str,
    data: Any = None,
    typed: dict[KeyPath, str] | None = None,
) -> list[Problem]:
    typed = typed or {}
    expected: dict[KeyPath, list[str]] = {}  # one problem per place, its alternatives joined
    problems: list[Problem] = []
    for e in err.errors(include_url=False):
        loc = _clean_loc(e["loc"], data)
        kind = e["type"]
        message = str(e["msg"]).removeprefix("Value error, ")
        line = line_of(lines, loc)
        if kind == "extra_forbidden":
            message = _unknown_key(str(loc[-1]), loc[:-1])
            line = lines.get((*loc, "<key>"), line)
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "literal_error":
            choices = str((e.get("ctx") or {}).get("expected", ""))
            message = f"{_shown(e.get('input'))} is not a choice here; write {choices}"
        elif kind in _EXPECTED:
            if loc in expected:
                if _EXPECTED[kind] not in expected[loc]:
                    expected[loc].append(_EXPECTED[kind])
                continue
            expected[loc] = [_EXPECTED[kind]]
            message = ""  # filled in below, once every alternative is known
        problems.append(Problem(file, line, dotted(loc), message))
    out: list[Problem] = []
    for p in problems:
        if p.message:
            out.append(p)
            continue
        loc = next(k for k in expected if dotted(k) == p.field)
        message = f"expected {' or '.join(expected[loc])}"
        if loc in typed and "text" in expected[loc]:
            message += f"; {_typed_note(typed[loc])}"
        out.append(Problem(p.file, p.line, p.field, message))
    out.sort(key=lambda p: p.line)
    return out


def load_yaml_text(text: str, file: str) -> Case:
    """A case from YAML text, its structure and references checked (no crisis compile)."""
    return read_yaml_text(text, file)[0]


def load_csv_text(text: str, file: str) -> Case:
    """A case from a KTAB or BDM table's text."""
    return read_csv_text(text, file)[0]
