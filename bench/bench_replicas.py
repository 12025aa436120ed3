"""Scaling out: the session route on 1 replica on SQLite, 1 on PostgreSQL and 3 on PostgreSQL.

For each set-up, in the same run, against its own standalone simulator (ready delay 1.0 s):
the route's overhead over each session's actual provisioning time (20 sequential calls, spread
round-robin over the replicas), and 50 concurrent starts (wall time, how many succeed, how many
sessions the simulator created). PostgreSQL is a throwaway cluster started by the same code as the
tests' (Debian's binaries; `bash scripts/test.sh` installs them). Loopback only.

PASS when every concurrent start succeeds everywhere with exactly one upstream session each, and
the shared ledger's overhead (mean) stays within 2x + 20 ms of SQLite's.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time

import httpx

from _common import FAKE_KEY, percentile, process_server, simulator_process, upstream_requests, verdict
from tests.store.cluster import Cluster

SEQUENTIAL_CALLS = 20
CONCURRENT_CALLS = 50
READY_DELAY = 1.0


def studio_env(sim: str, data_dir: str, database_url: str | None) -> dict[str, str]:
    env = {"RUNWAYML_API_SECRET": FAKE_KEY, "RUNWAYML_BASE_URL": sim, "STUDIO_DATA_DIR": data_dir,
           "GRADIO_SERVER_PORT": "{port}", "GRADIO_ANALYTICS_ENABLED": "False",
           "STUDIO_MAX_LIVE_SESSIONS": "1000", "STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "1000",
           "STUDIO_DAILY_SESSION_CAP": "1000", "STUDIO_REFRESH_INTERVAL": "2"}
    return env | ({"STUDIO_DATABASE_URL": database_url} if database_url else {"STUDIO_DATABASE_URL": ""})


async def one_call(client: httpx.AsyncClient, url: str) -> tuple[str, float]:
    started = time.perf_counter()
    answer = await client.post(f"{url}/api/avatar/session", json={"avatarId": "music-superstar"})
    answer.raise_for_status()
    return answer.json()["sessionId"], time.perf_counter() - started


async def sequential(urls: list[str], count: int) -> list[tuple[str, float]]:
    async with httpx.AsyncClient(timeout=120) as client:
        for url in urls:
            await one_call(client, url)  # warm-up per replica
        return [await one_call(client, urls[i % len(urls)]) for i in range(count)]


async def concurrent(urls: list[str], count: int) -> tuple[float, int]:
    async with httpx.AsyncClient(timeout=300, limits=httpx.Limits(max_connections=count)) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(one_call(client, urls[i % len(urls)]) for i in range(count)),
                                       return_exceptions=True)
        return time.perf_counter() - started, sum(not isinstance(r, Exception) for r in results)


def overheads(sim: str, calls: list[tuple[str, float]]) -> list[float]:
    sessions = {s["id"]: s for s in httpx.get(f"{sim}/_simulator/state", timeout=10).json()["sessions"]}
    return [latency - (sessions[sid]["readyAt"] - sessions[sid]["createdAt"]) for sid, latency in calls]


def run(replicas: int, database_url: str | None) -> dict[str, float]:
    flags = ("--ready-delay", str(READY_DELAY), "--concurrency", "500", "--daily-limit", "100000")
    with simulator_process(*flags) as sim, tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = [stack.enter_context(process_server(["app.py"], studio_env(sim, tmp, database_url)))
                for _ in range(replicas)]
        calls = asyncio.run(sequential(urls, SEQUENTIAL_CALLS))
        creates_before = upstream_requests(sim, "POST /v1/realtime_sessions")
        wall, ok = asyncio.run(concurrent(urls, CONCURRENT_CALLS))
        created = upstream_requests(sim, "POST /v1/realtime_sessions") - creates_before
        over = overheads(sim, calls)
    return {"mean": sum(over) / len(over), "p50": percentile(over, 50), "p95": percentile(over, 95),
            "wall": wall, "ok": ok, "created": created}


def main() -> int:
    cluster = Cluster().start()
    try:
        results = {
            "1 replica, SQLite": run(1, None),
            "1 replica, PostgreSQL": run(1, cluster.create_database()),
            "3 replicas, PostgreSQL": run(3, cluster.create_database()),
        }
    finally:
        cluster.stop()
    print(f"{'set-up':<24} {'overhead mean':>14} {'p50':>7} {'p95':>7}   {CONCURRENT_CALLS} concurrent starts")
    for name, r in results.items():
        print(f"{name:<24} {r['mean'] * 1000:>11.0f} ms {r['p50'] * 1000:>4.0f} ms {r['p95'] * 1000:>4.0f} ms"
              f"   {r['ok']}/{CONCURRENT_CALLS} ok in {r['wall']:.2f} s, {r['created']} upstream creates")
    base = results["1 replica, SQLite"]["mean"]
    checks = {
        "every concurrent start succeeds, one upstream session each":
            all(r["ok"] == CONCURRENT_CALLS == r["created"] for r in results.values()),
        "PostgreSQL overhead (mean) within 2x + 20 ms of SQLite's":
            all(r["mean"] <= 2 * base + 0.020 for r in results.values()),
    }
    for name, ok in checks.items():
        print(f"{verdict(ok)}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
