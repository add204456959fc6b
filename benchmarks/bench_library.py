"""Benchmark of scoring the library of history, as a user runs it: `standoff library score` over
every built-in and library case (each case forecast as it is, with its model terms recorded, and
with them frozen), one whole process, against the numpy reference of bench_commands.py (twenty
products of an 800 x 800 matrix, a whole process) timed in the same run, before and after.

| command | target |
|---|---|
| `standoff library score --draws 10000` (19 cases, 10,000 draws each) | 2 minutes |

The library's own default is 4,000 draws (`--draws 4000` times that).

Run: .venv/bin/python benchmarks/bench_library.py [--draws N] (`make bench` runs it with the
others)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_commands import REFERENCE, standoff

TARGET_S = 120.0


def wall(argv: list[str]) -> float:
    """One whole-process run's wall seconds; a failed run stops the benchmark with its stderr."""
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    args = parser.parse_args()
    reference = [sys.executable, "-c", REFERENCE]
    before = wall(reference)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "scores.json"
        seconds = wall([*standoff(), "library", "score", "--draws", str(args.draws),
                        "--json", str(out)])  # fmt: skip
    after = wall(reference)
    ref = (before + after) / 2
    verdict = "met" if seconds <= TARGET_S else "missed"
    print(f"standoff library score --draws {args.draws:,}: {seconds:.1f} s "
          f"({seconds / ref:.0f}x the reference, {ref:.2f} s: before {before:.2f} s, after "
          f"{after:.2f} s); target {TARGET_S:.0f} s: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
