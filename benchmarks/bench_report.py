"""Benchmark of the analyst's report for the flagship case with the default settings (10,000
draws; Morris with 10 trajectories x 64 replicates). Target: under 60 s on a 2-core machine.

The reference measured in the same run is the forecast alone (the same draws, no sensitivity and no
report), so the figure shows what the report adds.

Run: .venv/bin/python benchmarks/bench_report.py [CASE]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from typer.testing import CliRunner

from standoff.cli import app


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return elapsed


def main() -> None:
    case = sys.argv[1] if len(sys.argv) > 1 else "us-dprk-2018"
    timed(["forecast", case, "--draws", "200"])  # warm-up: imports, compiled kernels
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.html"
        forecast_only = timed(["forecast", case])
        with_report = timed(["forecast", case, "--report", str(report)])
        size = report.stat().st_size
    print(f"{case}: forecast alone (10,000 draws): {forecast_only:.1f} s")
    print(f"{case}: forecast with the report (defaults): {with_report:.1f} s "
          f"({size / 1e3:.0f} kB of HTML); target under 60 s: "
          f"{'met' if with_report < 60 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
