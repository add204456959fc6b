"""A bounded load test of the what-if route: 50 requests at once on a loopback server, each a
small what-if with its own slider value. Every one must succeed; the 95th-percentile latency is
printed (run with -s to see it). The test stops by itself: each request has a timeout and the
whole run a deadline."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from standoff.case import builtin_cases

from .webserver import serving

REQUESTS = 50
DRAWS = 200
DEADLINE = 60.0  # seconds for the whole burst


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    from standoff.web import create_app

    shutil.copy(builtin_cases()["cuba-1962"], tmp_path / "mine.yaml")
    app = create_app(tmp_path, str(tmp_path / "ledger.sqlite"), builtins=False)
    with serving(app) as base:
        yield base


async def burst(base: str) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base, timeout=DEADLINE, limits=limits) as client:

        async def one(n: int) -> None:
            body = {"case": "mine", "draws": DRAWS, "seed": 7,
                    "set": {"param:strike_rate": 0.05 + 0.01 * n}}  # fmt: skip
            began = time.perf_counter()
            try:
                response = await client.post("/api/whatif", json=body)
            except httpx.HTTPError as e:
                errors.append(f"request {n}: {type(e).__name__}: {e}")
                return
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200 or not response.json().get("items"):
                errors.append(f"request {n}: {response.status_code} {response.text[:200]}")

        await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(REQUESTS))), DEADLINE)
    return latencies, errors


def test_fifty_concurrent_whatifs(server: str) -> None:
    httpx.post(server + "/api/whatif", json={"case": "mine", "draws": DRAWS, "seed": 7}, timeout=60)
    began = time.perf_counter()
    latencies, errors = asyncio.run(burst(server))
    wall = time.perf_counter() - began
    assert errors == []
    assert len(latencies) == REQUESTS
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(
        f"\n{REQUESTS} concurrent what-ifs ({DRAWS} draws each): p50 {p50:.2f} s, "
        f"p95 {p95:.2f} s, max {ordered[-1]:.2f} s, all done in {wall:.2f} s"
    )


def test_a_long_run_does_not_block_other_requests(server: str) -> None:
    async def both() -> tuple[float, bool]:
        async with httpx.AsyncClient(base_url=server, timeout=DEADLINE) as client:
            long = asyncio.create_task(
                client.post("/api/forecast", json={"case": "mine", "draws": 20_000, "seed": 1})
            )
            await asyncio.sleep(0.3)  # the run has started
            began = time.perf_counter()
            quick = await client.get("/api/cases")
            waited = time.perf_counter() - began
            assert quick.status_code == 200
            still_running = not long.done()
            assert (await long).status_code == 200
            return waited, still_running

    waited, still_running = asyncio.run(asyncio.wait_for(both(), DEADLINE))
    print(f"\na request during a 20,000-draw forecast answered in {waited:.3f} s")
    assert still_running and waited < 5.0
