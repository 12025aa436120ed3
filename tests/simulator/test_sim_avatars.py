"""Avatars, avatar usage and conversations through the official sync SDK."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import runwayml

from tests.simulator.simtest_helpers import (
    PRESET_AVATAR,
    PRESET_VOICE,
    Sim,
    consume,
    data_uri,
    face_png,
    flat_bmp,
)

AVATAR_KEYS = {
    "id",
    "name",
    "personality",
    "startScript",
    "voice",
    "referenceImageUri",
    "processedImageUri",
    "documentIds",
    "createdAt",
    "updatedAt",
    "status",
}


def make_avatar(client, name: str = "Ada", image: bytes | None = None, **extra):
    return client.avatars.create(
        name=name,
        personality="You are helpful.",
        reference_image=data_uri(image or face_png()),
        voice=extra.pop("voice", PRESET_VOICE),
        **extra,
    )


def test_avatar_processing_to_ready_with_images(sim: Sim, client) -> None:
    raw = client.avatars.with_raw_response.create(
        name="Ada",
        personality="You are helpful.",
        reference_image=data_uri(face_png()),
        voice=PRESET_VOICE,
    )
    body = raw.http_response.json()
    assert raw.http_response.status_code == 200 and set(body) == AVATAR_KEYS
    assert body["status"] == "PROCESSING" and body["processedImageUri"] is None
    assert body["startScript"] is None and body["documentIds"] == []
    assert body["voice"] == {
        "type": "runway-live-preset",
        "presetId": "clara",
        "name": "Clara",
        "description": "soft, approachable",
    }
    thumb = sim.http.get(body["referenceImageUri"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"

    sim.advance(1.9)
    assert client.avatars.retrieve(body["id"]).status == "PROCESSING"
    sim.advance(0.1)
    ready = client.avatars.retrieve(body["id"])
    assert ready.status == "READY" and ready.processed_image_uri
    assert sim.http.get(ready.processed_image_uri).headers["content-type"] == "image/jpeg"


def test_https_reference_image_is_echoed(sim: Sim, client) -> None:
    url = "https://example.com/portrait.png"
    avatar = client.avatars.create(
        name="Web", personality="p", reference_image=url, voice=PRESET_VOICE
    )
    assert avatar.reference_image_uri == url and avatar.processed_image_uri is None
    sim.advance(2)
    assert client.avatars.retrieve(avatar.id).processed_image_uri == url


def test_flat_image_fails_with_no_face(sim: Sim, client) -> None:
    avatar = make_avatar(client, image=flat_bmp())
    sim.advance(2)
    failed = client.avatars.retrieve(avatar.id)
    assert failed.status == "FAILED"
    assert failed.failure_reason == "No face was detected in the reference image."
    raw = client.avatars.with_raw_response.retrieve(avatar.id).http_response.json()
    assert set(raw) == AVATAR_KEYS | {"failureReason"}


def test_unreadable_image_fails(sim: Sim, client) -> None:
    avatar = make_avatar(client, image=b"definitely not an image" * 40)
    sim.advance(2)
    assert client.avatars.retrieve(avatar.id).status == "FAILED"


def test_triggered_avatar_failure(sim: Sim, client) -> None:
    sim.control("avatar-failures", {"failureReason": "Image rejected by moderation", "count": 1})
    doomed = make_avatar(client)
    fine = make_avatar(client)
    sim.advance(2)
    assert client.avatars.retrieve(doomed.id).failure_reason == "Image rejected by moderation"
    assert client.avatars.retrieve(fine.id).status == "READY"


def test_list_paginates_over_several_pages(sim: Sim, client) -> None:
    ids = [make_avatar(client, name=f"A{i}").id for i in range(5)]
    first = client.avatars.with_raw_response.list(limit=2).http_response.json()
    assert set(first) == {"data", "hasMore", "nextCursor"} and first["hasMore"] is True
    assert len(first["data"]) == 2
    seen = [a.id for a in client.avatars.list(limit=2)]  # auto-iteration fetches 3 pages
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert seen[0] == ids[-1]  # newest first
    assert sim.requests("GET /v1/avatars") == 1 + 3
    default = sim.api("GET", "/v1/avatars").json()  # limit omitted -> default 50
    assert (
        len(default["data"]) == 5 and default["hasMore"] is False and default["nextCursor"] is None
    )


def test_update_semantics(sim: Sim, client) -> None:
    doc_a = client.documents.create(name="A", content="alpha").id
    doc_b = client.documents.create(name="B", content="beta").id
    avatar = make_avatar(client, start_script="Hi!", document_ids=[doc_a])
    with pytest.raises(runwayml.ConflictError):  # new image while PROCESSING
        client.avatars.update(avatar.id, reference_image=data_uri(face_png(seed=2)))
    updated = client.avatars.update(
        avatar.id,
        document_ids=[doc_b],
        start_script=None,
        name="Ada 2",
        voice={"type": "runway-live-preset", "preset_id": "vincent"},
    )
    assert (
        updated.document_ids == [doc_b] and updated.start_script is None and updated.name == "Ada 2"
    )
    assert updated.voice.description == "knowledgeable, authoritative"
    sim.advance(2)
    assert client.avatars.retrieve(avatar.id).status == "READY"
    reprocessing = client.avatars.update(avatar.id, reference_image=data_uri(face_png(seed=3)))
    assert reprocessing.status == "PROCESSING" and reprocessing.processed_image_uri is None
    sim.advance(2)
    assert client.avatars.retrieve(avatar.id).status == "READY"
    with pytest.raises(runwayml.BadRequestError):  # at least one field
        client.avatars.update(avatar.id)


def test_delete_avatar(sim: Sim, client) -> None:
    avatar = make_avatar(client)
    raw = client.avatars.with_raw_response.delete(avatar.id)
    assert raw.http_response.status_code == 204 and raw.http_response.content == b""
    with pytest.raises(runwayml.NotFoundError):
        client.avatars.retrieve(avatar.id)
    with pytest.raises(runwayml.NotFoundError):
        client.avatars.delete(avatar.id)


def test_custom_voice_expansion_and_deletion(sim: Sim, client) -> None:
    voice = client.voices.create(
        name="Narrator",
        description="Warm narrator",
        from_={
            "type": "text",
            "prompt": "A warm, calm narrator voice with depth",
            "model": "eleven_ttv_v3",
        },
    )
    avatar = make_avatar(client, voice={"type": "custom", "id": voice.id})
    assert avatar.voice.model_dump(by_alias=True, exclude_none=False) == {
        "type": "custom",
        "id": voice.id,
        "deleted": False,
        "name": "Narrator",
        "description": "Warm narrator",
    }
    client.voices.delete(voice.id)
    raw = client.avatars.with_raw_response.retrieve(avatar.id).http_response.json()
    assert raw["voice"] == {"type": "custom", "id": voice.id, "deleted": True}


def test_avatar_usage_and_conversations(sim: Sim, client) -> None:
    start = datetime.fromtimestamp(sim.clock.now(), tz=timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    completed, key = sim.ready_session(client)
    consume(client, completed, key)
    sim.join(completed)
    sim.advance(30)
    sim.leave(
        completed, [{"role": "assistant", "content": "Welcome"}, {"role": "user", "content": "Hi"}]
    )
    cancelled = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id
    client.realtime_sessions.delete(cancelled)
    in_progress = client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR).id

    usage = client.avatars.get_usage(start_date=start, end_date=start + timedelta(days=3))
    assert (
        usage.total_sessions == 3 and usage.total_seconds == 30 and usage.avg_duration_seconds == 30
    )
    assert (
        len(usage.by_day) == 3 and usage.by_day[0].sessions == 3 and usage.by_day[1].sessions == 0
    )

    ended = client.avatar_conversations.retrieve(completed)
    assert ended.status == "ended" and ended.duration == 30 and ended.recording_url is None
    assert [(e.role, e.content) for e in ended.transcript] == [
        ("assistant", "Welcome"),
        ("user", "Hi"),
    ]
    assert ended.transcript[0].timestamp is not None and ended.ended_at is not None
    assert ended.avatar.type == "runway-preset" and ended.avatar.preset_id == "influencer"
    assert client.avatar_conversations.retrieve(cancelled).status == "ended"
    assert client.avatar_conversations.retrieve(cancelled).transcript == []
    live = client.avatar_conversations.retrieve(in_progress)
    assert live.status == "in_progress" and live.transcript == []
    raw = client.avatar_conversations.with_raw_response.retrieve(in_progress).http_response.json()
    assert "endedAt" not in raw and "failure" not in raw

    listed = list(client.avatar_conversations.list(limit=2))
    assert {c.id for c in listed} == {completed, cancelled, in_progress}
    assert listed[0].avatar.name == "Ava"
    window = client.avatar_conversations.list(limit=20, start_date=start + timedelta(days=1))
    assert window.data == []

    client.avatar_conversations.delete(completed)
    with pytest.raises(runwayml.NotFoundError):
        client.avatar_conversations.retrieve(completed)
    assert client.realtime_sessions.retrieve(completed).status == "COMPLETED"


def test_avatar_usage_range_is_validated(sim: Sim, client) -> None:
    now = datetime.fromtimestamp(sim.clock.now(), tz=timezone.utc)
    with pytest.raises(runwayml.BadRequestError):
        client.avatars.get_usage(start_date=now, end_date=now + timedelta(days=91))
    with pytest.raises(runwayml.BadRequestError):
        client.avatars.get_usage(start_date=now, end_date=now - timedelta(days=1))
