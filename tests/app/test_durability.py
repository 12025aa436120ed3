"""Kill the studio with SIGKILL mid-call, start it again: the ledger is intact and every open
session is carried to its final state."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.room.support import Call
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
# Long enough that the two calls nobody joins are still READY when the first is seen RUNNING on a
# loaded machine, shorter than the first call's maxDuration (10 s).
NO_PARTICIPANT_TIMEOUT = 8


def start_app(data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port), "STUDIO_DATA_DIR": str(data_dir),
        "STUDIO_SIM_READY_DELAY": "0.1", "STUDIO_SIM_NO_PARTICIPANT_TIMEOUT": str(NO_PARTICIPANT_TIMEOUT),
        "STUDIO_REFRESH_INTERVAL": "0.2", "STUDIO_MAX_LIVE_SESSIONS": "10",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    env.pop("RUNWAYML_API_SECRET", None)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the app did not start")


def wait_until_all_terminal(base: str, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        rows = httpx.get(f"{base}/api/sessions").json()["sessions"]
        if all(r["status"] in TERMINAL for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_sigkill_mid_call_then_restart(tmp_path):
    data, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    app = start_app(data, port)
    try:
        calls = [httpx.post(f"{base}/api/avatar/session", timeout=30,
                            json={"avatarId": "cat-character", "maxDuration": 10}).json() for _ in range(3)]
        ids = [call["sessionId"] for call in calls]
        asyncio.run(join_then_kill(base, calls[0], app))  # a real client is in the first room
    finally:
        app.kill()
        app.wait(timeout=10)

    with sqlite3.connect(data / "ledger.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 3

    app = start_app(data, port)
    try:  # the running call ends at its maxDuration (10 s); the others were never joined
        rows = {r["session_id"]: r for r in wait_until_all_terminal(base)}
    finally:
        app.terminate()
        app.wait(timeout=10)
    assert set(rows) == set(ids)
    assert rows[ids[0]]["status"] == "COMPLETED" and rows[ids[0]]["duration"] is not None
    for session_id in ids[1:]:
        assert rows[session_id]["status"] == "FAILED"
        assert rows[session_id]["failure_code"] == "TALKING_AVATAR.NO_PARTICIPANT"


async def join_then_kill(base: str, credentials: dict, app: subprocess.Popen) -> None:
    """Join the first call's room with LiveKit's Python SDK, see the session RUNNING, then SIGKILL
    the studio (and its embedded simulator) while the call is live."""
    call = Call()
    await call.join(credentials["serverUrl"], credentials["token"])
    deadline = time.monotonic() + 10
    while True:  # the refresher brings the ledger up to date within its interval
        rows = (await asyncio.to_thread(httpx.get, f"{base}/api/sessions")).json()["sessions"]
        statuses = {r["session_id"]: r["status"] for r in rows}
        if statuses[credentials["sessionId"]] == "RUNNING" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert sorted(statuses.values()) == ["READY", "READY", "RUNNING"]
    app.send_signal(signal.SIGKILL)
    await asyncio.to_thread(app.wait, 10)
    await call.leave()
