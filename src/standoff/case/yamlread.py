"""Read YAML safely, keeping the line of every value so that errors can point at it.

The file is composed into nodes (no Python objects are built by PyYAML beyond plain scalars), then
turned into dicts, lists and scalars here. Aliases are allowed, but the size of the document with
every alias expanded is computed first (memoised per node, so it costs the size of the text) and a
document that would expand past MAX_NODES is rejected without being expanded: a "billion laughs"
file fails in microseconds. So does one nested deeper than MAX_DEPTH once aliases are expanded.

YAML 1.1 reads some plain words as other types: `NO`, `yes`, `on`, `off` as booleans, `1:30` as the
base-60 number 90. A mapping key read as a boolean and a base-60 number anywhere are reported (no
case or resolution file means them); other plain values read as non-strings have their text kept
in `read_yaml`'s `typed` map, so that a later "expected a string" can say how to quote them.
"""

from __future__ import annotations

import difflib
from pathlib import Path as FilePath
from typing import Any

import yaml

from ..errors import CaseError, Problem

MAX_NODES = 200_000
MAX_BYTES = 20_000_000  # a YAML input file (resolutions, observations) larger than this is refused
MAX_DEPTH = 100  # a case file nests fewer than 20 levels
# a text with fewer lines, '[' and '{' than this (a bound on its nesting) is composed by libyaml
FAST_NESTING = 2000
DEEP = "nested too deeply; not a case file"
STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
Path = tuple[str | int, ...]


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def _expanded_size(root: yaml.Node) -> tuple[int, int]:
    """Number of nodes and depth once every alias is expanded, without expanding anything."""
    memo: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:  # a recursive alias: infinite
            return MAX_NODES + 1, MAX_DEPTH + 1
        active.add(key)
        total, depth = 1, 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        for child in children:
            n, d = size(child)
            total += n
            depth = max(depth, d + 1)
            if total > MAX_NODES or depth > MAX_DEPTH:
                break
        active.discard(key)
        memo[key] = total, depth
        return total, depth

    return size(root)


def _plain(node: yaml.Node) -> bool:
    # a plain scalar's style: None from PyYAML's Python composer, "" from libyaml's
    return isinstance(node, yaml.ScalarNode) and not node.style


def _compose(text: str) -> yaml.Node | None:
    """The document's nodes: composed by libyaml (PyYAML's C composer, about 7x faster) where it
    is available and the text cannot nest deeper than FAST_NESTING levels (it recurses in C, with
    no depth check), else by PyYAML's Python composer; both give the same nodes. A text libyaml
    rejects is composed again in Python, whose error messages are the ones reported."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None and text.count("\n") + text.count("[") + text.count("{") < FAST_NESTING:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _sexagesimal(node: yaml.Node) -> bool:
    """A plain scalar such as 1:30 that YAML 1.1 reads as a base-60 number (90)."""
    return _plain(node) and node.tag in NUMBER_TAGS and ":" in str(node.value)


INDENTATION = (
    "expected <block end>",
    "mapping values are not allowed here",
    "did not find expected key",
    "did not find expected '-' indicator",
    "could not find expected ':'",
)


def _tabbed(text: str, lines: list[int]) -> int | None:
    """The first of `lines` (1-based) indented with a tab, or None."""
    rows = text.split("\n")
    for line in lines:
        if 1 <= line <= len(rows):
            row = rows[line - 1]
            if "\t" in row[: len(row) - len(row.lstrip(" \t"))]:
                return line
    return None


def _syntax_error(err: yaml.MarkedYAMLError, text: str = "") -> tuple[int, str]:
    """The line and message of a YAML syntax error; indentation slips say so plainly, and a tab
    in the indentation of the line (or of the line above, or of the block it is in) says to
    indent with spaces."""
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark else 1
    block = err.context_mark.line + 1 if err.context_mark else None
    tab = _tabbed(text, [line, line - 1, *([block] if block is not None else [])])
    if tab is not None:
        return tab, (
            f"YAML syntax error: line {tab} is indented with a tab; YAML indents with spaces, "
            "not tabs"
        )
    problem = err.problem or err.context or "invalid YAML"
    if err.problem and err.context and block is not None and block != line:
        problem += f" ({err.context} from line {block})"
    if any(p in (err.problem or "") for p in INDENTATION) and "flow" not in (err.context or ""):
        against = f" against line {block}" if block is not None and block != line else ""
        problem = (
            f"check the indentation of line {line}{against}: keys of one mapping, and the "
            f"items of one list, must start in the same column [{err.problem}]"
        )
    return line, f"YAML syntax error: {problem}"


def read_yaml(
    text: str, file: str, typed: dict[Path, str] | None = None
) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text. Returns the data and a map from each value's path to its 1-based line;
    mapping keys are recorded under the path plus the marker "<key>" as the last element.
    `typed`, if given, receives the text of each plain value read as something other than a
    string (a boolean, a number, a date, null), by path."""
    root = _checked_root(text, file)
    builder = _Builder(file, typed)
    try:
        data = builder.build(root, ())
    except RecursionError:
        raise CaseError([Problem(file, 1, "(yaml)", DEEP)]) from None
    if builder.problems:
        raise CaseError(builder.problems)
    return data, builder.lines


