"""Avatar videos through AsyncRunwayML (each test runs its own event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import runwayml

from tests.simulator.clip_helpers import CLIP, PRESET, inspect_mp4, text_speech, wav_bytes
from tests.simulator.simtest_helpers import API_KEY, Sim, data_uri

QUEUE, BASE, PER_SECOND = 2.0, 10.0, 2.0


def run(sim: Sim, body: Callable[[runwayml.AsyncRunwayML], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with runwayml.AsyncRunwayML(
            api_key=API_KEY, base_url=sim.base_url, max_retries=0
        ) as client:
            return await body(client)

    return asyncio.run(main())


def clip_seconds(sim: Sim, task_id: str) -> float:
    return next(t["seconds"] for t in sim.state()["tasks"] if t["id"] == task_id)


def test_async_lifecycle_and_output(sim: Sim) -> None:
    audio = data_uri(wav_bytes(2.0), "audio/wav")

    async def body(client: runwayml.AsyncRunwayML) -> None:
        created = await client.avatar_videos.create(
            **CLIP, avatar=PRESET, speech={"type": "audio", "audio": audio}
        )
        pending = await client.tasks.retrieve(created.id)
        assert pending.status == "PENDING" and pending.estimated_cost.credits == 1
        sim.advance(QUEUE)
        assert (await client.tasks.retrieve(created.id)).status == "RUNNING"
        sim.advance(BASE + PER_SECOND * clip_seconds(sim, created.id))
        done = await client.tasks.retrieve(created.id)
        assert done.status == "SUCCEEDED" and done.cost.credits == 1
        async with httpx.AsyncClient(timeout=60) as http:
            response = await http.get(done.output[0])
        assert response.status_code == 200
        mp4 = inspect_mp4(response.content)
        assert (mp4.video_streams, mp4.audio_streams) == (1, 1)
        assert abs(mp4.seconds - 2.0) < 0.5

    run(sim, body)


def test_async_throttle_cancel_and_failure(sim: Sim) -> None:
    sim.configure(clipConcurrency=1)
    sim.control("task-failures", {"failureCode": "ASSET.INVALID", "failure": "Bad audio."})

    async def body(client: runwayml.AsyncRunwayML) -> None:
        speech = text_speech("One, two, three.")
        first = (await client.avatar_videos.create(**CLIP, avatar=PRESET, speech=speech)).id
        second = (await client.avatar_videos.create(**CLIP, avatar=PRESET, speech=speech)).id
        assert (await client.tasks.retrieve(second)).status == "THROTTLED"
        await client.tasks.delete(second)
        cancelled = await client.tasks.retrieve(second)
        assert cancelled.status == "CANCELLED" and cancelled.cost.credits == 0
        sim.advance(QUEUE + BASE + PER_SECOND * clip_seconds(sim, first))
        failed = await client.tasks.retrieve(first)
        assert failed.status == "FAILED" and failed.failure_code == "ASSET.INVALID"
        assert failed.failure == "Bad audio." and failed.cost.credits == 0
        assert (await client.organization.retrieve()).credit_balance == 10_000
        with pytest.raises(runwayml.NotFoundError):
            await client.tasks.retrieve("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b")

    run(sim, body)
