"""The reusable backend (`studio.actions.rpc_backend`) in a real room: the simulator's session is
made with backend_rpc tools through the official `runwayml` SDK, the backend fetches
`connect_backend` credentials over HTTP and joins with LiveKit's official Python SDK, a user joins
too and types a turn, and the simulated character calls the tool over LiveKit RPC and says the
answer. Real clock, loopback only."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator
from typing import Any

import pytest
import runwayml
from livekit import rtc

from simulator import SimConfig, serve_in_thread
from studio.actions.answers import FIXED, FORWARD, TEMPLATE, handler_for
from studio.actions.rpc_backend import RpcBackend, ToolCall, fetch_backend_credentials
from studio.actions.service import checked_address
from tests.actions.support import Endpoint
from tests.room.support import Call, run, wait_until
from tests.simulator.simtest_helpers import API_KEY, consume

CONFIG = SimConfig(ready_delay=0.1, avatar_delay=0.1, first_poll_queued=False)
ORDER_TOOL = {"type": "backend_rpc", "name": "look_up_order", "timeoutSeconds": 2,
              "description": "Look up the status of an order when the visitor asks where their order is.",
              "parameters": [{"type": "string", "name": "order_id", "description": "The order number."}]}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    handle = serve_in_thread(CONFIG)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    served = Endpoint(slow=3.0)
    yield served
    served.close()


def ready_session(server: Any, tools: list[dict[str, Any]]) -> tuple[str, Any]:
    with runwayml.RunwayML(api_key=API_KEY, base_url=server.base_url, max_retries=0) as client:
        session_id = client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": "influencer"},
            max_duration=60, tools=tools).id
        for _ in range(200):
            state = client.realtime_sessions.retrieve(session_id)
            if state.status == "READY":
                return session_id, consume(client, session_id, state.session_key)
            time.sleep(0.05)
    raise AssertionError("the session never became READY")


async def one_call(server: Any, answer: dict[str, Any], turn: str, expect: str) -> tuple[list[ToolCall], str]:
    """Join as backend and as user, type `turn`, and return the calls answered and the character's
    line that says `expect` (its lines stream in as deltas)."""
    session_id, user_credentials = ready_session(server, [ORDER_TOOL])
    credentials = await fetch_backend_credentials(session_id, API_KEY, base_url=server.base_url)
    calls: list[ToolCall] = []
    check = functools.partial(checked_address, allow_private=True)
    backend = RpcBackend({"look_up_order": handler_for(answer, "look_up_order", check)}, on_call=calls.append)
    await backend.join(credentials["url"], credentials["token"])
    user = Call()
    await user.join(user_credentials["url"], user_credentials["token"])
    try:
        await wait_until(lambda: user.transcript("assistant"), 15, "the start script")
        opening = len(user.transcript("assistant"))
        await user.say(turn)
        def spoken() -> str:
            lines = list(user.transcript("assistant").values())[opening:]
            return next((line for line in lines if expect in line), "")

        await wait_until(lambda: calls and spoken(), 20, f"the tool call and a line saying {expect!r}")
        said = spoken()
    finally:
        await user.leave()
        await backend.leave()
    assert not backend.joined
    return calls, said


def test_a_fixed_reply_is_what_the_character_says(server):
    calls, said = run(one_call(server, {"kind": FIXED, "reply": {"message": "Order 5150 left the warehouse"}},
                               "Where is my order 5150?", "Order 5150 left the warehouse"))
    assert [(c.tool, c.arguments, c.error) for c in calls] == [("look_up_order", {"order_id": "5150"}, None)]
    assert calls[0].caller.startswith("worker:") and calls[0].latency_ms >= 0
    assert "Order 5150 left the warehouse" in said


def test_a_template_reply_is_filled_from_the_arguments(server):
    answer = {"kind": TEMPLATE, "reply": {"message": "Order {order_id} arrives on Friday"}}
    calls, said = run(one_call(server, answer, "Where is my order 7731?", "Order 7731 arrives on Friday"))
    assert calls[0].answer == {"message": "Order 7731 arrives on Friday"}
    assert "Order 7731 arrives on Friday" in said


def test_a_forward_to_a_loopback_endpoint_answers_when_private_addresses_are_allowed(server, endpoint):
    answer = {"kind": FORWARD, "url": f"{endpoint.url}/ok", "timeoutSeconds": 1.5}
    calls, said = run(one_call(server, answer, "Where is my order 4242?", "shipped"))
    assert calls[0].answer["status"] == "shipped"
    assert endpoint.received[-1]["body"] == {"tool": "look_up_order", "arguments": {"order_id": "4242"}}
    assert "shipped" in said


@pytest.mark.parametrize(("path", "words"), [
    ("/fail", "answered HTTP 500"),
    ("/notjson", "not JSON"),
    ("/slow", "did not answer within 1.5 s"),
])
def test_a_failing_forward_is_said_as_a_failure_and_recorded(server, endpoint, path, words):
    answer = {"kind": FORWARD, "url": endpoint.url + path, "timeoutSeconds": 1.5}
    calls, said = run(one_call(server, answer, "Where is my order 5150?", words))
    assert calls[0].answer is None and words in calls[0].error
    assert words in said  # the RpcError's message reaches the character, before its 2 s timeout


def test_a_caller_that_is_not_the_worker_is_refused():
    backend = RpcBackend({"look_up_order": handler_for({"kind": FIXED, "reply": {}}, "look_up_order")})
    calls: list[ToolCall] = []
    backend.on_call = calls.append
    invocation = rtc.RpcInvocationData("r1", "user:someone", '{"args": {}}', 4.0, method="look_up_order")
    with pytest.raises(rtc.RpcError) as refused:
        asyncio.run(backend._invoke(invocation))
    assert refused.value.code == 1500 and refused.value.message == "Unauthorized caller: user:someone"
    assert calls[0].error == "Unauthorized caller: user:someone"


@pytest.mark.parametrize(("payload", "arguments"), [
    ('{"args": {"order_id": "1"}}', {"order_id": "1"}),
    ('{"order_id": "2"}', {"order_id": "2"}),
    ('{"args": null, "order_id": "3"}', {"args": None, "order_id": "3"}),
])
def test_wrapped_and_bare_payloads_are_both_read(payload, arguments):
    calls: list[ToolCall] = []
    backend = RpcBackend({"t": handler_for({"kind": FIXED, "reply": {"ok": 1}}, "t")}, on_call=calls.append)
    answer = asyncio.run(backend._invoke(rtc.RpcInvocationData("r", "worker:avatar", payload, 4.0, method="t")))
    assert answer == '{"ok": 1}' and calls[0].arguments == arguments


def test_invalid_json_is_refused_with_nodes_words():
    backend = RpcBackend({"t": handler_for({"kind": FIXED, "reply": {}}, "t")})
    with pytest.raises(rtc.RpcError) as refused:
        asyncio.run(backend._invoke(rtc.RpcInvocationData("r", "worker:avatar", "{nope", 4.0, method="t")))
    assert refused.value.message == "Invalid JSON payload"
