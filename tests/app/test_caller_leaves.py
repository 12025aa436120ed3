"""A caller that hangs up while the session is provisioning leaves nothing queued upstream."""

from __future__ import annotations

import time

import httpx
import pytest

from app import build_app
from tests.support import serve, studio_settings


def test_disconnect_cancels_the_session_upstream(tmp_path):
    app = build_app(studio_settings(tmp_path / "data", STUDIO_SIM_READY_DELAY="5"))
    studio = app.state.studio
    with serve(app) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/api/avatar/session", json={"avatarId": "influencer"}, timeout=0.8)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            rows = studio.ledger.list()
            if rows and rows[0]["status"] == "CANCELLED":
                break
            time.sleep(0.1)
        [row] = studio.ledger.list()
        assert (row["status"], row["failure_code"]) == ("CANCELLED", "client_gone")
        sessions = httpx.get(f"{studio.upstream.base_url}/_simulator/state").json()["sessions"]
        assert [s["status"] for s in sessions] == ["CANCELLED"]
