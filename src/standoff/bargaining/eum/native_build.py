"""Build the ahead-of-time EUM kernel (`native.py`): `python -m
standoff.bargaining.eum.native_build`, which `make` runs when it builds the environment or the
kernel's sources change.

numba's ahead-of-time compiler (`numba.pycc`) compiles `round_flat`, a flat-argument wrapper of
`kernel.round_kernel`, and everything it calls into one extension module; it needs a C compiler
to link it. Where the build fails, the stamp says why and the engine uses the JIT kernel."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from .equations import Step
from .kernel import round_kernel
from .kernel_args import KernelInputs, KernelOptions
from .native import HERE, NAME, STAMP, digest, load, module_path

_F2 = "f8[:, ::1]"
_F3 = "f8[:, :, ::1]"
# the fields of KernelInputs, KernelOptions and Step, in order
SIGNATURE = (
    "void("
    + ", ".join(
        [_F2, _F3, _F3, _F3, _F2, _F2, _F2, _F2, _F2]  # KernelInputs
        + ["f8"] * 6  # KernelOptions: low, high, scale, same_position, Q, T
        + ["b1"] * 7  # KernelOptions: the flags
        + [_F2, _F3, _F3, "i1[:, :, ::1]", _F3, "i1[:, ::1]", _F2, _F3]  # Step
    )
    + ")"
)


def round_flat(  # type: ignore[no-untyped-def]
    x, offset, seen_weight, seen_salience, weight, salience, mu_view, mu_true, r_given,
    low, high, scale, same_position, Q, T,
    recompute_risk, neutral, vote_risk, pairwise, nearest, perceived, has_offset,
    new_position, eu_self, eu_other, code, offers, taken, risk_exponent, p_win,
):  # fmt: skip
    """`round_kernel` with its three named tuples passed field by field."""
    round_kernel(
        KernelInputs(
            x, offset, seen_weight, seen_salience, weight, salience, mu_view, mu_true, r_given
        ),
        KernelOptions(
            low,
            high,
            scale,
            same_position,
            Q,
            T,
            recompute_risk,
            neutral,
            vote_risk,
            pairwise,
            nearest,
            perceived,
            has_offset,
        ),
        Step(new_position, eu_self, eu_other, code, offers, taken, risk_exponent, p_win),
    )


def _write_stamp(folder: Path, built: bool, why: str = "") -> None:
    stamp = {"digest": digest(), "built": built, "why": why}
    part = folder / (STAMP + ".part")
    part.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    os.replace(part, folder / STAMP)


def build(folder: Path = HERE) -> Path:
    """Compile the module into `folder` and stamp it; its path. Raises where it cannot."""
    (folder / STAMP).unlink(missing_ok=True)  # no stamp vouches for a module half replaced
    with tempfile.TemporaryDirectory(prefix="standoff-native-") as work, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba.pycc's pending-deprecation notice
        from numba.pycc import CC

        cc = CC(NAME)
        cc.output_dir = work
        cc.output_file = module_path(Path(work)).name  # the name this Python imports
        cc.verbose = False
        cc.export("round_flat", SIGNATURE)(round_flat)
        cc.compile()
        built = module_path(Path(work))
        part = folder / (built.name + ".part")
        shutil.copyfile(built, part)
        os.replace(part, module_path(folder))
    _write_stamp(folder, built=True)
    if load(folder) is None:
        _write_stamp(folder, built=False, why="the built module does not load")
        raise RuntimeError("the built module does not load")
    return module_path(folder)


def main(folder: Path = HERE) -> int:
    """Build into `folder`; 0 also where the build fails (the JIT kernel then serves)."""
    start = time.perf_counter()
    try:
        path = build(folder)
    except Exception as e:  # no compiler, no linker, a read-only folder: the JIT kernel serves
        why = f"{type(e).__name__}: {e}".strip().splitlines()[0]
        why = why[: why.index(". ") + 1] if ". " in why else why  # its first sentence
        try:
            _write_stamp(folder, built=False, why=why)
        except OSError:
            pass
        print(
            f"EUM kernel not compiled ahead of time ({why}); forecasts use numba's JIT kernel,"
            " which starts about half a second slower",
            file=sys.stderr,
        )
        return 0
    print(f"EUM kernel compiled ahead of time in {time.perf_counter() - start:.1f} s: {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
