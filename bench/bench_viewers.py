"""Upstream calls per minute with 20 viewers of the Sessions tab against 1 viewer.

    python bench/bench_viewers.py [--seconds 15] [--viewers 20] [--tick 2.0]

Three processes, as in a deployment: a standalone simulator (`python -m simulator`), the studio
(`python app.py`, pointed at it through RUNWAYML_BASE_URL with a simulator key) and this one,
which simulates viewers with `gradio_client`: each calls the `sessions_table` endpoint every
`--tick` seconds, as a browser's timer does every 2 s. The studio runs with
`STUDIO_HISTORY_TTL=0.5`, so its shared conversations cache refreshes every 0.5 s instead
of 10 s: time is compressed 20-fold so that a short run counts ~30 refreshes (one more or less
moves the ratio by ~3 %). Upstream calls are counted by the simulator itself
(`GET /_simulator/state` → `requests`). A few finished sessions are seeded first; none is open
while measuring, so every upstream call counted is one the viewers could have caused. PASS when
the 20-viewer rate is at most 1.1× the 1-viewer rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time

import httpx
from _common import FAKE_KEY, process_server, simulator_process, verdict

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
from gradio_client import Client  # after analytics are off

LIMIT = 1.1
NO_FILTERS = ([], "", None, None, "")


def upstream_counts(simulator: str) -> dict[str, int]:
    """Requests the simulator served, by "METHOD /v1/path/template" (its control plane excluded)."""
    counts = httpx.get(f"{simulator}/_simulator/state", timeout=10).json()["requests"]
    return {k: v for k, v in counts.items() if " /v1/" in k}


def measure(url: str, simulator: str, viewers: int, seconds: float, tick: float) -> dict:
    clients: list[Client] = [None] * viewers  # type: ignore[list-item]

    def open_page(i: int) -> None:  # everyone has the page open before the clock starts
        clients[i] = Client(url, verbose=False)
        clients[i].predict(*NO_FILTERS, api_name="/sessions_table")

    openers = [threading.Thread(target=open_page, args=(i,)) for i in range(viewers)]
    for thread in openers:
        thread.start()
    for thread in openers:
        thread.join()
    served = [0] * viewers
    errors: list[str] = []
    stop = threading.Event()

    def viewer(i: int) -> None:
        next_tick = time.monotonic() + tick * i / viewers  # spread, as real browsers are
        while not stop.is_set():
            stop.wait(max(0.0, next_tick - time.monotonic()))
            if stop.is_set():
                return
            try:
                clients[i].predict(*NO_FILTERS, api_name="/sessions_table")
                served[i] += 1
            except Exception as error:  # noqa: BLE001 - a viewer reports any failure and goes on
                errors.append(repr(error))
            next_tick += tick

    before = upstream_counts(simulator)
    started = time.monotonic()
    threads = [threading.Thread(target=viewer, args=(i,), daemon=True) for i in range(viewers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    after = upstream_counts(simulator)
    elapsed = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    closers = [threading.Thread(target=client.close) for client in clients]  # ~1 s each: in parallel
    for thread in closers:
        thread.start()
    for thread in closers:
        thread.join()
    calls = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    total = sum(calls.values())
    return {"viewers": viewers, "elapsed": elapsed, "served": sum(served), "calls": calls,
            "per_minute": total * 60 / elapsed, "errors": errors,
            "asked": int(viewers * elapsed / tick)}


def main() -> int:
    begun = time.monotonic()
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--tick", type=float, default=2.0)
    args = parser.parse_args()

    env = {"RUNWAYML_API_SECRET": FAKE_KEY, "GRADIO_SERVER_PORT": "{port}",
           "STUDIO_DATA_DIR": tempfile.mkdtemp(prefix="bench-viewers-"),
           "STUDIO_REFRESH_INTERVAL": "0.1", "STUDIO_HISTORY_TTL": "0.5", "GRADIO_HEARTBEAT_INTERVAL": "1"}
    with simulator_process("--ready-delay", "0.2") as simulator, \
            process_server(["app.py"], env={**env, "RUNWAYML_BASE_URL": simulator}) as url:
        with httpx.Client(base_url=url, timeout=60) as http:
            for avatar in ("music-superstar", "cat-character", "fashion-designer"):
                session = http.post("/api/avatar/session", json={"avatarId": avatar}).json()["sessionId"]
                httpx.post(f"{simulator}/_simulator/sessions/{session}/join")
                httpx.post(f"{simulator}/_simulator/sessions/{session}/leave", json={"transcript": [
                    {"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]})
        time.sleep(1)  # the studio's refresher records the ends
        print(f"studio on {url}, simulator on {simulator}; conversations cache refreshes every 0.5 s; "
              f"viewers tick every {args.tick:g} s; {args.seconds:g} s per run")
        one = measure(url, simulator, 1, args.seconds, args.tick)
        many = measure(url, simulator, args.viewers, args.seconds, args.tick)

    for run in (one, many):
        print(f"{run['viewers']:>3} viewer(s): {run['served']:>4} table refreshes served "
              f"(of ~{run['asked']} due), "
              f"{run['per_minute']:6.1f} upstream calls/min  {run['calls']}"
              + (f"  ({len(run['errors'])} errors, first: {run['errors'][0]})" if run["errors"] else ""))
    ratio = many["per_minute"] / one["per_minute"] if one["per_minute"] else float("inf")
    passed = ratio <= LIMIT and not one["errors"] and not many["errors"]
    print(f"{verdict(passed)}: {args.viewers} viewers make {ratio:.2f}x the upstream calls of 1 viewer "
          f"(limit {LIMIT}x), while being served {many['served'] / max(1, one['served']):.1f}x the refreshes")
    print(f"(whole benchmark: {time.monotonic() - begun:.0f} s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
