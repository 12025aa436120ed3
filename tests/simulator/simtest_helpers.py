"""Helpers shared by the simulator tests (imported from conftest and test modules)."""

from __future__ import annotations

import base64
import io
import random
import time
from typing import Any

import httpx
from PIL import Image

from simulator import FakeClock
from simulator.server import ServerHandle

API_KEY = "key_" + "ab" * 64
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Runway-Version": "2024-11-06"}
PRESET_AVATAR = {"type": "runway-preset", "preset_id": "influencer"}
PRESET_VOICE = {"type": "runway-live-preset", "preset_id": "clara"}


def face_png(size: int = 48, seed: int = 1) -> bytes:
    """A noisy (non-flat) PNG: the simulator treats it as an image with a face."""
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    image.putdata(
        [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size * size)]
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def flat_bmp(size: int = 32) -> bytes:
    """A single flat colour (uncompressed, so it is > 512 bytes): "no face"."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 180, 160)).save(out, format="BMP")
    return out.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


class Sim:
    """Control-plane access over HTTP, as any app's tests would use it."""

    def __init__(self, handle: ServerHandle, http: httpx.Client) -> None:
        self.handle = handle
        self.base_url = handle.base_url
        self.simulator = handle.simulator
        self.clock: FakeClock = handle.simulator.clock  # type: ignore[assignment]
        self.http = http

    # control plane ---------------------------------------------------------------
    def control(self, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.http.post(f"/_simulator/{path}", json=body)
        assert response.status_code == expect, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        self.control("clock/advance", {"seconds": seconds})

    def join(self, session_id: str, expect: int = 200) -> Any:
        return self.control(f"sessions/{session_id}/join", expect=expect)

    def leave(self, session_id: str, transcript: list[dict[str, Any]] | None = None) -> Any:
        return self.control(
            f"sessions/{session_id}/leave",
            {"transcript": transcript} if transcript is not None else None,
        )

    def fault(self, **spec: Any) -> str:
        return self.control("faults", spec)["id"]

    def configure(self, **changes: Any) -> Any:
        return self.control("config", changes)

    def state(self) -> dict[str, Any]:
        response = self.http.get("/_simulator/state")
        assert response.status_code == 200
        return response.json()

    def requests(self, key: str) -> int:
        return self.state()["requests"].get(key, 0)

    # raw API access ----------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**HEADERS, **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    # composite steps -----------------------------------------------------------------
    def ready_session(self, client: Any, **create: Any) -> tuple[str, str]:
        """Create a preset session and bring it to READY; returns (id, sessionKey)."""
        session_id = client.realtime_sessions.create(
            model="gwm1_avatars", avatar=create.pop("avatar", PRESET_AVATAR), **create
        ).id
        self.advance(self.simulator.config.ready_delay)
        ready = client.realtime_sessions.retrieve(session_id)
        assert ready.status == "READY", ready
        return session_id, ready.session_key


def consume(client: Any, session_id: str, session_key: str) -> Any:
    """The one-time consume through the SDK's generic post, as the reference shows."""
    return client.with_options(max_retries=0).post(
        f"/v1/realtime_sessions/{session_id}/consume",
        cast_to=object,
        body={},
        options={"headers": {"Authorization": f"Bearer {session_key}"}},
    )


async def aconsume(client: Any, session_id: str, session_key: str) -> Any:
    return await client.with_options(max_retries=0).post(
        f"/v1/realtime_sessions/{session_id}/consume",
        cast_to=object,
        body={},
        options={"headers": {"Authorization": f"Bearer {session_key}"}},
    )


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`base` with some fields changed (a malformed request built from a good one)."""
    return {**base, **changes}


def without(base: dict[str, Any], key: str) -> dict[str, Any]:
    """`base` without one field."""
    return {k: v for k, v in base.items() if k != key}


def wait_for(check: Any, timeout: float = 10.0) -> Any:
    """The first truthy value of `check()`, polled until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return value


def send_malformed(sim: Any, case: Any, world: dict[str, str], json: Any) -> httpx.Response:
    """One bad-input case sent as written: HEADERS with the case's changes (None removes a header,
    ids come from `world`), then `json`, or the case's raw content when it has no JSON."""
    headers: dict[str, str] = dict(HEADERS)
    for name, value in case.headers.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value.format(**world)
    if case.json is not None or case.content is not None:
        headers.setdefault("Content-Type", "application/json")
    if "Content-Type" in case.headers and case.headers["Content-Type"] is None:
        headers.pop("Content-Type", None)
    return sim.http.request(case.method, case.path.format(**world), headers=headers,
                            content=case.content if case.json is None else None, json=json)


def assert_refused(response: httpx.Response, status: int, validation: bool) -> None:
    """Refused with `status` and Runway's error shape (with its issues for a validation error)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    if validation:
        assert body["docUrl"] == "https://docs.dev.runwayml.com/api"
        assert body["issues"] and all({"code", "path", "message"} <= set(i) for i in body["issues"])


def state_but_requests(state: dict[str, Any]) -> dict[str, Any]:
    """The simulator's state without its request counts (which every request moves)."""
    return {k: v for k, v in state.items() if k != "requests"}
