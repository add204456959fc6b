"""The EUM round kernel compiled ahead of time, loaded without numba.

numba's just-in-time kernel (`kernel.py`) costs every new process about half a second before its
first round, even with its on-disk cache: importing numba and filling its registries. `make`
therefore also compiles the same functions once into an extension module beside this file
(`native_build.py`, with numba's ahead-of-time compiler), which a process loads in milliseconds.
The code is the same, compiled for the generic CPU of the architecture without fast-math, so
its results equal the JIT kernel's bit for bit (`tests/test_native.py`).

A stamp beside the module records the digest of the sources it was built from. Where the module
is missing, failed to build (no C compiler), was built from other sources or does not load, the
engine uses the JIT kernel instead: slower to start, the same numbers. STANDOFF_NATIVE=0 in the
environment asks for the JIT kernel even where the module is built.

The module's function holds the GIL while it runs (numba's ahead-of-time exports cannot release
it), so the engine runs it on one thread; the local backend's worker processes provide the
parallelism.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NAME = "_native"  # the extension module: _native<EXT_SUFFIX>
STAMP = NAME + ".json"  # {"digest": ..., "built": bool, "why": reason it was not built}
# the sources the module is compiled from (with the field order of equations.Step)
SOURCES = ("kernel.py", "kernel_args.py", "constants.py", "equations.py", "native_build.py")
# where the built module sits: the name the extension must have for this Python
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]

RoundFunction = Callable[..., None]


def digest(folder: Path = HERE) -> str:
    """What the module is built from: the kernel's sources, this Python and this architecture."""
    h = hashlib.sha256()
    for name in SOURCES:
        h.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    h.update(f"{sys.implementation.cache_tag} {platform.machine()} {SUFFIX}".encode())
    return h.hexdigest()


def module_path(folder: Path = HERE) -> Path:
    return folder / (NAME + SUFFIX)


def load(folder: Path = HERE, sources: Path = HERE) -> RoundFunction | None:
    """The compiled round function in `folder`, or None where it is not built, was built from
    other sources than those in `sources`, or does not load."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
        if not (isinstance(stamp, dict) and stamp.get("built") is True):
            return None
        if stamp.get("digest") != digest(sources):
            return None
        spec = importlib.util.spec_from_file_location(
            f"standoff.bargaining.eum.{NAME}", module_path(folder)
        )
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function: Any = module.round_flat
    except (OSError, ValueError, ImportError, AttributeError):
        return None
    return function


@cache
def _loaded() -> RoundFunction | None:
    return load()


def round_function() -> RoundFunction | None:
    """The ahead-of-time round function, or None: use the JIT kernel (not built, stale, or
    STANDOFF_NATIVE=0). Called with the fields of `KernelInputs`, `KernelOptions` and `Step`,
    in that order, as separate arguments."""
    if os.environ.get("STANDOFF_NATIVE", "").strip() == "0":
        return None
    return _loaded()
