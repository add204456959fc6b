"""Read YAML safely, keeping the line of every value so that errors can point at it.

The file is composed into nodes (no Python objects are built by PyYAML beyond plain scalars), then
turned into dicts, lists and scalars here. Aliases are allowed, but the size of the document with
every alias expanded is computed first (memoised per node, so it costs the size of the text) and a
document that would expand past MAX_NODES is rejected without being expanded: a "billion laughs"
file fails in microseconds.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import CaseError, Problem

MAX_NODES = 200_000
DEEP = "nested too deeply; not a case file"
Path = tuple[str | int, ...]


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def _expanded_size(root: yaml.Node) -> int:
    """Number of nodes once every alias is expanded, without expanding anything."""
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:  # a recursive alias: infinite
            return MAX_NODES + 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item)
                if total > MAX_NODES:
                    break
        active.discard(key)
        memo[key] = total
        return total

    return size(root)


def read_yaml(text: str, file: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text. Returns the data and a map from each value's path to its 1-based line;
    mapping keys are recorded under the path plus the marker "<key>" as the last element."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        problem = err.problem or err.context or "invalid YAML"
        if err.problem and err.context and err.context_mark and err.context_mark.line + 1 != line:
            problem += f" ({err.context} from line {err.context_mark.line + 1})"
        raise CaseError([Problem(file, line, "(yaml)", f"YAML syntax error: {problem}")]) from None
    except RecursionError:
        raise CaseError([Problem(file, 1, "(yaml)", DEEP)]) from None
    except yaml.YAMLError as err:
        raise CaseError([Problem(file, 1, "(yaml)", f"YAML error: {err}")]) from None
    if root is None:
        raise CaseError([Problem(file, 1, "(file)", "the file is empty")])
    try:
        too_big = _expanded_size(root) > MAX_NODES
    except RecursionError:
        raise CaseError([Problem(file, 1, "(yaml)", DEEP)]) from None
    if too_big:
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
    lines: dict[Path, int] = {}
    problems: list[Problem] = []
    constructor = _Constructor()

    def build(node: yaml.Node, path: Path) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
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
                key = build(key_node, (*path, "<key>"))
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
                out[key] = build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(node.value)]
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

    data = build(root, ())
    if problems:
        raise CaseError(problems)
    return data, lines


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
