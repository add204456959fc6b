"""Benchmark of the workspace's what-if slider, warm: the server time (the `seconds` the API
reports) of a what-if on the flagship case at 500 and at 5,000 draws, once its baseline is kept
and its case compiled, each a different value of one knob (so no answer is reused). Targets: 150 ms
at 500 draws and 600 ms at 5,000.

The reference measured in the same run is the same workspace with its draws in the server's own
process (`Limits(processes=1)`): what the warm worker processes save.

Run: .venv/bin/python benchmarks/bench_whatif.py [REPEATS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from standoff.web import create_app
from standoff.web.runs import Limits

CASE = "us-dprk-2018"
KNOB = "param:summit_rate"


def knob(client: TestClient) -> tuple[str, float]:
    """A knob of the case and its value as written."""
    knobs = {k["key"]: k for k in client.get(f"/api/cases/{CASE}/knobs").json()}
    key = KNOB if KNOB in knobs else next(iter(knobs))
    return key, float(knobs[key]["value"])


def seconds(client: TestClient, draws: int, repeats: int) -> list[float]:
    key, value = knob(client)
    client.post("/api/whatif", json={"case": CASE, "draws": draws})  # the baseline, kept
    times = []
    for n in range(repeats + 1):
        moved = value * (1 + 0.01 * (n + 1))
        answer = client.post(
            "/api/whatif", json={"case": CASE, "draws": draws, "set": {key: moved}}
        )
        if answer.status_code != 200:
            raise SystemExit(answer.text)
        if n:  # the first warms the worker processes
            times.append(float(answer.json()["seconds"]))
    return times


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as folder:
        rows = {}
        for name, processes in (("warm worker processes", None), ("in the server", 1)):
            limits = Limits() if processes is None else Limits(processes=processes)
            app = create_app(Path(folder), str(Path(folder) / "ledger.sqlite"), limits=limits)
            with TestClient(app) as client:
                rows[name] = {d: seconds(client, d, repeats) for d in (500, 5_000)}
    for name, by_draws in rows.items():
        for draws, times in by_draws.items():
            ms = [t * 1000 for t in times]
            print(
                f"what-if, {draws:,} draws, {name}: median {statistics.median(ms):.0f} ms "
                f"(min {min(ms):.0f}, max {max(ms):.0f}; {len(ms)} runs)"
            )


if __name__ == "__main__":
    main()
