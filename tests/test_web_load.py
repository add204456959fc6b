"""Bounded load tests on a loopback server: 50 small what-ifs at once, each with its own slider
value, all answered (a client asked to come back later by 503 and `Retry-After` does); 80 heavier
what-ifs at once while `GET /api/cases` keeps answering within a second (its p99 is measured);
45 heavy what-ifs or forecasts whose clients give up after a second are stopped, so the light
routes and the pool of heavy work are free again at once. The latencies are printed (run with -s
to see them). The tests stop by themselves: each request has a timeout and each run a deadline."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from standoff.case import builtin_cases

from .webserver import serving

REQUESTS = 50
DRAWS = 200
DEADLINE = 60.0  # seconds for the whole burst


def client(base: str, timeout: float = DEADLINE, connections: int = 10) -> httpx.AsyncClient:
    """An HTTP client that, as a well-behaved one must, lets an idle connection go well before the
    server would (KEEP_ALIVE_SECONDS): reusing a connection at the moment the server closes it
    loses the request in transit (a read error), and httpx's own default (5 s) equals the
    server's. The server's event loop shares the process with its workers here, so it may close
    an idle connection a little late or early against the client's clock."""
    from standoff.web.server import KEEP_ALIVE_SECONDS

    limits = httpx.Limits(max_connections=connections, keepalive_expiry=KEEP_ALIVE_SECONDS / 3)
    return httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits)


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The base URL of a workspace served over one case, and its app."""
    from standoff.web import create_app

    shutil.copy(builtin_cases()["cuba-1962"], tmp_path / "mine.yaml")
    app = create_app(tmp_path, str(tmp_path / "ledger.sqlite"), builtins=False)
    with serving(app) as base:
        yield base, app


@pytest.fixture()
def server(served: tuple[str, Any]) -> str:
    return served[0]


async def post_until_taken(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Any:
    """POST, and while the server answers 503 with Retry-After, wait that long and POST again
    (as a client should); the last response."""
    while True:
        response = await http.post(url, json=body)
        wait = response.headers.get("retry-after")
        if response.status_code != 503 or wait is None:
            return response
        await asyncio.sleep(float(wait))


async def burst(base: str) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    async with client(base, connections=REQUESTS) as http:

        async def one(n: int) -> None:
            body = {"case": "mine", "draws": DRAWS, "seed": 7,
                    "set": {"param:strike_rate": 0.05 + 0.01 * n}}  # fmt: skip
            began = time.perf_counter()
            try:
                response = await post_until_taken(http, "/api/whatif", body)
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
        async with client(server) as http:
            long = asyncio.create_task(
                http.post("/api/forecast", json={"case": "mine", "draws": 20_000, "seed": 1})
            )
            await asyncio.sleep(0.3)  # the run has started
            began = time.perf_counter()
            quick = await http.get("/api/cases")
            waited = time.perf_counter() - began
            assert quick.status_code == 200
            still_running = not long.done()
            assert (await long).status_code == 200
            return waited, still_running

    waited, still_running = asyncio.run(asyncio.wait_for(both(), DEADLINE))
    print(f"\na request during a 20,000-draw forecast answered in {waited:.3f} s")
    assert still_running and waited < 5.0


HEAVY = 80
HEAVY_DRAWS = 2_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def light_during(base: str, heavy: Any) -> tuple[list[float], Any]:
    """GET /api/cases, one after another, for as long as `heavy()` runs; their latencies
    and what `heavy` returned."""
    latencies: list[float] = []
    async with client(base) as light:
        task = asyncio.ensure_future(heavy())
        await asyncio.sleep(0.2)  # the heavy requests are in
        while not task.done():
            began = time.perf_counter()
            response = await light.get("/api/cases")
            latencies.append(time.perf_counter() - began)
            assert response.status_code == 200
            await asyncio.sleep(0.02)
        return latencies, await task


def test_light_routes_stay_quick_under_eighty_heavy_whatifs(server: str) -> None:
    async def heavy() -> list[int]:
        async with client(server, connections=HEAVY) as http:

            async def one(n: int) -> int:
                body = {"case": "mine", "draws": HEAVY_DRAWS, "seed": n,
                        "set": {"param:strike_rate": 0.05 + 0.005 * n}}  # fmt: skip
                return (await post_until_taken(http, "/api/whatif", body)).status_code

            return list(await asyncio.gather(*(one(n) for n in range(HEAVY))))

    began = time.perf_counter()
    latencies, codes = asyncio.run(asyncio.wait_for(light_during(server, heavy), 3 * DEADLINE))
    wall = time.perf_counter() - began
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(
        f"\nGET /api/cases during {HEAVY} concurrent what-ifs ({HEAVY_DRAWS:,} draws each, "
        f"{wall:.1f} s in all): {len(latencies)} requests, p50 {p50:.3f} s, p99 {p99:.3f} s, "
        f"max {max(latencies):.3f} s"
    )
    assert codes == [200] * HEAVY
    assert p99 < 1.0


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/api/whatif", {"case": "mine", "draws": 20_000, "set": {"param:strike_rate": 0.4}}),
        ("/api/forecast", {"case": "mine", "draws": 200_000}),
    ],
)
def test_work_whose_client_has_gone_is_stopped(
    served: tuple[str, Any], route: str, body: dict[str, Any]
) -> None:
    base, app = served
    work = app.state.standoff.jobs.work

    async def abandon() -> list[str]:
        async with client(base, timeout=1.0, connections=100) as http:

            async def one(n: int) -> str:
                try:
                    response = await http.post(route, json={**body, "seed": n})
                except httpx.TimeoutException:
                    return "gave up"
                return str(response.status_code)

            return list(await asyncio.gather(*(one(n) for n in range(45))))

    outcomes = asyncio.run(asyncio.wait_for(abandon(), DEADLINE))
    assert "gave up" in outcomes and set(outcomes) <= {"gave up", "503"}

    async def light() -> list[float]:
        latencies = []
        async with client(base) as http:
            for _ in range(20):
                began = time.perf_counter()
                assert (await http.get("/api/cases")).status_code == 200
                latencies.append(time.perf_counter() - began)
        return latencies

    latencies = asyncio.run(asyncio.wait_for(light(), DEADLINE))
    began = time.perf_counter()
    while work.pending and time.perf_counter() - began < DEADLINE:
        time.sleep(0.05)
    drained = time.perf_counter() - began
    print(
        f"\n45 {route} requests given up after 1 s: {outcomes.count('503')} refused at once; "
        f"GET /api/cases then answered in at most {max(latencies):.3f} s; the pool of heavy "
        f"work was empty {drained:.2f} s later"
    )
    assert max(latencies) < 1.0
    assert work.pending == 0 and drained < 3.0


def test_a_full_pool_answers_503_with_retry_after(tmp_path: Path) -> None:
    from standoff.web import create_app
    from standoff.web.runs import Limits

    shutil.copy(builtin_cases()["cuba-1962"], tmp_path / "mine.yaml")
    limits = Limits(workers=1, queue=1)
    app = create_app(tmp_path, str(tmp_path / "ledger.sqlite"), builtins=False, limits=limits)
    body = {"case": "mine", "draws": 200_000}

    async def three() -> list[Any]:
        async with client(base) as http:
            first = asyncio.ensure_future(http.post("/api/forecast", json=body))
            second = asyncio.ensure_future(http.post("/api/forecast", json={**body, "seed": 2}))
            await asyncio.sleep(0.5)  # both taken: one running, one queued
            began = time.perf_counter()
            third = await http.post("/api/whatif", json={"case": "mine", "draws": 100})
            waited = time.perf_counter() - began
            quick = await http.get("/api/cases")
            first.cancel()
            second.cancel()
            return [third, waited, quick]

    with serving(app) as base:
        third, waited, quick = asyncio.run(asyncio.wait_for(three(), DEADLINE))
    assert third.status_code == 503 and third.headers["retry-after"] == "1"
    assert "busy" in third.json()["detail"] and waited < 1.0
    assert quick.status_code == 200
