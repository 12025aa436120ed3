"""POST /api/avatar/session against a seed-style baseline, on a simulator with a 1.0 s ready delay.

The baseline (bench/seed_app.py) is what Runway's own FastAPI sample does: the sync client and a
`time.sleep(1)` poll loop inside an async handler. The studio (`python app.py`), the baseline and
the simulator each run in their own process on loopback; this process only sends the calls. Printed: the route's overhead over the provisioning time (p50, p95, ratio),
50 concurrent calls, and upstream polls per session.

    python bench/bench_session_route.py
"""

from __future__ import annotations

import asyncio
import tempfile
import time

import httpx

from _common import FAKE_KEY, percentile, process_server, simulator_process, upstream_requests, verdict

READY_DELAY = 1.0
SEQUENTIAL_CALLS = 10
CONCURRENT_CALLS = 50
BASELINE_CONCURRENT = 5  # the baseline serialises; 50 of them would take over a minute


def studio_env(base_url: str, data_dir: str) -> dict[str, str]:
    return {
        "RUNWAYML_API_SECRET": FAKE_KEY, "RUNWAYML_BASE_URL": base_url, "STUDIO_DATA_DIR": data_dir,
        "GRADIO_SERVER_PORT": "{port}", "GRADIO_ANALYTICS_ENABLED": "False",
        "STUDIO_MAX_LIVE_SESSIONS": "1000", "STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "1000",
        "STUDIO_DAILY_SESSION_CAP": "1000",
        # keep the background refresher out of the per-call poll count
        "STUDIO_REFRESH_INTERVAL": "3600",
    }


async def one_call(client: httpx.AsyncClient, url: str) -> float:
    started = time.perf_counter()
    answer = await client.post(f"{url}/api/avatar/session", json={"avatarId": "music-superstar"})
    answer.raise_for_status()
    return time.perf_counter() - started


async def sequential(url: str, count: int) -> list[float]:
    async with httpx.AsyncClient(timeout=120) as client:
        await one_call(client, url)  # warm-up: connections, lazy imports
        return [await one_call(client, url) for _ in range(count)]


async def concurrent(url: str, count: int) -> tuple[float, int]:
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=count)) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(one_call(client, url) for _ in range(count)), return_exceptions=True)
        return time.perf_counter() - started, sum(not isinstance(r, Exception) for r in results)


def main() -> int:
    flags = ("--ready-delay", str(READY_DELAY), "--concurrency", "500", "--daily-limit", "100000")
    with simulator_process(*flags) as sim, tempfile.TemporaryDirectory() as tmp:
        with process_server(["app.py"], studio_env(sim, tmp)) as ours, \
                process_server(["bench/seed_app.py", "--port", "{port}", "--base-url", sim]) as seed:
            polls_before = upstream_requests(sim, "GET /v1/realtime_sessions/{id}")
            ours_seq = asyncio.run(sequential(ours, SEQUENTIAL_CALLS))
            polls = (upstream_requests(sim, "GET /v1/realtime_sessions/{id}") - polls_before) / SEQUENTIAL_CALLS
            seed_seq = asyncio.run(sequential(seed, SEQUENTIAL_CALLS))
            ours_wall, ours_ok = asyncio.run(concurrent(ours, CONCURRENT_CALLS))
            seed_wall, seed_ok = asyncio.run(concurrent(seed, BASELINE_CONCURRENT))

    ours_over = [t - READY_DELAY for t in ours_seq]
    seed_over = [t - READY_DELAY for t in seed_seq]
    p50, p95 = percentile(ours_over, 50), percentile(ours_over, 95)
    b50, b95 = percentile(seed_over, 50), percentile(seed_over, 95)
    ratio = b50 / p50 if p50 > 0 else float("inf")
    seed_serial_50 = seed_wall / BASELINE_CONCURRENT * CONCURRENT_CALLS
    checks = {
        "overhead p50 <= 100 ms": p50 <= 0.100,
        "overhead p95 <= 250 ms": p95 <= 0.250,
        "overhead >= 5x lower than baseline": ratio >= 5,
        f"{CONCURRENT_CALLS} concurrent calls all succeed within {2 * READY_DELAY:g} s":
            ours_ok == CONCURRENT_CALLS and ours_wall <= 2 * READY_DELAY,
        "upstream polls per session <= 12": polls <= 12,
    }
    print(f"ready delay {READY_DELAY:.1f} s, {SEQUENTIAL_CALLS} sequential calls each")
    print(f"overhead over provisioning  studio p50 {p50 * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms")
    print(f"                            seed   p50 {b50 * 1000:6.0f} ms  p95 {b95 * 1000:6.0f} ms"
          f"   -> studio {ratio:.1f}x lower")
    print(f"{CONCURRENT_CALLS} concurrent calls         studio {ours_wall:5.2f} s ({ours_ok}/{CONCURRENT_CALLS} ok)")
    print(f"{BASELINE_CONCURRENT} concurrent calls          seed   {seed_wall:5.2f} s ({seed_ok}/{BASELINE_CONCURRENT} ok),"
          f" serialised: ~{seed_serial_50:.0f} s for {CONCURRENT_CALLS}  -> {seed_serial_50 / ours_wall:.0f}x")
    print(f"upstream polls per session  studio {polls:.1f}")
    for name, ok in checks.items():
        print(f"{verdict(ok)}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
