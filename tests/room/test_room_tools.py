"""The character's tools in the loopback room: keyword matching and argument filling as pure
functions; then real calls where LiveKit's official Python SDK is both the browser and the
hidden backend. A typed turn fires a client event (the exact packet and its echo reach the
browser) or a backend RPC (the backend's handler gets the worker's identity and the
arguments, and its answer is what the character says next); a slow backend, a failing one
and a missing one each end as a spoken apology with LiveKit's error code recorded."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from livekit import rtc
from livekit.protocol import models

from simulator.room import tools
from simulator.room.rpc import RpcCaller, RpcFailure
from simulator.room.spec import RoomSpec, ToolSettings
from tests.room.support import Call, run, wait_until

BACKEND = "backend:test"
SHOW_PRODUCT = {
    "type": "client_event",
    "name": "show_product",
    "description": "Show a product card on the page",
    "parameters": [
        {"type": "string", "name": "product", "description": "Which product", "required": True},
        {
            "type": "string", "name": "color", "description": "Colour", "required": False,
            "enum": ["red", "black", "brown"],
        },
    ],
}  # fmt: skip
LOOKUP_ORDER = {
    "type": "backend_rpc",
    "name": "lookup_order",
    "description": "Look up the shipping status of an order by its number",
    "parameters": [
        {"type": "string", "name": "order_id", "description": "The order number", "required": True}
    ],
    "timeoutSeconds": 1,
}
BOOK_SLOT = {
    "type": "backend_rpc",
    "name": "book_slot",
    "description": "Book a fitting appointment",
    "parameters": [
        {"type": "string", "name": "day", "description": "Day", "enum": ["monday", "next week"]},
        {"type": "integer", "name": "people", "description": "How many people"},
        {"type": "boolean", "name": "reminder", "description": "Reminder", "required": False},
        {"type": "number", "name": "budget", "description": "Budget", "required": False},
    ],
}
OPEN_LINK = {
    "type": "client_event",
    "name": "open_link",
    "description": "Open a web page for the user",
    "parameters": [{"type": "string", "name": "url", "description": "The link"}],
}
TOOLS = [SHOW_PRODUCT, LOOKUP_ORDER, BOOK_SLOT, OPEN_LINK]


# ---------------------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("text", "tool", "args"),
    [
        ("Where is my order 4417?", "lookup_order", {"order_id": "4417"}),
        ("Could you look up \"A-77\" for me", "lookup_order", {"order_id": "A-77"}),
        ("Can you show me the brown boots?", "show_product", {"product": "boots", "color": "brown"}),
        ("Show me 'Trail Runner X' in red", "show_product", {"product": "Trail Runner X", "color": "red"}),
        ("I'm booking for 3 people next week, no reminder", "book_slot",
         {"day": "next week", "people": 3, "reminder": False}),
        ("Book two people, budget 49.5", "book_slot", {"day": "monday", "people": 2, "budget": 49.5}),
        ("Please open https://example.com/boots.", "open_link", {"url": "https://example.com/boots"}),
    ],
)  # fmt: skip
def test_a_turn_that_asks_for_a_tool_picks_it_and_fills_its_arguments(text, tool, args) -> None:
    found = tools.match_tool(text, TOOLS)
    assert found is not None and found["name"] == tool
    assert tools.fill_arguments(found, text) == args


@pytest.mark.parametrize(
    "text",
    ["How long is the return window for shoes?", "Is shipping free?", "Hello there", "Thanks!"],
)
def test_ordinary_questions_fire_no_tool(text: str) -> None:
    assert tools.match_tool(text, TOOLS) is None


def test_stems_and_joined_words_meet_tool_names() -> None:
    assert tools.stem("booking") == tools.stem("booked") == tools.stem("books") == "book"
    assert tools.stem("shipped") == "ship"
    assert (
        tools.name_terms("lookupOrder") == tools.name_terms("lookup_order") == {"lookup", "order"}
    )
    assert "lookup" in tools.terms("please look up this", joined=True)


def test_the_first_declared_tool_wins_a_tie_and_required_strings_get_a_default() -> None:
    twin = {**LOOKUP_ORDER, "name": "order_lookup"}
    assert tools.match_tool("lookup order", [twin, LOOKUP_ORDER]) is twin
    assert tools.fill_arguments(LOOKUP_ORDER, "look up my order") == {"order_id": "order id"}
    assert tools.fill_arguments(SHOW_PRODUCT, "show me the fancy sandals") == {
        "product": "fancy sandals"
    }


def test_the_character_says_results_and_failures_in_words() -> None:
    args = {"order_id": "4417"}
    assert tools.result_speech("lookup_order", args, {"status": "shipped"}) == (
        "I checked lookup order for order id 4417: status is shipped."
    )
    assert tools.result_speech("lookup_order", args, {"message": "It left on Monday."}) == (
        "It left on Monday."
    )
    assert "order not found" in tools.result_speech(
        "lookup_order", args, {"error": "order not found"}
    )
    assert tools.failure_speech("lookup_order", args, 1502, "Response timeout").endswith(
        "it took too long to answer."
    )
    assert "database down" in tools.failure_speech("lookup_order", args, 1500, "database down")


def test_the_rpc_caller_keeps_livekits_timers_and_codes() -> None:
    sent: list[models.DataPacket] = []

    async def scenario() -> list[tuple[int, str]]:
        caller = RpcCaller(sent.append)
        outcomes = []

        async def attempt(coro: Any) -> None:
            try:
                outcomes.append((0, await coro))
            except RpcFailure as failure:
                outcomes.append((failure.code, failure.message))

        # nobody acks: the ack budget (shorter here) runs out first -> 1501
        await attempt(caller.call("b", "m", "{}", response_timeout=2, ack_timeout=0.05))
        # acked but never answered -> 1502
        task = asyncio.ensure_future(
            attempt(caller.call("b", "m", "{}", response_timeout=0.2, ack_timeout=5))
        )
        await asyncio.sleep(0.05)
        caller.on_packet(
            models.DataPacket(rpc_ack=models.RpcAck(request_id=sent[-1].rpc_request.id))
        )
        await task
        # an error response, and a success
        for answer in (
            models.RpcResponse(error=models.RpcError(code=1500, message="boom")),
            models.RpcResponse(payload='{"ok": true}'),
        ):
            task = asyncio.ensure_future(
                attempt(caller.call("b", "m", "{}", response_timeout=2, ack_timeout=2))
            )
            await asyncio.sleep(0.05)
            answer.request_id = sent[-1].rpc_request.id
            caller.on_packet(models.DataPacket(rpc_response=answer))
            await task
        # the backend leaves mid-call -> 1503; an oversized request is never sent -> 1402
        task = asyncio.ensure_future(
            attempt(caller.call("b", "m", "{}", response_timeout=2, ack_timeout=2))
        )
        await asyncio.sleep(0.05)
        caller.recipient_left("b")
        await task
        await attempt(caller.call("b", "m", "x" * 20_000, response_timeout=2, ack_timeout=2))
        return outcomes

    assert run(scenario()) == [
        (1501, "Connection timeout"),
        (1502, "Response timeout"),
        (1500, "boom"),
        (0, '{"ok": true}'),
        (1503, "Recipient disconnected"),
        (1402, "Request payload too large"),
    ]
    request = sent[0].rpc_request
    assert list(sent[0].destination_identities) == ["b"] and len(sent) == 5
    assert (request.method, request.version, request.response_timeout_ms) == ("m", 1, 2000)


# ---------------------------------------------------------------------------- calls in the room


class Backend:
    """The hidden backend, joined with LiveKit's official Python SDK, answering one tool."""

    def __init__(self, answer: Any) -> None:
        self.room = rtc.Room()
        self.calls: list[rtc.RpcInvocationData] = []
        self.answer = answer

    async def join(self, url: str, token: str, method: str = "lookup_order") -> None:
        await self.room.connect(url, token)

        async def handler(data: rtc.RpcInvocationData) -> str:
            self.calls.append(data)
            return await self.answer(data)

        self.room.local_participant.register_rpc_method(method, handler)


