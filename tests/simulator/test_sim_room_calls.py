"""The simulator's own rooms, end to end without a browser: the official `runwayml` SDK makes
and consumes a session, LiveKit's official Python SDK joins the room consume points at, and
the session moves on the room's real events (join → RUNNING, END_CALL or leaving → COMPLETED
with the call's length, nobody joining → FAILED, cancel → the room closes). Real clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import runwayml
from livekit import rtc

from simulator import SimConfig, serve_in_thread
from simulator.server import ServerHandle
from tests.room.support import KNOWLEDGE, Call, run, wait_until
from tests.simulator.simtest_helpers import API_KEY, consume, data_uri, face_png, wait_for

CONFIG = SimConfig(ready_delay=0.1, avatar_delay=0.1, first_poll_queued=False)
QUESTION = "How long is the return window for shoes?"
ANSWER = "The return window is 30 days for unworn shoes with the receipt."


@pytest.fixture(scope="module")
def server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(CONFIG)
    yield handle
    handle.stop()


@pytest.fixture
def sim(server: ServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        http.post("/_simulator/reset").raise_for_status()
        http.post("/_simulator/config", json={"noParticipantTimeout": 20}).raise_for_status()
        yield http


@pytest.fixture
def client(server: ServerHandle) -> Iterator[runwayml.RunwayML]:
    with runwayml.RunwayML(api_key=API_KEY, base_url=server.base_url, max_retries=0) as c:
        yield c


def custom_avatar(client: runwayml.RunwayML) -> str:
    document = client.documents.create(name="Shop facts", content=KNOWLEDGE)
    avatar = client.avatars.create(
        name="Rita", personality="You are a concise shop assistant. Never read this aloud.",
        reference_image=data_uri(face_png(64)), start_script="Hello from the shop floor!",
        voice={"type": "runway-live-preset", "preset_id": "victoria"},
    )  # fmt: skip
    client.avatars.update(avatar.id, document_ids=[document.id])
    wait_for(lambda: client.avatars.retrieve(avatar.id).status == "READY")
    return avatar.id


def ready_credentials(client: runwayml.RunwayML, avatar: dict[str, Any], **create: Any) -> tuple[str, Any]:
    session_id = client.realtime_sessions.create(model="gwm1_avatars", avatar=avatar, **create).id
    ready = wait_for(lambda: (s := client.realtime_sessions.retrieve(session_id)).status == "READY" and s)
    return session_id, consume(client, session_id, ready.session_key)


def status(client: runwayml.RunwayML, session_id: str) -> Any:
    return client.realtime_sessions.retrieve(session_id)


def test_a_call_runs_the_session_from_join_to_end_call(client, sim) -> None:
    avatar_id = custom_avatar(client)
    session_id, creds = ready_credentials(client, {"type": "custom", "avatar_id": avatar_id})
    assert creds["url"].startswith("ws://127.0.0.1:") and creds["url"].endswith("/livekit")

    async def scenario() -> float:
        call = Call()
        await call.join(creds["url"], creds["token"])
        joined = time.monotonic()
        assert (await asyncio.to_thread(status, client, session_id)).status == "RUNNING"
        assert [p.name for p in call.room.remote_participants.values()] == ["Rita"]
        await wait_until(lambda: "Hello from the shop floor!" in call.transcript("assistant").values(), 15, "greeting")
        await call.say(QUESTION)
        await wait_until(lambda: ANSWER in call.transcript("assistant").get(1, ""), 15, "answer")
        await asyncio.sleep(max(0.0, 2.2 - (time.monotonic() - joined)))
        await call.room.local_participant.publish_data(b'{"type":"END_CALL"}', reliable=True)
        await asyncio.wait_for(call.disconnected.wait(), 10)
        length = time.monotonic() - joined
        await call.leave()
        return length

    length = run(scenario())
    done = wait_for(lambda: (s := status(client, session_id)).status == "COMPLETED" and s)
    assert isinstance(done.duration, int) and abs(done.duration - length) <= 1.0
    lines = client.avatar_conversations.retrieve(session_id).transcript
    said = [(line.role, line.content) for line in lines]
    assert said[:2] == [("assistant", "Hello from the shop floor!"), ("user", QUESTION)]
    assert ANSWER in said[2][1] and "Never read" not in " ".join(c for _, c in said)
    state = sim.get("/_simulator/state").json()
    [session] = [s for s in state["sessions"] if s["id"] == session_id]
    assert session["creditsCharged"] == 2 + 2 * (done.duration // 6)


def test_nobody_joining_fails_the_session_and_closes_its_room(client, sim) -> None:
    sim.post("/_simulator/config", json={"noParticipantTimeout": 1}).raise_for_status()
    session_id, creds = ready_credentials(client, {"type": "runway-preset", "preset_id": "influencer"})
    time.sleep(1.3)
    failed = status(client, session_id)
    assert (failed.status, failed.failure_code) == ("FAILED", "TALKING_AVATAR.NO_PARTICIPANT")

    async def late_join() -> str:
        try:
            await Call().join(creds["url"], creds["token"])
        except rtc.ConnectError as error:
            return str(error)
        return ""

    assert run(late_join())  # refused: the room is gone


def test_cancelling_a_running_session_disconnects_its_client(client, sim) -> None:
    session_id, creds = ready_credentials(client, {"type": "runway-preset", "preset_id": "cat-character"})

    async def scenario() -> None:
        call = Call()
        await call.join(creds["url"], creds["token"])
        await asyncio.to_thread(client.realtime_sessions.delete, session_id)
        await asyncio.wait_for(call.disconnected.wait(), 10)
        await call.leave()

    run(scenario())
    assert status(client, session_id).status == "CANCELLED"


def test_a_token_works_once_and_an_expired_one_never(client, sim) -> None:
    session_id, creds = ready_credentials(client, {"type": "runway-preset", "preset_id": "influencer"})
    expired = sim.post(f"/_simulator/sessions/{session_id}/token", json={"ttl": -60}).json()

    async def join(token: str) -> str:
        call = Call()
        try:
            await call.join(creds["url"], token)
        except rtc.ConnectError as error:
            return str(error) or "refused"
        await call.leave()
        return ""

    assert run(join(expired["token"]))
    assert status(client, session_id).status == "READY"  # a refused join changes nothing
    assert run(join(creds["token"])) == ""
    assert wait_for(lambda: status(client, session_id).status == "COMPLETED")
    assert run(join(creds["token"]))  # reused
