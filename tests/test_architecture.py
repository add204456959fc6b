"""The shape of the package (docs/architecture.md): no module imports, directly or through others,
a module that imports it (imports inside functions count: they run too); the stages (the
package's top-level packages and modules) import only downward, on at most 8 floors; no module
over 600 lines and no function over 120."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "standoff"
MOST_LINES = 600
MOST_FUNCTION_LINES = 120
MOST_FLOORS = 8
# a numba kernel kept whole: split into inlined helpers it compiles to slower code
LONG_FUNCTIONS = {("bargaining/eum/kernel.py", "round_kernel")}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import x` and `from .m import f`: a submodule where there is one
            targets = [f"{module}.{a.name}" for a in node.names] + [module]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_finder_sees_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it() -> None:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    # a package imports its own modules to offer them; that is not a circle through them
    graph = {n: {m for m in deps if not m.startswith(n + ".")} for n, deps in graph.items()}
    assert circles(graph) == []


def stages() -> dict[str, set[str]]:
    """The stages (top-level packages and modules of the package; `standoff` for its own
    `__init__`) and the other stages each imports."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        stage = name.split(".")[1] if "." in name else name
        graph.setdefault(stage, set())
        for target in imports(name, path, known):
            other = target.split(".")[1] if "." in target else target
            if other != stage:
                graph[stage].add(other)
    return graph


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each stage's floor: 1 for one that imports no other stage, else one above the highest it
    imports (the graph has no circle)."""
    out: dict[str, int] = {}

    def floor(v: str) -> int:
        if v not in out:
            out[v] = 1 + max((floor(w) for w in graph[v]), default=0)
        return out[v]

    for v in graph:
        floor(v)
    return out


def test_floors_count_up_from_the_leaves() -> None:
    assert floors({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == {"a": 3, "b": 2, "c": 1}


def test_the_stages_import_only_downward() -> None:
    graph = stages()
    assert {"case", "compile", "simulate", "pipeline", "report", "service", "cli"} <= set(graph)
    assert circles(graph) == []
    levels = floors(graph)
    assert max(levels.values()) <= MOST_FLOORS, sorted(levels.items(), key=lambda kv: kv[1])
    # the executor knows nothing of the domain; the case knows nothing of what runs it
    assert graph["run"] == set()
    assert graph["case"] <= {"controlchars", "errors", "outside", "suggest"}


def test_modules_and_functions_stay_small() -> None:
    long_files, long_functions = [], []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE).as_posix()
        if text.count("\n") > MOST_LINES:
            long_files.append(where)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > MOST_FUNCTION_LINES and (where, node.name) not in LONG_FUNCTIONS:
                    long_functions.append(f"{where}:{node.name} ({size} lines)")
    assert long_files == [] and long_functions == []
