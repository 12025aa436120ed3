"""Realtime session lifecycle through the official sync SDK."""

from __future__ import annotations

import base64
import json

import pytest
import runwayml

from tests.simulator.simtest_helpers import (
    PRESET_AVATAR,
    PRESET_VOICE,
    Sim,
    consume,
    data_uri,
    face_png,
)

SESSION_KEYS = {
    "NOT_READY": {"id", "createdAt", "status"},
    "READY": {"id", "createdAt", "status", "expiresAt", "sessionKey"},
    "RUNNING": {"id", "createdAt", "status"},
    "COMPLETED": {"id", "createdAt", "status", "duration"},
    "FAILED": {"id", "createdAt", "status", "failure", "failureCode"},
    "CANCELLED": {"id", "createdAt", "status"},
}


def wire(client, session_id: str) -> dict:
    raw = client.realtime_sessions.with_raw_response.retrieve(session_id)
    return raw.http_response.json()


def assert_shape(body: dict) -> None:
    expected = set(SESSION_KEYS[body["status"]])
    if body["status"] == "NOT_READY" and "queued" in body:
        expected.add("queued")
    assert set(body) == expected, body


def test_full_lifecycle_ready_running_completed(sim: Sim, client) -> None:
    created = client.realtime_sessions.with_raw_response.create(
        model="gwm1_avatars", avatar=PRESET_AVATAR
    )
    assert created.http_response.status_code == 200
    assert set(created.http_response.json()) == {"id"}
    session_id = created.parse().id

    first = wire(client, session_id)
    assert first["status"] == "NOT_READY" and first["queued"] is True  # first poll, as Runway
    assert_shape(first)
    second = wire(client, session_id)
    assert second["status"] == "NOT_READY" and "queued" not in second  # provisioning

    sim.advance(0.5)
    assert client.realtime_sessions.retrieve(session_id).status == "NOT_READY"
    sim.advance(0.5)
    ready = client.realtime_sessions.retrieve(session_id)
    assert isinstance(ready, runwayml.types.realtime_session_retrieve_response.Ready)
    assert ready.session_key.startswith("stk_") and ready.session_key.count(".") == 2
    assert ready.expires_at > ready.created_at
    assert_shape(wire(client, session_id))

    creds = consume(client, session_id, ready.session_key)
    assert set(creds) == {"url", "token", "roomName"}
    assert creds["roomName"] == f"room-{session_id}"
    assert creds["url"] == sim.base_url.replace("http://", "ws://") + "/livekit"  # its own room
    header, payload, signature = creds["token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert claims["sub"] == f"user:{session_id}" and claims["video"]["room"] == creds["roomName"]
    assert client.realtime_sessions.retrieve(session_id).status == "READY"  # until joined

    sim.join(session_id)
    running = client.realtime_sessions.retrieve(session_id)
    assert running.status == "RUNNING"
    assert_shape(wire(client, session_id))

    sim.advance(42.7)
    sim.leave(session_id)
    done = client.realtime_sessions.retrieve(session_id)
    assert done.status == "COMPLETED" and done.duration == 42 and isinstance(done.duration, int)
    assert_shape(wire(client, session_id))


def test_second_consume_is_a_conflict_and_wrong_bearer_is_404(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    with pytest.raises(runwayml.NotFoundError):  # the API key is not the session key
        client.with_options(max_retries=0).post(
            f"/v1/realtime_sessions/{session_id}/consume", cast_to=object, body={}
        )
    with pytest.raises(runwayml.NotFoundError):
        consume(client, session_id, "stk_not-the-key")
    consume(client, session_id, key)
    with pytest.raises(runwayml.ConflictError) as err:
        consume(client, session_id, key)
    assert "already been consumed" in err.value.body["error"]


def test_consume_tokens_are_unique_per_session(sim: Sim, client) -> None:
    tokens = set()
    for _ in range(2):
        session_id, key = sim.ready_session(client)
        tokens.add(consume(client, session_id, key)["token"])
    assert len(tokens) == 2


def test_consume_requires_json_content_type(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    response = sim.http.post(
        f"/v1/realtime_sessions/{session_id}/consume",
        content=b"{}",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/plain"},
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Incorrect content type"}
    # React SDK style: no version header, JSON body -> accepted.
    ok = sim.http.post(
        f"/v1/realtime_sessions/{session_id}/consume",
        json={},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert ok.status_code == 200


def test_livekit_url_is_configurable(sim: Sim, client) -> None:
    sim.configure(livekitUrl="ws://127.0.0.1:7880")
    session_id, key = sim.ready_session(client)
    assert consume(client, session_id, key)["url"] == "ws://127.0.0.1:7880"


def test_no_participant_when_never_consumed(sim: Sim, client) -> None:
    session_id, _ = sim.ready_session(client)
    sim.advance(19.9)
    assert client.realtime_sessions.retrieve(session_id).status == "READY"
    sim.advance(0.2)
    failed = client.realtime_sessions.retrieve(session_id)
    assert failed.status == "FAILED"
    assert failed.failure_code == "TALKING_AVATAR.NO_PARTICIPANT"
    assert failed.failure == "No participants joined the session"
    assert_shape(wire(client, session_id))


def test_no_participant_counts_from_consume_and_join_needs_consume(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    sim.join(session_id, expect=409)  # credentials never consumed
    sim.advance(15)
    consume(client, session_id, key)
    sim.advance(19)
    assert client.realtime_sessions.retrieve(session_id).status == "READY"
    sim.advance(1.5)
    assert (
        client.realtime_sessions.retrieve(session_id).failure_code
        == "TALKING_AVATAR.NO_PARTICIPANT"
    )
    sim.join(session_id, expect=409)


def test_max_duration_auto_completes(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client, max_duration=30)
    consume(client, session_id, key)
    sim.join(session_id)
    sim.advance(29)
    assert client.realtime_sessions.retrieve(session_id).status == "RUNNING"
    sim.advance(100)
    done = client.realtime_sessions.retrieve(session_id)
    assert done.status == "COMPLETED" and done.duration == 30
    conversation = client.avatar_conversations.retrieve(session_id)
    assert conversation.status == "ended" and conversation.transcript  # clean end keeps it


def test_delete_cancels_and_terminal_delete_is_404(sim: Sim, client) -> None:
    for advance in (0.0, 1.0):  # from NOT_READY and from READY
        session_id = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
        sim.advance(advance)
        raw = client.realtime_sessions.with_raw_response.delete(session_id)
        assert raw.http_response.status_code == 204 and raw.http_response.content == b""
        assert client.realtime_sessions.retrieve(session_id).status == "CANCELLED"
        assert_shape(wire(client, session_id))
        with pytest.raises(runwayml.NotFoundError):
            client.realtime_sessions.delete(session_id)
        assert client.avatar_conversations.retrieve(session_id).transcript == []


def test_delete_running_session_cancels(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    consume(client, session_id, key)
    sim.join(session_id)
    client.realtime_sessions.delete(session_id)
    assert client.realtime_sessions.retrieve(session_id).status == "CANCELLED"


def test_unknown_session_is_404_and_bad_uuid_is_400(sim: Sim, client) -> None:
    with pytest.raises(runwayml.NotFoundError):
        client.realtime_sessions.retrieve("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")
    with pytest.raises(runwayml.BadRequestError) as err:
        client.realtime_sessions.retrieve("not-a-uuid")
    assert err.value.body["issues"][0]["path"] == ["id"]


def test_sessions_beyond_concurrency_queue_fifo(sim: Sim, client) -> None:
    sim.configure(concurrency=1)
    first, key = sim.ready_session(client)
    second = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    third = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    sim.advance(5)
    for queued in (second, third):
        body = wire(client, queued)
        assert body == {**body, "status": "NOT_READY", "queued": True}
        assert wire(client, queued)["queued"] is True  # still waiting for a slot
    consume(client, first, key)
    sim.join(first)
    sim.advance(10)
    sim.leave(first)  # frees the slot now -> second provisions for ready_delay
    assert "queued" not in wire(client, second)
    assert wire(client, third)["queued"] is True
    sim.advance(1.0)
    assert client.realtime_sessions.retrieve(second).status == "READY"
    assert wire(client, third)["queued"] is True
    client.realtime_sessions.delete(second)
    sim.advance(1.0)
    assert client.realtime_sessions.retrieve(third).status == "READY"


def test_slot_freed_by_timeout_promotes_at_event_time(sim: Sim, client) -> None:
    sim.configure(concurrency=1)
    first, _ = sim.ready_session(client)
    second = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    # first fails at +20 s (no participant); second then provisions for 1 s: one big jump
    # must see second READY because the events are replayed in time order.
    sim.advance(25)
    assert client.realtime_sessions.retrieve(first).status == "FAILED"
    assert client.realtime_sessions.retrieve(second).status == "READY"


def test_daily_cap_is_429(sim: Sim, client) -> None:
    sim.configure(dailyLimit=2)
    for _ in range(2):
        client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)
    with pytest.raises(runwayml.RateLimitError) as err:
        client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)
    assert isinstance(err.value.body["error"], str)
    org = client.organization.retrieve()
    assert org.usage.models["gwm1_avatars"].daily_generations == 2
    sim.advance(86_400)  # a new UTC day
    client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)


def test_provisioning_failure_and_fail_hook(sim: Sim, client) -> None:
    sim.control(
        "provisioning-failures",
        {"failureCode": "INTERNAL.BAD_OUTPUT", "failure": "Worker crashed", "count": 1},
    )
    doomed = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    fine = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    assert client.realtime_sessions.retrieve(doomed).status == "NOT_READY"
    sim.advance(1)
    failed = client.realtime_sessions.retrieve(doomed)
    assert (failed.status, failed.failure_code, failed.failure) == (
        "FAILED",
        "INTERNAL.BAD_OUTPUT",
        "Worker crashed",
    )
    assert client.realtime_sessions.retrieve(fine).status == "READY"
    sim.control(f"sessions/{fine}/fail", {"failureCode": "SAFETY.INPUT.TEXT", "failure": "nope"})
    assert client.realtime_sessions.retrieve(fine).failure_code == "SAFETY.INPUT.TEXT"
    assert client.avatar_conversations.retrieve(fine).status == "failed"


def test_session_with_custom_avatar_tools_and_overrides(sim: Sim, client) -> None:
    avatar = client.avatars.create(
        name="Ada",
        personality="Helpful",
        reference_image=data_uri(face_png()),
        voice=PRESET_VOICE,
        start_script="Hello from Ada",
    )
    with pytest.raises(runwayml.BadRequestError):  # still PROCESSING
        client.realtime_sessions.create(
            model="gwm1_avatars", avatar={"type": "custom", "avatar_id": avatar.id}
        )
    sim.advance(2)
    tools = [
        {
            "type": "client_event",
            "name": "show_card",
            "description": "Show a card",
            "parameters": [
                {"type": "string", "name": "title", "description": "Title", "enum": ["a", "b"]}
            ],
        },
        {"type": "backend_rpc", "name": "lookup", "description": "Look up", "timeout_seconds": 3},
    ]
    session_id, key = sim.ready_session(
        client,
        avatar={"type": "custom", "avatar_id": avatar.id},
        tools=tools,
        personality="Terse",
        max_duration=60,
    )
    consume(client, session_id, key)
    sim.join(session_id)
    sim.advance(12)
    sim.leave(session_id)
    conversation = client.avatar_conversations.retrieve(session_id)
    assert conversation.avatar.type == "custom" and conversation.avatar.id == avatar.id
    assert conversation.transcript[0].content == "Hello from Ada"  # the avatar's startScript
    assert [t.name for t in conversation.tools] == ["show_card", "lookup"]
    assert conversation.max_duration == 60 and conversation.duration == 12
    listed = client.avatar_conversations.list(limit=10, avatar=avatar.id)
    assert [c.id for c in listed.data] == [session_id] and listed.data[0].has_tools
    with pytest.raises(runwayml.BadRequestError):
        client.realtime_sessions.create(
            model="gwm1_avatars",
            avatar={"type": "custom", "avatar_id": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"},
        )


def test_ready_jitter_spreads_provisioning_times_repeatably(sim: Sim, client) -> None:
    sim.configure(readyJitter=0.3)
    try:
        delays = []
        for _ in range(6):
            session_id = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
            waited = 0.0
            while client.realtime_sessions.retrieve(session_id).status != "READY":
                sim.advance(0.05)
                waited += 0.05
            delays.append(waited)
            client.realtime_sessions.delete(session_id)
        assert all(0.65 <= d <= 1.35 for d in delays), delays
        assert max(delays) - min(delays) >= 0.1, "the delays should differ from session to session"
    finally:
        sim.configure(readyJitter=0.0)
