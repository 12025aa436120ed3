from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app import build_app
from server.api import build_api
from server.auth import Access
from server.embedded import connect_upstream
from studio.clock import FakeClock
from studio.config import Settings
from studio.core import Studio
from tests.support import sim_session, studio_settings


class Harness:
    """A studio app on the embedded simulator, driven by a FakeClock."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client, self.clock = client, clock
        self.studio = client.app.state.studio
        self.sim = httpx.Client(base_url=self.studio.upstream.base_url, timeout=10)

    def start_call(self, avatar: str = "music-superstar", headers: dict[str, str] | None = None,
                   **extra: Any) -> httpx.Response:
        return self.client.post("/api/avatar/session", json={"avatarId": avatar, **extra}, headers=headers)

    def sim_state(self) -> dict[str, Any]:
        return self.sim.get("/_simulator/state").json()

    def upstream_requests(self, key: str | None = None) -> int:
        counts = self.sim_state()["requests"]
        return counts.get(key, 0) if key else sum(counts.values())

    def fault(self, **fault: Any) -> None:
        self.sim.post("/_simulator/faults", json=fault).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def sim_call(self, session_id: str, action: str, transcript: list[dict] | None = None) -> None:
        """Join or leave through the simulator's control plane, then refresh the ledger."""
        sim_session(self.studio, session_id, action, transcript)
        self.client.portal.call(self.studio.refresher.refresh_once)

    def ledger_rows(self) -> list[dict[str, Any]]:
        return self.studio.ledger.list(limit=None)


def json_app(settings: Settings, clock: FakeClock | None) -> Any:
    """The studio's JSON routes alone (no Gradio UI), as `app.py` builds them."""
    upstream, stop = connect_upstream(settings, clock)
    return build_api(Studio(settings, upstream, clock=clock), Access(settings.auth_users), on_close=stop)


@contextlib.contextmanager
def harness_for(tmp_path, *, ui: bool = False, **env: str) -> Iterator[Harness]:
    """A FakeClock-driven studio; `ui=True` builds the whole app (Gradio included), else only what
    the JSON routes need, which starts several times faster."""
    clock = FakeClock()
    settings = studio_settings(tmp_path / "data", **env)
    app = build_app(settings, clock=clock) if ui else json_app(settings, clock)
    with TestClient(app) as client:
        yield Harness(client, clock)


@pytest.fixture
def harness(tmp_path) -> Iterator[Harness]:
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="50", STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="100") as h:
        yield h
