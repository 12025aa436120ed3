"""A studio on the embedded simulator for the clip tests, driven by a FakeClock, and its counts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.testclient import TestClient

from studio.catalog.forms import CharacterForm
from studio.clock import FakeClock
from tests.app.conftest import json_app
from tests.characters.support import face_jpeg
from tests.support import studio_settings

CREATE = "POST /v1/avatar_videos"


class ClipHarness:
    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client, self.clock = client, clock
        self.studio = client.app.state.studio
        self.clips = self.studio.clips
        self.sim = httpx.Client(base_url=self.studio.upstream.base_url, timeout=10)

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a coroutine function on the app's loop (where the gateway's client lives)."""
        async def call() -> Any:
            return await fn(*args, **kwargs)
        return self.client.portal.call(call)

    def state(self) -> dict[str, Any]:
        return self.sim.get("/_simulator/state").json()

    def requests(self, key: str) -> int:
        return sum(n for name, n in self.state()["requests"].items() if name.startswith(key))

    def configure(self, **values: Any) -> None:
        self.sim.post("/_simulator/config", json=values).raise_for_status()

    def follow(self) -> int:
        return self.run(self.clips.follower.follow_once)

    def follow_until(self, clip_id: str, status: str, step: float = 1.0, rounds: int = 200) -> dict:
        """Advance the clock a step and follow, until the clip reaches `status`. The simulator
        renders the MP4 in a thread, so SUCCEEDED also waits for that (state, not time)."""
        for _ in range(rounds):
            row = self.clips.clip(clip_id)
            if row["status"] == status:
                return row
            self.clock.advance(step)
            self.follow()
            time.sleep(0.01)
        raise AssertionError(f"clip {clip_id} is {self.clips.clip(clip_id)['status']}, not {status}")

    def custom_character(self, name: str = "Ava", ready: bool = True, **extra: Any) -> dict[str, Any]:
        form = CharacterForm(name=name, personality="A friendly product guide.", voice="preset:clara",
                             start_script="Hi, I'm Ava! Ask me anything.", image_data=face_jpeg(),
                             image_filename="ava.jpg", **extra)
        avatar = self.run(self.studio.characters.create_character, form)
        if ready:
            self.clock.advance(3)
            avatar = self.run(self.studio.characters.get_character, avatar["id"])
            assert avatar["status"] == "READY"
        return avatar


@contextlib.contextmanager
def clip_harness(tmp_path, **env: str) -> Iterator[ClipHarness]:
    clock = FakeClock()
    settings = studio_settings(tmp_path / "data", STUDIO_CLIP_POLL_INTERVAL="3600", **env)
    with TestClient(json_app(settings, clock)) as client:
        yield ClipHarness(client, clock)
