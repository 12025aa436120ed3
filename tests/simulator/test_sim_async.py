"""The same contract through AsyncRunwayML (no pytest-asyncio: each test runs its own loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import runwayml

from tests.simulator.simtest_helpers import (
    API_KEY,
    PRESET_AVATAR,
    PRESET_VOICE,
    Sim,
    aconsume,
    data_uri,
    face_png,
)


def run(
    sim: Sim, body: Callable[[runwayml.AsyncRunwayML], Awaitable[Any]], retries: int = 0
) -> Any:
    async def main() -> Any:
        async with runwayml.AsyncRunwayML(
            api_key=API_KEY, base_url=sim.base_url, max_retries=retries
        ) as c:
            return await body(c)

    return asyncio.run(main())


def test_async_session_lifecycle(sim: Sim) -> None:
    async def body(client: runwayml.AsyncRunwayML) -> None:
        session_id = (
            await client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)
        ).id
        first = await client.realtime_sessions.retrieve(session_id)
        assert first.status == "NOT_READY" and first.queued is True
        sim.advance(1)
        ready = await client.realtime_sessions.retrieve(session_id)
        assert ready.status == "READY"
        creds = await aconsume(client, session_id, ready.session_key)
        assert creds["roomName"] == f"room-{session_id}"
        with pytest.raises(runwayml.ConflictError):
            await aconsume(client, session_id, ready.session_key)
        sim.join(session_id)
        assert (await client.realtime_sessions.retrieve(session_id)).status == "RUNNING"
        sim.advance(7)
        sim.leave(session_id)
        done = await client.realtime_sessions.retrieve(session_id)
        assert done.status == "COMPLETED" and done.duration == 7
        conversation = await client.avatar_conversations.retrieve(session_id)
        assert conversation.status == "ended" and len(conversation.transcript) == 3
        assert (await client.organization.retrieve()).credit_balance == 10_000 - 4

        cancelled = (
            await client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)
        ).id
        await client.realtime_sessions.delete(cancelled)
        assert (await client.realtime_sessions.retrieve(cancelled)).status == "CANCELLED"
        with pytest.raises(runwayml.NotFoundError):
            await client.realtime_sessions.delete(cancelled)

    run(sim, body)


def test_async_avatars_pagination_and_uploads(sim: Sim) -> None:
    async def body(client: runwayml.AsyncRunwayML) -> None:
        uri = (await client.uploads.create_ephemeral(file=("face.png", face_png()))).uri
        ids = []
        for i in range(3):
            avatar = await client.avatars.create(
                name=f"A{i}", personality="p", reference_image=uri, voice=PRESET_VOICE
            )
            ids.append(avatar.id)
        seen = [a.id async for a in client.avatars.list(limit=2)]
        assert sorted(seen) == sorted(ids)
        sim.advance(2)
        assert {(await client.avatars.retrieve(i)).status for i in ids} == {"READY"}
        doc = await client.documents.create(name="d", content="c")
        docs = [d.id async for d in client.documents.list(limit=1, sort="createdAt", order="desc")]
        assert docs == [doc.id]
        voice = await client.voices.create(
            name="v",
            from_={"type": "text", "model": "eleven_ttv_v3", "prompt": "twenty characters or more"},
        )
        assert (await client.voices.retrieve(voice.id)).status == "PROCESSING"
        usage = await client.organization.retrieve_usage()
        assert usage.results

    run(sim, body)


def test_async_error_classes(sim: Sim) -> None:
    async def body(client: runwayml.AsyncRunwayML) -> None:
        with pytest.raises(runwayml.BadRequestError):
            await client.avatars.create(
                name="", personality="p", reference_image=data_uri(face_png()), voice=PRESET_VOICE
            )
        with pytest.raises(runwayml.NotFoundError):
            await client.avatars.retrieve("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")
        sim.fault(method="GET", path="/v1/organization", status=500)
        with pytest.raises(runwayml.InternalServerError):
            await client.organization.retrieve()
        sim.fault(method="GET", path="/v1/organization", drop=True)
        with pytest.raises(runwayml.APIConnectionError):
            await client.organization.retrieve()
        sim.configure(dailyLimit=0)
        with pytest.raises(runwayml.RateLimitError):
            await client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)

    run(sim, body)

    async def bad_key() -> None:
        async with runwayml.AsyncRunwayML(
            api_key="nope", base_url=sim.base_url, max_retries=0
        ) as c:
            with pytest.raises(runwayml.AuthenticationError):
                await c.organization.retrieve()

    asyncio.run(bad_key())


def test_async_retry_on_503_and_429(sim: Sim) -> None:
    sim.fault(method="GET", path="/v1/organization", status=503, retryAfter=0.01)
    sim.fault(method="POST", path="/v1/documents", status=429, retryAfter=0.01)

    async def body(client: runwayml.AsyncRunwayML) -> None:
        await client.organization.retrieve()
        await client.documents.create(name="n", content="c")

    run(sim, body, retries=2)
    assert sim.requests("GET /v1/organization") == 2
    assert sim.requests("POST /v1/documents") == 2
    assert len(sim.state()["documents"]) == 1
