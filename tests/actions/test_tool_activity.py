"""The Call tab's tool activity: this browser's newest call's tool calls, escaped, and nothing sent
to the page while nothing changed."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from components.tool_activity import EMPTY, ToolActivity, activity_html
from tests.app.conftest import harness_for


def browser_request(host: str = "testclient") -> SimpleNamespace:
    """What the handler reads of a gr.Request: the peer address and the forwarded header."""
    return SimpleNamespace(client=SimpleNamespace(host=host), headers={})


def test_the_activity_follows_this_browsers_call_and_skips_when_unchanged(tmp_path):
    with harness_for(tmp_path) as harness:
        studio = harness.studio
        activity = ToolActivity(studio, avatar=None)
        html, seen = activity.poll("music-superstar", "", browser_request())
        assert (html, seen) == (EMPTY, "none")
        assert activity.poll("music-superstar", seen, browser_request()) == (gr.skip(), gr.skip())

        session_id = harness.start_call("music-superstar").json()["sessionId"]
        html, seen = activity.poll("music-superstar", seen, browser_request())
        assert html == EMPTY and seen.startswith(session_id)
        studio.actions.store.record_call(session_id, "look_up_order", "backend_rpc", {"order_id": "<b>1</b>"},
                                         at=studio.clock.now(), answer={"status": "shipped"}, latency_ms=42.0)
        html, seen = activity.poll("music-superstar", seen, browser_request())
        assert "look_up_order" in html and "&lt;b&gt;1&lt;/b&gt;" in html and "<b>1</b>" not in html
        assert "42 ms" in html and "shipped" in html
        assert activity.poll("music-superstar", seen, browser_request()) == (gr.skip(), gr.skip())
        # Another browser (another address) has no call with this character.
        assert activity.poll("music-superstar", "", browser_request("10.1.2.3"))[0] == EMPTY


def test_an_error_shows_instead_of_an_answer_and_a_backend_problem_is_said():
    calls = [{"tool": "book_slot", "kind": "backend_rpc", "arguments": {}, "answer": None,
              "error": "example.com answered HTTP 500.", "latency_ms": 3.25, "at": 0.0}]
    html = activity_html(calls, "The studio could not answer this call's tools: Runway refused.")
    assert "class='error' data-label='error'>example.com answered HTTP 500." in html and "3.2 ms" in html
    assert "could not answer this call&#x27;s tools" in html


def test_only_the_simulated_character_can_be_told_to_use_a_tool(tmp_path):
    import asyncio

    import pytest

    from studio.errors import StudioError

    with harness_for(tmp_path) as harness:
        before = harness.upstream_requests()
        with pytest.raises(StudioError) as refused:
            asyncio.run(harness.studio.actions.use_tool("some-session", "look_up_order", {}, simulated=False))
        assert refused.value.code == "offline_only"
        assert harness.upstream_requests() == before  # nothing reached the control plane
