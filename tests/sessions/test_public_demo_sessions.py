"""A public demo's Sessions tab through its named endpoints: each visitor sees, opens and cancels
only the calls made from their own address; other visitors' calls and the account's other
conversations stay out of sight (the table, the figures, the details, the transcript)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from gradio_client import Client

from app import build_app
from tests.support import serve, sim_session, studio_settings, wait_for_row

SIM_HEADERS = {"Authorization": f"Bearer key_{'ab' * 64}", "X-Runway-Version": "2024-11-06"}
NO_FILTERS = ([], "", None, None, "")
ALICE, BOB = "203.0.113.7", "198.51.100.23"  # the addresses the Space's proxy reports
BOBS_SECRET = "My PIN is 4921, keep it between us."


def as_visitor(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def start_call(http: httpx.Client, address: str, avatar: str = "music-superstar") -> str:
    answer = http.post("/api/avatar/session", json={"avatarId": avatar}, headers=as_visitor(address))
    assert answer.status_code == 200, answer.text
    return answer.json()["sessionId"]


def finish_call(studio, session_id: str, transcript: list[dict]) -> None:
    """A whole call without a browser: the simulator's control plane joins and leaves."""
    sim_session(studio, session_id, "join")
    wait_for_row(studio, session_id, "RUNNING")
    sim_session(studio, session_id, "leave", transcript)
    wait_for_row(studio, session_id, "COMPLETED")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Alice made one call; Bob made two (one still open); another app made one on the account."""
    settings = studio_settings(tmp_path_factory.mktemp("public-demo"), STUDIO_PUBLIC_DEMO="true",
                               STUDIO_TRUST_PROXY_HEADERS="true", STUDIO_REFRESH_INTERVAL="0.5",
                               STUDIO_HISTORY_TTL="1", STUDIO_SIM_READY_DELAY="0.3")
    app = build_app(settings)
    studio = app.state.studio
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        ids = {"alice": start_call(http, ALICE), "bob": start_call(http, BOB, "cat-character"),
               "bob_open": start_call(http, BOB)}
        finish_call(studio, ids["alice"], [{"role": "user", "content": "Hello from Alice"}])
        finish_call(studio, ids["bob"], [{"role": "user", "content": BOBS_SECRET}])
        elsewhere = httpx.post(f"{studio.upstream.base_url}/v1/realtime_sessions", headers=SIM_HEADERS,
                               json={"model": "gwm1_avatars",
                                     "avatar": {"type": "runway-preset", "presetId": "fashion-designer"}})
        assert elsewhere.status_code == 200, elsewhere.text
        ids["elsewhere"] = elsewhere.json()["id"]
        alice, bob = (Client(url, verbose=False, headers=as_visitor(a)) for a in (ALICE, BOB))
        try:
            yield alice, bob, ids, studio
        finally:
            alice.close()
            bob.close()


def table_of(client: Client) -> tuple[dict[str, dict], str, str]:
    table, figures, caption = client.predict(*NO_FILTERS, api_name="/sessions_table")
    return {row[-1]: dict(zip(table["headers"], row)) for row in table["data"]}, figures, caption


def figure(figures: str, key: str) -> str:
    return re.search(rf"data-figure='{key}'>.*?<div class='value'>([^<]*)</div>", figures).group(1)


def test_each_visitor_sees_only_their_own_calls(demo):
    alice, bob, ids, studio = demo
    deadline = time.monotonic() + 15
    while ids["elsewhere"] not in {c["id"] for c in studio.history.conversations.items}:
        assert time.monotonic() < deadline, "the account's conversations were never listed"
        table_of(alice)  # reading the table is what refreshes the shared conversations list
        time.sleep(0.3)

    rows, figures, caption = table_of(alice)
    assert set(rows) == {ids["alice"]}
    assert figure(figures, "today") == "1" and figure(figures, "minutes") != ""
    assert caption.startswith("**1** session in all;"), caption
    assert "only the calls made from your address" in caption

    rows, figures, _ = table_of(bob)
    assert set(rows) == {ids["bob"], ids["bob_open"]}
    assert figure(figures, "today") == "2"


def test_another_visitors_details_and_transcript_are_refused(demo):
    alice, bob, ids, _ = demo
    heading, _, overrides, transcript = alice.predict(ids["bob"], api_name="/session_details")[:4]
    assert "only your own calls" in heading
    assert BOBS_SECRET not in f"{heading}{overrides}{transcript}"
    # An id nobody made reads the same, so ids cannot be probed.
    assert "only your own calls" in alice.predict("not-a-session", api_name="/session_details")[0]

    heading, _, _, transcript = bob.predict(ids["bob"], api_name="/session_details")[:4]
    assert "completed" in heading and BOBS_SECRET in transcript


def test_a_visitor_cancels_only_their_own_call(demo):
    alice, bob, ids, studio = demo
    assert "not one of them" in alice.predict(ids["bob_open"], api_name="/cancel_session")
    assert studio.ledger.get(ids["bob_open"])["status"] not in ("CANCELLED", "FAILED", "COMPLETED")
    assert bob.predict(ids["bob_open"], api_name="/cancel_session") == "Session cancelled."
    assert studio.ledger.get(ids["bob_open"])["status"] == "CANCELLED"