def _checked_root(text: str, file: str) -> yaml.Node:
    """The text composed into nodes, its size and depth with every alias expanded checked
    before anything is built; CaseError for a syntax error, an empty file or a document too
    large or too deep."""
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as err:
        line, message = _syntax_error(err, text)
        raise CaseError([Problem(file, line, "(yaml)", message)]) from None
    except RecursionError:
        raise CaseError([Problem(file, 1, "(yaml)", DEEP)]) from None
    except yaml.YAMLError as err:
        raise CaseError([Problem(file, 1, "(yaml)", f"YAML error: {err}")]) from None
    if root is None:
        raise CaseError([Problem(file, 1, "(file)", "the file is empty")])
    try:
        nodes, depth = _expanded_size(root)
    except RecursionError:
        raise CaseError([Problem(file, 1, "(yaml)", DEEP)]) from None
    if nodes > MAX_NODES:
        raise CaseError(
            [
                Problem(
                    file,
                    root.start_mark.line + 1,
                    "(yaml)",
                    f"the document expands to more than {MAX_NODES} nodes through aliases; refused",
                )
            ]
        )
    if depth > MAX_DEPTH:
        message = f"{DEEP} (more than {MAX_DEPTH} levels once aliases are expanded)"
        raise CaseError([Problem(file, root.start_mark.line + 1, "(yaml)", message)])
    return root


class _Builder:
    """Nodes turned into dicts, lists and scalars, with the line of every value (`lines`) and
    every problem found (`problems`); `typed`, if given, receives the text of each plain value
    read as something other than a string."""

    def __init__(self, file: str, typed: dict[Path, str] | None) -> None:
        self.file, self.typed = file, typed
        self.lines: dict[Path, int] = {}
        self.problems: list[Problem] = []
        self.constructor = _Constructor()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        file, problems, lines = self.file, self.problems, self.lines
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        _dotted(path),
                        "merge keys ('<<') are not supported; write the fields out",
                    )
                )
                continue
            if _plain(key_node) and (key_node.tag == BOOL or _sexagesimal(key_node)):
                text = str(key_node.value)
                what = (
                    "a boolean (yes/no)" if key_node.tag == BOOL else "a base-60 number (YAML 1.1)"
                )
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        _dotted((*path, text)),
                        f"{text} is read as {what}; quote it: '{text}'",
                    )
                )
                continue
            key = self.build(key_node, (*path, "<key>"))
            if isinstance(key, list | dict):
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        _dotted(path),
                        "a mapping key must be a plain value",
                    )
                )
                continue
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if key in out:
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, _dotted(child), "duplicate key")
                )
            lines[(*child, "<key>")] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child)
        return out

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        file, problems, typed, constructor = self.file, self.problems, self.typed, self.constructor
        if _sexagesimal(node):
            value = constructor.construct_object(node, deep=True)
            problems.append(
                Problem(
                    file,
                    node.start_mark.line + 1,
                    _dotted(path),
                    f"{node.value} is read as the number {value:g} (YAML 1.1 base 60); "
                    f"quote it ('{node.value}') if it is text, or write the number",
                )
            )
            return None
        if typed is not None and _plain(node) and node.tag != STR and path[-1:] != ("<key>",):
            typed[path] = str(node.value)
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as err:
            problems.append(
                Problem(
                    file,
                    node.start_mark.line + 1,
                    _dotted(path),
                    f"cannot read value: {err.problem}",
                )
            )
            return None
        except (ValueError, OverflowError) as err:  # e.g. 2018-13-45, !!float abc, a 5000-digit int
            problems.append(
                Problem(
                    file,
                    node.start_mark.line + 1,
                    _dotted(path),
                    f"cannot read value {node.value[:40]!r}: {err}"[:200],
                )
            )
            return None


def _dotted(path: Path) -> str:
    """actors[0].stances.sequencing.position"""
    out = ""
    for part in path:
        if part == "<key>":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def line_of(lines: dict[Path, int], path: Path) -> int:
    """The line of the longest known prefix of path."""
    for end in range(len(path), -1, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return 1


dotted = _dotted


def read_text_file(path: FilePath) -> str:
    """The text of a small input file (UTF-8, a BOM allowed); a missing, unreadable, binary or
    oversized file is a CaseError naming it."""
    file = str(path)
    try:
        if path.is_dir():
            raise CaseError([Problem(file, 1, "(file)", "is a directory, not a file")])
        if path.stat().st_size > MAX_BYTES:
            raise CaseError([Problem(file, 1, "(file)", f"larger than {MAX_BYTES:,} bytes")])
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CaseError([Problem(file, 1, "(file)", "no such file")]) from None
    except (OSError, ValueError) as e:  # ValueError: UnicodeDecodeError, a NUL in the name
        raise CaseError([Problem(file, 1, "(file)", f"cannot read: {e}"[:300])]) from None


def unknown_keys(
    given: dict[str, Any],
    allowed: tuple[str, ...],
    at: Path,
    file: str,
    lines: dict[Path, int],
) -> list[Problem]:
    """A problem at its line for each key of the mapping `given` (at path `at`) that is not in
    `allowed`, with the closest allowed key, or all of them."""
    problems = []
    for key in given:
        if key not in allowed:
            close = [k for k in difflib.get_close_matches(str(key), allowed, n=2) if k != key]
            hint = f" (did you mean {close[0]!r}?)" if close else f" (keys: {', '.join(allowed)})"
            line = lines.get((*at, key, "<key>"), line_of(lines, (*at, key)))
            field = ".".join(str(part) for part in (*at, key))
            problems.append(Problem(file, line, field, f"unknown key {key!r}{hint}"))
    return problems
