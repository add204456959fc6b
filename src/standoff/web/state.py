"""What every request of one workspace app shares (`State`) and how a route finds it
(`state_of`): below the app, its API and its pages, which all import it."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ..compile import CompiledCase, load_yaml
from ..errors import CaseError
from .ledger import Ledger
from .runs import Jobs, Limits
from .workspace import Workspace


@dataclass
class State:
    """What every request of one app shares: the workspace, the bounds, the ledger, the pools of
    work, the templates, and caches of compiled cases (by text, and by file: a file is compiled
    again only when its size, times or inode change)."""

    workspace: Workspace
    limits: Limits
    ledger: Ledger
    jobs: Jobs
    templates: Jinja2Templates
    compiled: OrderedDict[str, CompiledCase] = field(default_factory=OrderedDict)
    baselines: OrderedDict[tuple[str, int, int], dict[str, float]] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: OrderedDict[tuple[Any, ...], tuple[Any, CompiledCase | CaseError]] = field(
        default_factory=OrderedDict
    )

    def __post_init__(self) -> None:
        from markupsafe import Markup

        from .workspace import visible

        def shown(value: Any) -> Any:
            # a lone surrogate (from a YAML escape, a file name) cannot be sent as UTF-8
            if isinstance(value, Markup):
                return Markup(visible(str(value)))
            return visible(value) if isinstance(value, str) else value

        self.templates.env.finalize = shown
        self.ledger.wait = self.limits.ledger_seconds

    def compile(self, text: str, file: str) -> CompiledCase:
        """The compiled case of a YAML text (kept for the latest 32 texts). Raises CaseError,
        also for a text whose YAML escapes make a lone surrogate (which no page or JSON could
        carry)."""
        from .workspace import surrogate_problems

        key = hashlib.sha256(f"{file}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
        with self.lock:
            if key in self.compiled:
                self.compiled.move_to_end(key)
                return self.compiled[key]
        problems = surrogate_problems(text, file)
        if problems:
            raise CaseError(problems)
        compiled = load_yaml(text, file)
        with self.lock:
            self.compiled[key] = compiled
            while len(self.compiled) > 32:
                self.compiled.popitem(last=False)
        return compiled

    def open(self, ident: str) -> tuple[Any, CompiledCase]:
        """A workspace case's text (`workspace.CaseText`) and its compiled case, kept for the
        latest 64 files by their identity, so a file is read and compiled again only when it has
        changed. Raises WorkspaceError (a file over MAX_CASE_BYTES without reading it) or
        CaseError."""
        found, stamp = self.workspace.stamp(ident)
        key: tuple[Any, ...] = (str(found.path), *stamp)
        with self.lock:
            kept = self.files.get(key)
            if kept is not None:
                self.files.move_to_end(key)
        if kept is None:
            read = self.workspace.read_text(ident)
            try:
                outcome: CompiledCase | CaseError = self.compile(read.text, found.path.name)
            except CaseError as e:
                outcome = e
            kept = (read, outcome)
            with self.lock:
                self.files[(str(found.path), *read.stamp)] = kept
                while len(self.files) > 64:
                    self.files.popitem(last=False)
        read, outcome = kept
        if isinstance(outcome, CaseError):
            raise outcome
        return read, outcome


def state_of(request: Request) -> State:
    """The app's shared state."""
    state: State = request.app.state.standoff
    return state