def open_room(harness, **settings: Any) -> tuple[str, str]:
    return harness.open(
        start_script="Hi.",
        tools=tuple(TOOLS),
        tool_settings=ToolSettings(backend_identity=BACKEND, **settings),
    )


def backend_token(harness, room_name: str) -> str:
    return harness.server.mint_token(
        room_name, BACKEND, 600, hidden=True, can_publish=False, can_subscribe=False
    )


async def greeted_call(harness, room_name: str) -> Call:
    call = Call()
    await call.join(harness.url, harness.token(room_name))
    await wait_until(lambda: 0 in call.transcript("assistant"), 15, "greeting")
    return call


async def reply_after(call: Call, text: str, ending: str) -> str:
    """The character's next line, once its deltas reach ``ending`` (the line's last words)."""
    turn = len(call.transcript("assistant"))
    await call.say(text)
    await wait_until(
        lambda: call.transcript("assistant").get(turn, "").endswith(ending), 20, repr(ending)
    )
    return call.transcript("assistant")[turn]


def test_a_backend_rpc_reaches_the_hidden_backend_and_its_answer_is_said(harness) -> None:
    room_name, session_id = open_room(harness)

    async def shipped(data: rtc.RpcInvocationData) -> str:
        return json.dumps({"status": "shipped via Parcelforce"})

    async def scenario() -> tuple[Backend, Call, str, list[str], list[str]]:
        backend = Backend(shipped)
        await backend.join(harness.url, backend_token(harness, room_name))
        call = await greeted_call(harness, room_name)
        seen_by_browser = sorted(p.identity for p in call.room.remote_participants.values())
        seen_by_backend = sorted(p.identity for p in backend.room.remote_participants.values())
        line = await reply_after(call, "Where is my order 4417?", "Parcelforce.")
        await call.leave()
        await backend.room.disconnect()
        return backend, call, line, seen_by_browser, seen_by_backend

    backend, _, line, browser_sees, backend_sees = run(scenario())
    assert browser_sees == ["worker:avatar"]  # the backend is hidden
    assert backend_sees == ["user:test", "worker:avatar"]
    [invocation] = backend.calls
    assert invocation.caller_identity == "worker:avatar"
    assert json.loads(invocation.payload) == {"args": {"order_id": "4417"}}
    assert invocation.response_timeout == pytest.approx(1.0)
    assert line == "I checked lookup order for order id 4417: status is shipped via Parcelforce."
    ending = harness.hooks.wait_end(session_id)
    [entry] = [e for e in ending.transcript if e.get("toolCalls")]
    assert entry["content"] is None
    assert entry["toolCalls"][0]["arguments"] == {"order_id": "4417"}
    assert entry["toolResults"][0]["result"] == {"status": "shipped via Parcelforce"}


