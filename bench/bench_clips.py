"""Clips: how fast the simulator renders them, and what watching them costs upstream.

1. Render throughput: seconds of clip (H.264 + AAC MP4, the simulator's default 544x352 at 25 fps)
   rendered per second of wall time, against real time (1.0) as the baseline: a clip must not take
   longer to render offline than it lasts.
2. Upstream polls per open task per minute with 10 viewers of the Clips tab against 1, measured in
   the same run: the tab reads the studio's store, and one follower polls Runway for every open
   task, so viewers must not multiply the polls.

    python bench/bench_clips.py [--seconds 10]

Everything runs in this process on 127.0.0.1 (the studio on its embedded simulator).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import verdict
from simulator.clips_render import Look, render_mp4, synthesise
from tests.app.conftest import json_app
from tests.support import studio_settings

SCRIPT = ("Welcome to the studio. I can show you our newest products, book a time that suits you, "
          "and answer questions about your order. What would you like to do first today?")
OPEN_TASKS = 3
FOLLOW_INTERVAL = 1.0  # STUDIO_CLIP_POLL_INTERVAL for the run
VIEWER_INTERVAL = 1.0  # the Clips tab's own refresh (pages/clips.py POLL_SECONDS)


def render_throughput(renders: int = 3) -> float:
    """Seconds of clip rendered per second of wall time (speech synthesis included)."""
    look = Look(None, "Mina", 544, 352, 25)
    rendered, wall = 0.0, 0.0
    for _ in range(renders):
        started = time.perf_counter()
        speech = synthesise(SCRIPT, "clara")
        render_mp4(speech, look)
        wall += time.perf_counter() - started
        rendered += speech.seconds
    print(f"render: {rendered:.1f} s of clip in {wall:.2f} s of wall time over {renders} renders")
    return rendered / wall


def polls_per_task_minute(client: TestClient, clip_ids: list[str], viewers: int, seconds: float) -> float:
    """GET /v1/tasks/{id} per open task per minute while `viewers` watch the Clips tab."""
    studio = client.app.state.studio
    sim = httpx.Client(base_url=studio.upstream.base_url, timeout=10)

    def task_polls() -> int:
        counts = sim.get("/_simulator/state").json()["requests"]
        return sum(n for name, n in counts.items() if name.startswith("GET /v1/tasks/"))

    stop = threading.Event()

    def watch() -> None:  # what the tab's timer does for one viewer: read the store
        while not stop.is_set():
            studio.clips.list_clips()
            for clip_id in clip_ids:
                studio.clips.clip(clip_id)
            stop.wait(VIEWER_INTERVAL)

    before = task_polls()
    threads = [threading.Thread(target=watch) for _ in range(viewers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    polls = task_polls() - before
    rate = polls / len(clip_ids) / (seconds / 60)
    print(f"{viewers:>2} viewer(s): {polls} task polls in {seconds:.0f} s for {len(clip_ids)} open tasks"
          f" = {rate:.1f} per task per minute")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each watching window")
    args = parser.parse_args()

    throughput = render_throughput()
    print(f"render throughput: {throughput:.1f} s of clip per wall second (real time = 1.0)")
    ok = throughput >= 1.0
    print(f"{verdict(ok)}: renders {throughput:.1f}x faster than real time (needed >= 1x)")

    settings = studio_settings(Path(tempfile.mkdtemp(prefix="bench-clips-")),
                               STUDIO_CLIP_POLL_INTERVAL=str(FOLLOW_INTERVAL))
    with TestClient(json_app(settings, None)) as client:
        studio = client.app.state.studio
        httpx.post(f"{studio.upstream.base_url}/_simulator/config", json={"clip_render_base": 3600.0},
                   timeout=10).raise_for_status()  # the renders stay open for the whole run

        async def render() -> str:
            return (await studio.clips.render("music-superstar", client_id="bench", script=SCRIPT))["clip_id"]

        clip_ids = [client.portal.call(render) for _ in range(OPEN_TASKS)]
        time.sleep(FOLLOW_INTERVAL * 2)  # the follower's first rounds
        one = polls_per_task_minute(client, clip_ids, 1, args.seconds)
        ten = polls_per_task_minute(client, clip_ids, 10, args.seconds)
    ratio = ten / one if one else float("inf")
    print(f"10 viewers against 1: {ratio:.2f}x the upstream polls per open task")
    shared = ratio <= 1.2
    print(f"{verdict(shared)}: 10 viewers cost {ratio:.2f}x the polls of 1 (needed <= 1.2x)")
    return 0 if ok and shared else 1


if __name__ == "__main__":
    raise SystemExit(main())
