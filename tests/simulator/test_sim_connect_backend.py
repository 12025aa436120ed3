"""connect_backend and the character's tools on the whole simulator: the official `runwayml`
SDK creates the session with tools and asks for backend credentials (5.24.0 has no method
for it, so through the SDK's generic ``post``, as Runway's reference shows); LiveKit's
official Python SDK joins as the hidden backend and as the browser; the session's tool
calls show in the conversation and on the control plane. Real clock."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import runwayml
from livekit import rtc

from simulator import SimConfig, Simulator, serve_in_thread
from simulator.engine.records import Avatar, ImageRef, Session
from simulator.server import ServerHandle
from tests.room.support import Call, run, wait_until
from tests.simulator.simtest_helpers import API_KEY, consume, wait_for

CONFIG = SimConfig(ready_delay=0.1, avatar_delay=0.1, first_poll_queued=False)
TOOLS = [
    {
        "type": "backend_rpc", "name": "lookup_order", "timeoutSeconds": 2,
        "description": "Look up the shipping status of an order by its number",
        "parameters": [{"type": "string", "name": "order_id", "description": "The order number"}],
    },
    {
        "type": "client_event", "name": "show_product", "description": "Show a product card",
        "parameters": [{"type": "string", "name": "product", "description": "Which product"}],
    },
]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(CONFIG)
    yield handle
    handle.stop()


@pytest.fixture
def sim(server: ServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        http.post("/_simulator/reset").raise_for_status()
        http.post("/_simulator/config", json=CONFIG.to_dict()).raise_for_status()
        yield http


@pytest.fixture
def client(server: ServerHandle) -> Iterator[runwayml.RunwayML]:
    with runwayml.RunwayML(api_key=API_KEY, base_url=server.base_url, max_retries=0) as c:
        yield c


def ready_session(client: runwayml.RunwayML, **create: Any) -> tuple[str, Any]:
    avatar = {"type": "runway-preset", "preset_id": "influencer"}
    session_id = client.realtime_sessions.create(model="gwm1_avatars", avatar=avatar, **create).id
    ready = wait_for(
        lambda: (s := client.realtime_sessions.retrieve(session_id)).status == "READY" and s
    )
    return session_id, ready


def connect_backend(client: runwayml.RunwayML, session_id: str) -> Any:
    return client.post(
        f"/v1/realtime_sessions/{session_id}/connect_backend", cast_to=object, body={}
    )


def claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_connect_backend_hands_out_a_hidden_data_only_participant(client, sim) -> None:
    assert [m for m in dir(client.realtime_sessions) if "backend" in m] == []  # not in 5.24.0
    session_id, _ = ready_session(client, tools=TOOLS)
    creds = connect_backend(client, session_id)
    assert set(creds) == {"url", "token", "roomName"}
    assert creds["url"].startswith("ws://127.0.0.1:") and creds["url"].endswith("/livekit")
    assert creds["roomName"] == f"room-{session_id}"
    grant = claims(creds["token"])
    assert grant["sub"] == f"backend:{session_id}"
    assert grant["video"] == {
        "room": creds["roomName"], "roomJoin": True, "canPublish": False,
        "canSubscribe": False, "canPublishData": True, "hidden": True,
    }  # fmt: skip
    assert client.realtime_sessions.retrieve(session_id).status == "READY"  # nothing started


def test_connect_backend_refuses_unknown_unready_and_ended_sessions(client, sim) -> None:
    with pytest.raises(runwayml.NotFoundError):
        connect_backend(client, "6f1c1f4e-8a0c-4b51-9d7e-2d5b8f0c1a11")
    sim.post("/_simulator/config", json={"readyDelay": 30}).raise_for_status()
    waiting = client.realtime_sessions.create(
        model="gwm1_avatars", avatar={"type": "runway-preset", "preset_id": "influencer"}
    ).id
    with pytest.raises(runwayml.ConflictError, match="NOT_READY"):
        connect_backend(client, waiting)
    client.realtime_sessions.delete(waiting)
    with pytest.raises(runwayml.ConflictError, match="CANCELLED"):
        connect_backend(client, waiting)
    unauthenticated = httpx.post(
        f"{sim.base_url}/v1/realtime_sessions/{waiting}/connect_backend",
        headers={"X-Runway-Version": "2024-11-06", "Content-Type": "application/json"},
    )
    assert unauthenticated.status_code == 401


class Backend:
    def __init__(self) -> None:
        self.room = rtc.Room()
        self.calls: list[tuple[str, str, str]] = []  # (caller, method, payload)

    async def join(self, creds: dict[str, str]) -> None:
        await self.room.connect(creds["url"], creds["token"])

        async def lookup(data: rtc.RpcInvocationData) -> str:
            self.calls.append((data.caller_identity, data.method, data.payload))
            order = json.loads(data.payload)["args"]["order_id"]
            return json.dumps({"status": f"order {order} left the warehouse"})

        self.room.local_participant.register_rpc_method("lookup_order", lookup)


def test_a_call_uses_both_tools_through_the_room(client, sim) -> None:
    session_id, ready = ready_session(client, tools=TOOLS)
    backend_creds = connect_backend(client, session_id)  # before consume, as Runway's examples do

    async def scenario() -> tuple[Call, Backend, dict[str, Any], str]:
        backend = Backend()
        await backend.join(backend_creds)
        creds = await asyncio.to_thread(consume, client, session_id, ready.session_key)
        call = Call()
        await call.join(creds["url"], creds["token"])
        await wait_until(lambda: 0 in call.transcript("assistant"), 15, "greeting")
        running = await asyncio.to_thread(client.realtime_sessions.retrieve, session_id)
        visible = [p.identity for p in call.room.remote_participants.values()]
        await call.say("Where is my order 5150?")
        await wait_until(
            lambda: call.transcript("assistant").get(1, "").endswith("warehouse."), 20, "answer"
        )
        forced = await asyncio.to_thread(
            sim.post, f"/_simulator/sessions/{session_id}/tool_call",
            json={"name": "show_product", "args": {"product": "Trail Runner"}, "wait": True},
        )  # fmt: skip
        await wait_until(lambda: 2 in call.transcript("assistant"), 20, "event line")
        await call.room.local_participant.publish_data(b'{"type":"END_CALL"}', reliable=True)
        await asyncio.wait_for(call.disconnected.wait(), 10)
        await call.leave()
        await backend.room.disconnect()
        return call, backend, forced.json(), running.status, visible

    call, backend, forced, running, visible = run(scenario(), 90)
    assert running == "RUNNING" and visible == ["worker:avatar"]
    assert backend.calls == [("worker:avatar", "lookup_order", '{"args": {"order_id": "5150"}}')]
    assert call.transcript("assistant")[1] == (
        "I checked lookup order for order id 5150: status is order 5150 left the warehouse."
    )
    events = [body for _, _, body in call.packets if body.get("type") == "client_event"]
    assert events[0] == {
        "type": "client_event",
        "tool": "show_product",
        "args": {"product": "Trail Runner"},
    }
    assert forced["status"] == "done" and forced["call"]["source"] == "control"

    wait_for(lambda: client.realtime_sessions.retrieve(session_id).status == "COMPLETED")
    state = sim.get("/_simulator/state").json()
    [session] = [s for s in state["sessions"] if s["id"] == session_id]
    calls = [(c["tool"], c["args"], c["result"], c["error"]) for c in session["toolCalls"]]
    assert calls == [
        ("lookup_order", {"order_id": "5150"}, {"status": "order 5150 left the warehouse"}, None),
        ("show_product", {"product": "Trail Runner"}, {"status": "event_sent"}, None),
    ]
    assert all(isinstance(c["durationMs"], int) for c in session["toolCalls"])
    assert session["backendConnects"] == 1
    lines = client.avatar_conversations.retrieve(session_id).transcript
    called = [line for line in lines if line.tool_calls]
    assert [line.content for line in called] == [None, None]
    assert called[0].tool_results[0].result == {"status": "order 5150 left the warehouse"}


def test_the_tool_call_control_refuses_unknown_tools_and_idle_sessions(client, sim) -> None:
    session_id, _ = ready_session(client, tools=TOOLS)
    unknown = sim.post(f"/_simulator/sessions/{session_id}/tool_call", json={"name": "nope"})
    assert unknown.status_code == 400 and "nope" in unknown.json()["error"]
    idle = sim.post(f"/_simulator/sessions/{session_id}/tool_call", json={"name": "lookup_order"})
    assert idle.status_code == 409 and "READY" in idle.json()["error"]
    bad = sim.post(
        f"/_simulator/sessions/{session_id}/tool_call", json={"name": "lookup_order", "args": [1]}
    )
    assert bad.status_code == 400


def custom_voice_session(simulator: Simulator, voice: dict[str, str]) -> Session:
    avatar = Avatar(
        id="a1", name="Rita", personality="p", voice=voice, image=ImageRef(),
        created_at=0.0, updated_at=0.0, status="READY",
    )  # fmt: skip
    simulator.avatars[avatar.id] = avatar
    return Session(
        id="s1", created_at=0.0, avatar={"type": "custom", "avatarId": "a1"},
        avatar_name="Rita", max_duration=60, tools=TOOLS,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("voice", "enforce", "allowed"),
    [
        ({"type": "runway-live-preset", "presetId": "clara"}, True, True),
        ({"type": "custom", "id": "v1"}, True, False),
        ({"type": "custom", "id": "v1"}, False, True),
    ],
)
def test_client_events_need_a_preset_voice_unless_the_setting_is_off(
    voice, enforce, allowed
) -> None:
    simulator = Simulator(SimConfig(client_events_need_preset_voice=enforce))
    spec = simulator._character(custom_voice_session(simulator, voice))
    assert spec.tool_settings.client_events is allowed
    assert [t["name"] for t in spec.tools] == ["lookup_order", "show_product"]
    assert spec.tool_settings.backend_identity == "backend:s1"
