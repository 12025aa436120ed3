"""The studio's side of actions on its embedded simulator, served for real (real clock): the
character's enabled tools go with every session it starts, a per-call override switches them
off, and for backend_rpc tools the studio joins the room as the backend (LiveKit's Python SDK),
answers as configured, records each call, and leaves when the session ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from studio.actions.store import ToolEntry
from studio.actions.templates import template
from studio.calls.broker import ALL_TOOLS, SessionRequest
from tests.app.conftest import json_app
from tests.room.support import Call, run, wait_until
from tests.support import call_on_server, serve, studio_settings, wait_for

AVATAR = "music-superstar"
REPLY = {"message": "Your order 5150 ships today"}


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Any, str]]:
    settings = studio_settings(tmp_path_factory.mktemp("actions"), STUDIO_SIM_READY_DELAY="0.2",
                               STUDIO_REFRESH_INTERVAL="0.2", STUDIO_MAX_LIVE_SESSIONS="10",
                               STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="100")
    app = json_app(settings, None)
    with serve(app) as url:
        studio = app.state.studio
        order, _ = template("look_up_order")
        slot, slot_answer = template("book_slot")
        studio.actions.store.save_tools(AVATAR, [
            ToolEntry(template("show_product")[0]),
            ToolEntry(order, answer={"kind": "fixed", "reply": REPLY}),
            ToolEntry(slot, enabled=False, answer=slot_answer),
        ], at=time.time())
        yield app, url


def sim_session(app: Any, session_id: str) -> dict[str, Any]:
    state = httpx.get(f"{app.state.studio.upstream.base_url}/_simulator/state", timeout=10).json()
    return next(s for s in state["sessions"] if s["id"] == session_id)


def test_the_enabled_tools_go_with_the_session_and_rpc_calls_are_answered_and_recorded(served):
    app, url = served
    studio = app.state.studio
    answer = httpx.post(f"{url}/api/avatar/session", json={"avatarId": AVATAR}, timeout=30)
    assert answer.status_code == 200, answer.text
    credentials = answer.json()
    session_id = credentials["sessionId"]
    sent = sim_session(app, session_id)["tools"]
    assert [t["name"] for t in sent] == ["show_product", "look_up_order"]  # book_slot is off
    assert sent[1]["timeoutSeconds"] == 4 and sent[1]["parameters"][0]["name"] == "order_id"
    wait_for(lambda: session_id in studio.actions.backends, what="the studio to join as backend")
    assert sim_session(app, session_id)["backendConnects"] == 1

    async def talk() -> str:
        user = Call()
        await user.join(credentials["serverUrl"], credentials["token"])
        try:
            await user.say("Where is my order 5150?")
            def said() -> str:
                return next((line for line in user.transcript("assistant").values()
                             if REPLY["message"] in line), "")

            await wait_until(said, 20, "the character to say the reply")
            return said()
        finally:
            await user.leave()

    assert REPLY["message"] in run(talk())
    calls = studio.actions.store.calls(session_id)
    assert [(c["tool"], c["kind"], c["arguments"], c["answer"], c["error"]) for c in calls] == [
        ("look_up_order", "backend_rpc", {"order_id": "5150"}, REPLY, None)]
    assert calls[0]["latency_ms"] is not None
    # The user left, so the session completed and the room closed: the backend left too.
    wait_for(lambda: session_id not in studio.actions.backends, what="the backend to leave")


def start(app: Any, **request: Any) -> str:
    credentials = call_on_server(app, app.state.studio.broker.start(
        SessionRequest(avatar_id=AVATAR, max_duration=60, **request), "tester"))
    return credentials.session_id


def test_a_per_call_override_switches_tools_off(served):
    app, _ = served
    studio = app.state.studio
    only_events = start(app, tools_off=("look_up_order",))
    assert [t["name"] for t in sim_session(app, only_events)["tools"]] == ["show_product"]
    none = start(app, tools_off=(ALL_TOOLS,))
    assert sim_session(app, none)["tools"] == []
    assert studio.ledger.get(none)["overrides"]["toolsOff"] == [ALL_TOOLS]
    # No backend_rpc tool, so no backend: none was started when the session turned READY.
    assert not any(task.get_name().endswith(only_events) for task in studio.actions._tasks)
    assert sim_session(app, only_events)["backendConnects"] == 0
    assert studio.actions.store.session_tools(only_events).session_id == only_events


def test_the_session_route_takes_the_tools_a_call_goes_without(served):
    app, url = served
    started = httpx.post(f"{url}/api/avatar/session", timeout=30,
                         json={"avatarId": AVATAR, "toolsOff": ["show_product"]})
    assert started.status_code == 200, started.text
    assert [t["name"] for t in sim_session(app, started.json()["sessionId"])["tools"]] == ["look_up_order"]
    for bad in (["x" * 65], [""], "show_product", [1]):
        refused = httpx.post(f"{url}/api/avatar/session", json={"avatarId": AVATAR, "toolsOff": bad}, timeout=30)
        assert refused.status_code == 400 and "toolsOff" in refused.json()["error"], refused.text


def test_a_backend_that_cannot_join_is_said_and_the_call_goes_on(served):
    app, url = served
    studio = app.state.studio
    base = studio.upstream.base_url
    httpx.post(f"{base}/_simulator/faults", json={"method": "POST", "path": "*/connect_backend", "count": 5,
                                                  "status": 503, "body": {"error": "busy"}}).raise_for_status()
    try:  # more failures than the SDK's retries
        answer = httpx.post(f"{url}/api/avatar/session", json={"avatarId": AVATAR}, timeout=30)
        assert answer.status_code == 200, answer.text  # the call itself is not refused
        session_id = answer.json()["sessionId"]
        problem = wait_for(lambda: studio.actions.backend_problems.get(session_id), what="the problem noted")
    finally:
        httpx.delete(f"{base}/_simulator/faults").raise_for_status()
    assert problem.startswith("The studio could not answer this call's tools: Runway is having trouble")
    assert session_id not in studio.actions.backends
