"""Benchmark of whole `standoff` commands as a user runs them: each command is a fresh process
(start-up, imports and loading the compiled kernels included), timed over several runs; the median
is reported, in seconds and as a ratio to a fixed numpy workload timed in the same run: `python -c
REFERENCE` (below: twenty products of an 800 x 800 matrix), a whole process too. One reference run
follows each timed run, so a machine whose speed drifts moves both. Peak memory is the largest
resident set of the command's process or of one of its worker processes (os.wait4).

| command | target |
|---|---|
| `standoff --version` | 0.5x the reference |
| `standoff settle ../shared/data/ktab/SOE-Pol-Comp.csv --model smp` | 1x |
| `standoff forecast` (the flagship, 10,000 draws) | 2x |
| `standoff forecast --draws 100000` | 10x |
| `standoff forecast --report /tmp/....html` | about 15 s |

The forecasts run on the local backend's default, a worker process per CPU, with the EUM kernel
that `make` compiled ahead of time; the same two forecasts with `--workers 1` (one process), and
with numba's JIT kernel instead (STANDOFF_NATIVE=0, as where no C compiler built the other), are
timed too, for comparison.

The settle row is skipped, with a note, when ../shared/data is missing.

Run: .venv/bin/python benchmarks/bench_commands.py [--runs N] [--slow-runs N] (`make bench` runs it
with the others)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOE = REPO.parent / "shared" / "data" / "ktab" / "SOE-Pol-Comp.csv"
REFERENCE = (
    "import numpy as np; a=np.random.default_rng(0).random((800,800)); [a@a for _ in range(20)]"
)


def standoff() -> list[str]:
    """The `standoff` command of this environment (the console script beside this Python)."""
    script = Path(sys.executable).with_name("standoff")
    if script.exists():
        return [str(script)]
    found = shutil.which("standoff")
    return [found] if found else [sys.executable, "-m", "standoff.cli"]


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """One whole-process run, with `env` added to the environment: (wall seconds, peak
    resident MiB). Output is discarded; a failed run stops the benchmark with what it wrote on
    stderr."""
    with tempfile.TemporaryFile() as stderr:
        environment = {**os.environ, **(env or {})}
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=stderr, cwd=REPO, env=environment)  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            stderr.seek(0)
            message = stderr.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{' '.join(argv)}: exit {child.returncode}\n{message}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss: KiB on Linux


@dataclass
class Row:
    label: str
    target: str
    seconds: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    note: str = ""


def measure(
    row: Row, argv: list[str], runs: int, reference: list[float], env: dict[str, str] | None
) -> None:
    for _ in range(runs):
        elapsed, peak = timed(argv, env)
        row.seconds.append(elapsed)
        row.peaks.append(peak)
        reference.append(timed([sys.executable, "-c", REFERENCE])[0])


def verdict(row: Row, median: float, ratio: float) -> str:
    if row.target == "-":  # shown for comparison
        return "-"
    if row.target.endswith("x"):
        return "met" if ratio <= float(row.target[:-1]) else "NOT met"
    limit = float(row.target.split()[-2])  # "about 15 s"
    return "met" if median <= limit else "over"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of the quick commands")
    parser.add_argument("--slow-runs", type=int, default=3, help="runs of 100k draws, report")
    args = parser.parse_args()
    cmd = standoff()
    reference: list[float] = []
    timed([*cmd, "forecast", "--draws", "200"])  # warm-up: .pyc files, cached compiled kernels
    timed([sys.executable, "-c", REFERENCE])

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.html"
        jit = {"STANDOFF_NATIVE": "0"}
        plan: list[tuple[Row, list[str] | None, int, dict[str, str] | None]] = [
            (Row("standoff --version", "0.5x"), [*cmd, "--version"], args.runs, None),
            (Row("standoff settle SOE-Pol-Comp.csv --model smp", "1x"),
             [*cmd, "settle", str(SOE), "--model", "smp"] if SOE.exists() else None,
             args.runs, None),
            (Row("standoff forecast (10,000 draws)", "2x"), [*cmd, "forecast"], args.runs, None),
            (Row("standoff forecast --workers 1 (one process)", "-"),
             [*cmd, "forecast", "--workers", "1"], args.runs, None),
            (Row("standoff forecast, JIT kernel (STANDOFF_NATIVE=0)", "-"),
             [*cmd, "forecast"], args.runs, jit),
            (Row("standoff forecast --draws 100000", "10x"),
             [*cmd, "forecast", "--draws", "100000"], args.slow_runs, None),
            (Row("standoff forecast --draws 100000 --workers 1", "-"),
             [*cmd, "forecast", "--draws", "100000", "--workers", "1"], args.slow_runs, None),
            (Row("standoff forecast --draws 100000, JIT kernel", "-"),
             [*cmd, "forecast", "--draws", "100000"], args.slow_runs, jit),
            (Row("standoff forecast --report x.html", "about 15 s"),
             [*cmd, "forecast", "--report", str(report)], args.slow_runs, None),
        ]  # fmt: skip
        for row, argv, runs, env in plan:
            rows.append(row)
            if argv is None:
                row.note = f"skipped: {SOE} not found (../shared/data beside the repo)"
                continue
            print(f"timing {row.label} ({runs} runs) ...", file=sys.stderr, flush=True)
            measure(row, argv, runs, reference, env)

    ref = statistics.median(reference)
    print(f"reference (numpy 800x800 matmul x20, whole process): median {ref:.3f} s "
          f"over {len(reference)} runs ({min(reference):.3f}-{max(reference):.3f})")  # fmt: skip
    print()
    print("| command | median s (min-max) | x reference | target | peak MiB | runs |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        if not row.seconds:
            print(f"| {row.label} | {row.note} | | {row.target} | | 0 |")
            continue
        median = statistics.median(row.seconds)
        ratio = median / ref
        spread = f"{min(row.seconds):.3f}-{max(row.seconds):.3f}"
        print(f"| {row.label} | {median:.3f} ({spread}) | {ratio:.2f}x | {row.target}: "
              f"{verdict(row, median, ratio)} | {max(row.peaks):.0f} | "
              f"{len(row.seconds)} |")  # fmt: skip


if __name__ == "__main__":
    main()