def test_a_slow_backend_times_out_and_an_error_is_said(harness) -> None:
    room_name, session_id = open_room(harness)
    answers = iter(["slow", "error"])

    async def answer(data: rtc.RpcInvocationData) -> str:
        if next(answers) == "slow":
            await asyncio.sleep(3)  # past timeoutSeconds (1)
            return "{}"
        raise rtc.RpcError(1500, "order 9 is not ours")

    async def scenario() -> tuple[str, str]:
        backend = Backend(answer)
        await backend.join(harness.url, backend_token(harness, room_name))
        call = await greeted_call(harness, room_name)
        slow = await reply_after(call, "Where is my order 8?", "answer.")
        failed = await reply_after(call, "Where is my order 9?", "ours.")
        await call.leave()
        await backend.room.disconnect()
        return slow, failed

    slow, failed = run(scenario())
    assert (
        slow
        == "Sorry, I couldn't lookup order for order id 8 just now: it took too long to answer."
    )
    assert failed == "Sorry, I couldn't lookup order for order id 9 just now: order 9 is not ours."
    ending = harness.hooks.wait_end(session_id)
    results = [e["toolResults"][0] for e in ending.transcript if e.get("toolResults")]
    assert [r["error"] for r in results] == ["Response timeout", "order 9 is not ours"]
    assert results[0]["durationMs"] >= 1000


def test_without_a_backend_the_call_fails_and_the_character_says_so(harness) -> None:
    waits, _ = open_room(harness)
    at_once, _ = open_room(harness, missing_backend_waits=False)

    async def ask(room_name: str, ending: str) -> str:
        call = await greeted_call(harness, room_name)
        line = await reply_after(call, "Where is my order 12?", ending)
        await call.leave()
        return line

    said = "Sorry, I couldn't lookup order for order id 12 just now: "
    assert run(ask(waits, "answer.")) == said + "it took too long to answer."  # timers ran out
    assert run(ask(at_once, "ask.")) == said + "there is no service in the call to ask."  # 1401


def test_a_client_event_reaches_the_browser_with_runways_packet_and_echo(harness) -> None:
    room_name, _ = open_room(harness)

    async def scenario() -> tuple[list, str]:
        call = await greeted_call(harness, room_name)
        line = await reply_after(call, "Can you show me the brown boots?", "now.")
        await call.leave()
        return call.packets, line

    packets, line = run(scenario())
    events = [
        (sender, topic, body)
        for sender, topic, body in packets
        if body.get("type") == "client_event"
    ]
    assert events == [
        ("worker:avatar", "", {"type": "client_event", "tool": "show_product",
                               "args": {"product": "boots", "color": "brown"}}),
        ("worker:avatar", "", {"type": "client_event", "tool": "show_product",
                               "args": {"status": "event_sent"}}),
    ]  # fmt: skip
    assert line == "Okay, show product for product boots, color brown. It's on your screen now."


def test_client_events_are_refused_without_a_preset_voice(harness) -> None:
    room_name, _ = open_room(harness, client_events=False)

    async def scenario() -> tuple[list, str]:
        call = await greeted_call(harness, room_name)
        line = await reply_after(call, "Please open https://example.com/boots", "have.")
        await call.leave()
        return call.packets, line

    packets, line = run(scenario())
    assert not [p for p in packets if p[2].get("type") == "client_event"]
    assert (
        line == "Sorry, I can't open link for url https://example.com/boots with the voice I have."
    )


def test_a_backend_alone_starts_no_call_and_leaves_at_the_join_deadline(harness) -> None:
    session_id = str(uuid.uuid4())
    room_name = f"room-{session_id}"
    harness.server.open_room(
        RoomSpec(name=room_name, session_id=session_id, join_deadline=time.time() + 1.5)
    )

    async def scenario() -> bool:
        backend = Backend(None)
        disconnected = asyncio.Event()
        backend.room.on("disconnected", lambda *_: disconnected.set())
        await backend.join(harness.url, backend_token(harness, room_name))
        await asyncio.wait_for(disconnected.wait(), 10)
        return backend.room.remote_participants.keys() <= {"worker:avatar"}

    assert run(scenario())
    assert session_id not in harness.hooks.joins and session_id not in harness.hooks.ends
    assert not harness.server.has_room(room_name)
