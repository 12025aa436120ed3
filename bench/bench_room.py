"""The loopback LiveKit room: connect-to-first-frame time and the room's CPU per call.

The room server runs in its own process (so its CPU can be read from /proc); the calls are
made with LiveKit's official Python SDK from this process, each subscribing to the
character's video and audio and decoding them. Reports, for this machine:

* connect -> first decoded video frame, p50/p95 over ``--calls`` sequential calls, beside
  connect -> room joined (the signalling share);
* the room process's CPU while 1, 3 and 5 calls run at once, as % of one core per call.

Loopback only; every call is bounded in time.

    python bench/bench_room.py [--calls 10] [--window 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_PER_CALL = 15.0  # % of one core the issue aims for (informative, not a verdict)


def serve(port: int) -> None:
    """Child process: the room plus two bench-only routes to open rooms and mint tokens."""
    import uuid
    import warnings

    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from simulator.room import CharacterSpec, RoomServer, RoomSpec

    warnings.filterwarnings("ignore")
    import json

    from simulator.room import RoomSettings

    server = RoomServer(
        settings=RoomSettings(**json.loads(os.environ.get("BENCH_ROOM_SETTINGS", "{}")))
    )

    async def open_room(request: Request) -> JSONResponse:
        session = str(uuid.uuid4())
        name = f"room-{session}"
        server.open_room(RoomSpec(name=name, session_id=session, max_duration=120, character=CharacterSpec(
            name="Mina", documents=("The return window is 30 days.",), start_script=(
                "Welcome! I am a simulated character, and I will keep talking for a while so that "
                "the benchmark hears a voice and sees a face that moves with it. "
            ) * 3,
        )))  # fmt: skip
        return JSONResponse({"room": name, "token": server.mint_token(name, "user:bench")})

    app = Starlette(routes=[*server.routes(), Route("/_bench/open", open_room, methods=["POST"])])
    uvicorn.run(
        app, host="127.0.0.1", port=port, ws="websockets", log_level="critical", lifespan="off"
    )


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_call(url: str, http: str, hold: float) -> tuple[float, float]:
    """Join, wait for the first decoded video frame, hold the call; (joined s, frame s)."""
    from livekit import rtc

    async with httpx.AsyncClient() as client:
        credentials = (await client.post(f"{http}/_bench/open", timeout=5)).json()
    room = rtc.Room()
    first = asyncio.get_running_loop().create_future()
    pumps: list[asyncio.Task[None]] = []

    async def pump(track: rtc.Track) -> None:
        stream = (
            rtc.VideoStream(track)
            if track.kind == rtc.TrackKind.KIND_VIDEO
            else rtc.AudioStream(track)
        )
        async for _ in stream:
            if track.kind == rtc.TrackKind.KIND_VIDEO and not first.done():
                first.set_result(time.perf_counter())

    room.on("track_subscribed", lambda track, *_: pumps.append(asyncio.ensure_future(pump(track))))
    started = time.perf_counter()
    await room.connect(url, credentials["token"])
    joined = time.perf_counter() - started
    frame = await asyncio.wait_for(first, 15) - started
    await asyncio.sleep(hold)
    await room.disconnect()
    for task in pumps:
        task.cancel()
    await asyncio.gather(*pumps, return_exceptions=True)
    return joined, frame


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure_cpu(url: str, http: str, pid: int, calls: int, window: float) -> float:
    """% of one core used by the room process per call, with ``calls`` calls at once."""
    tasks = [asyncio.ensure_future(one_call(url, http, window + 4)) for _ in range(calls)]
    await asyncio.sleep(3)  # everyone connected and streaming
    before, t0 = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(window)
    used = cpu_seconds(pid) - before
    elapsed = time.monotonic() - t0
    await asyncio.gather(*tasks)
    return 100 * used / elapsed / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], cwd=ROOT)
    http, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{http}/rtc/validate", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the room server did not start") from None
                time.sleep(0.1)
        asyncio.run(report(url, http, child.pid, args.calls, args.window))
    finally:
        child.terminate()
        child.wait(10)


async def report(url: str, http: str, pid: int, calls: int, window: float) -> None:
    timings = [await one_call(url, http, 0.2) for _ in range(calls)]
    joined, frames = [t[0] for t in timings], [t[1] for t in timings]
    print(
        f"connect -> joined        p50 {pct(joined, 50) * 1000:6.0f} ms  p95 {pct(joined, 95) * 1000:6.0f} ms  ({calls} calls)"
    )
    print(
        f"connect -> first frame   p50 {pct(frames, 50) * 1000:6.0f} ms  p95 {pct(frames, 95) * 1000:6.0f} ms"
    )
    for concurrent in (1, 3, 5):
        per_call = await measure_cpu(url, http, pid, concurrent, window)
        print(
            f"room CPU, {concurrent} concurrent call(s): {per_call:5.1f} % of a core per call (aim <= {BUDGET_PER_CALL:.0f} %)"
        )


if __name__ == "__main__":
    main()
