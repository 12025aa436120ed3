"""How the reusable backend answers a tool: fixed, template, or forwarded to an endpoint (here a
loopback HTTP server the test starts, with private addresses allowed as a test setting), and the
studio's check that refuses loopback and private endpoints when they are not allowed."""

from __future__ import annotations

import asyncio
import functools

import pytest

from studio.actions.answers import FIXED, FORWARD, TEMPLATE, handler_for
from studio.actions.rpc_backend import ToolError, client_event, fill_template
from studio.actions.service import checked_address
from studio.errors import StudioError
from tests.actions.support import Endpoint


@pytest.fixture(scope="module")
def endpoint():
    server = Endpoint(slow=2.0)
    yield server
    server.close()


def run(coro):
    return asyncio.run(coro)


def forward(url: str, timeout: float = 1.0, allow_private: bool = True):
    check = functools.partial(checked_address, allow_private=allow_private)
    return handler_for({"kind": FORWARD, "url": url, "timeoutSeconds": timeout}, "look_up_order", check)


def test_a_forward_posts_the_tool_and_arguments_and_answers_with_the_endpoints_json(endpoint):
    answer = run(forward(f"{endpoint.url}/ok")({"order_id": "A1"}))
    assert answer == {"status": "shipped", "echo": {"tool": "look_up_order", "arguments": {"order_id": "A1"}}}
    assert endpoint.received[-1]["host"] == endpoint.url.removeprefix("http://")


@pytest.mark.parametrize(("path", "words"), [
    ("/fail", "answered HTTP 500"),
    ("/notjson", "not JSON"),
    ("/redirect", "answered HTTP 302"),
])
def test_a_failing_endpoint_becomes_an_error_the_character_can_say(endpoint, path, words):
    with pytest.raises(ToolError) as failed:
        run(forward(endpoint.url + path)({}))
    assert words in str(failed.value)


def test_a_slow_endpoint_is_given_up_on_at_its_timeout_and_nothing_is_left_running(endpoint):
    async def call_and_look():
        with pytest.raises(ToolError) as failed:
            await forward(f"{endpoint.url}/slow", timeout=0.3)({})
        return str(failed.value), [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    message, left = run(call_and_look())
    assert message == "127.0.0.1 did not answer within 0.3 s."
    assert left == []


def test_loopback_is_refused_unless_private_addresses_are_allowed(endpoint):
    before = len(endpoint.received)
    with pytest.raises(StudioError) as refused:
        run(forward(f"{endpoint.url}/ok", allow_private=False)({}))
    assert refused.value.code == "url_not_allowed"
    with pytest.raises(StudioError) as refused:
        run(checked_address("https://127.0.0.1:9/hook", allow_private=False))
    assert "private or local address" in refused.value.message
    for url in ("https://10.0.0.7/", "https://169.254.169.254/latest", "https://[::1]/"):
        with pytest.raises(StudioError):
            run(checked_address(url, allow_private=False))
    assert len(endpoint.received) == before  # nothing reached the endpoint


def test_fixed_and_template_answers():
    assert run(handler_for({"kind": FIXED, "reply": {"ok": True}}, "t")({"x": 1})) == {"ok": True}
    template = {"kind": TEMPLATE, "reply": {"day": "{day}", "n": "{count}", "text": "{count} on {day}"}}
    assert run(handler_for(template, "t")({"day": "friday", "count": 2})) == {
        "day": "friday", "n": 2, "text": "2 on friday"}


def test_a_template_fills_nested_values_and_leaves_missing_ones_empty():
    assert fill_template({"a": ["{x}", {"b": "id-{y}"}], "c": 3}, {"x": [1, 2]}) == {
        "a": [[1, 2], {"b": "id-"}], "c": 3}


@pytest.mark.parametrize(("packet", "expected"), [
    (b'{"type":"client_event","tool":"open_link","args":{"url":"https://example.com"}}',
     ("open_link", {"url": "https://example.com"})),
    (b'{"type":"client_event","tool":"open_link","args":{"status":"event_sent"}}', None),
    (b'{"type":"client_event","tool":"open_link","args":"x"}', None),
    (b'{"type":"transcription","role":"assistant","text":"hi"}', None),
    (b"not json", None),
    (b"\xff\xfe", None),
])
def test_client_event_packets_are_read_as_the_browser_sdk_reads_them(packet, expected):
    assert client_event(packet) == expected
