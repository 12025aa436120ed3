"""Requests per second of the simulator's session retrieve over loopback.

Runs ``serve_in_thread`` (real clock) and hammers ``GET /v1/realtime_sessions/{id}``
with httpx from a few client processes (separate processes, so the clients do not
share the server's GIL). A bare FastAPI/uvicorn endpoint returning constant JSON,
served the same way in the same process, is measured in the same run as a baseline
for this machine. The two targets are measured in alternating rounds and the best
round of each is reported (the median too), which keeps other load on a shared
machine from deciding the result. Prints both figures and their ratio; PASS when the
simulator serves at least MIN_RATIO of the baseline's requests per second with no
errors, so the verdict holds on a fast machine and a slow one alike.

    python bench/bench_simulator.py [--rounds 3] [--seconds 1.5] [--clients 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MIN_RATIO = 0.7  # simulator req/s over bare FastAPI req/s, measured in the same run
API_KEY = "key_" + "0" * 128
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Runway-Version": "2024-11-06"}
MAX_SECONDS_PER_ROUND = 5.0


def _client(jobs: mp.Queue, results: mp.Queue, max_requests: int) -> None:
    """A client process: for each job (url, start_at, seconds), sequential keep-alive GETs."""
    clients: dict[str, httpx.Client] = {}
    while (job := jobs.get()) is not None:
        url, start_at, seconds = job
        client = clients.get(url)
        if client is None:
            client = clients[url] = httpx.Client(headers=HEADERS, timeout=10.0)
            client.get(url)  # connect before the clock starts
        time.sleep(max(0.0, start_at - time.time()))
        ok = errors = 0
        began = time.perf_counter()
        deadline = began + seconds
        while ok + errors < max_requests and time.perf_counter() < deadline:
            if client.get(url).status_code == 200:
                ok += 1
            else:
                errors += 1
        results.put((ok, errors, time.perf_counter() - began))
    for client in clients.values():
        client.close()


class ClientPool:
    def __init__(self, size: int, max_requests: int) -> None:
        ctx = mp.get_context("spawn")  # no fork: server threads live in this process
        self.size = size
        self.jobs: mp.Queue = ctx.Queue()
        self.results: mp.Queue = ctx.Queue()
        self.procs = [
            ctx.Process(target=_client, args=(self.jobs, self.results, max_requests))
            for _ in range(size)
        ]
        for p in self.procs:
            p.start()

    def measure(self, url: str, seconds: float) -> tuple[float, int]:
        """Aggregate requests/s of all clients over one round, and the non-200 count."""
        start_at = time.time() + 0.3
        for _ in range(self.size):
            self.jobs.put((url, start_at, seconds))
        outcomes = [self.results.get(timeout=seconds + 60) for _ in range(self.size)]
        total = sum(ok for ok, _, _ in outcomes)
        return total / max(t for _, _, t in outcomes), sum(e for _, e, _ in outcomes)

    def close(self) -> None:
        for _ in self.procs:
            self.jobs.put(None)
        for p in self.procs:
            p.join(timeout=10)


def start_baseline() -> tuple[str, object]:
    """A bare FastAPI app on uvicorn with the simulator's server settings."""
    from fastapi import FastAPI
    from starlette.responses import Response

    from simulator.server import bind_socket, make_server, url_for

    app = FastAPI()

    @app.get("/baseline/{item_id}")
    async def baseline(item_id: str) -> Response:
        return Response(b'{"id":"x","status":"READY"}', media_type="application/json")

    sock = bind_socket("127.0.0.1", 0)
    server = make_server(app)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return url_for("127.0.0.1", sock.getsockname()[1]), server


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per target")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per round (max 5)")
    parser.add_argument("--clients", type=int, default=3, help="concurrent client processes")
    parser.add_argument("--max-requests", type=int, default=20_000, help="per client, per round")
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_SECONDS_PER_ROUND)

    from simulator import SimConfig, SystemClock, serve_in_thread

    handle = serve_in_thread(SimConfig(ready_delay=0.0), clock=SystemClock())
    baseline_url, baseline_server = start_baseline()
    pool = ClientPool(args.clients, args.max_requests)
    sim_rounds: list[float] = []
    base_rounds: list[float] = []
    errors = base_errors = 0
    try:
        created = httpx.post(
            f"{handle.base_url}/v1/realtime_sessions",
            headers=HEADERS,
            json={
                "model": "gwm1_avatars",
                "avatar": {"type": "runway-preset", "presetId": "influencer"},
            },
        )
        created.raise_for_status()
        session_url = f"{handle.base_url}/v1/realtime_sessions/{created.json()['id']}"
        for _ in range(args.rounds):
            rps, errs = pool.measure(session_url, seconds)
            sim_rounds.append(rps)
            errors += errs
            base_rps, errs = pool.measure(f"{baseline_url}/baseline/abc", seconds)
            base_rounds.append(base_rps)
            base_errors += errs
        counted = handle.simulator.requests.get("GET /v1/realtime_sessions/{id}", 0)
    finally:
        pool.close()
        handle.stop()
        baseline_server.should_exit = True  # type: ignore[attr-defined]

    sim_best, base_best = max(sim_rounds), max(base_rounds)
    ratio = sim_best / base_best if base_best else 0.0  # no baseline: nothing to pass against
    verdict = "PASS" if ratio >= MIN_RATIO and errors == base_errors == 0 else "FAIL"
    print(
        f"simulator  GET /v1/realtime_sessions/{{id}}: best {sim_best:6.0f} req/s, "
        f"median {statistics.median(sim_rounds):6.0f} ({errors} errors, {counted} counted)"
    )
    print(
        f"baseline   bare FastAPI constant JSON:      best {base_best:6.0f} req/s, "
        f"median {statistics.median(base_rounds):6.0f} ({base_errors} errors)"
    )
    print(f"ratio      simulator / baseline (best):     {ratio:6.2f}")
    print(f"rounds     {args.clients} clients, {args.rounds} x {seconds:.1f} s per target")
    print(f"{verdict}: ratio {ratio:.2f} (required >= {MIN_RATIO:.2f}, with no errors)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
