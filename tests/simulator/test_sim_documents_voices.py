"""Documents and voices through the official sync SDK."""

from __future__ import annotations

import pytest
import runwayml

from tests.simulator.simtest_helpers import PRESET_VOICE, Sim, data_uri, face_png

TEXT_VOICE = {
    "type": "text",
    "prompt": "A bright, friendly voice for a tutor",
    "model": "eleven_ttv_v3",
}


def test_document_crud_and_used_by(sim: Sim, client) -> None:
    created = client.documents.with_raw_response.create(name="FAQ", content="# Questions\nAnswers.")
    body = created.http_response.json()
    assert created.http_response.status_code == 200
    assert set(body) == {"id", "name", "type", "content", "usedBy", "createdAt", "updatedAt"}
    assert body["type"] == "text" and body["usedBy"] == []
    doc_id = body["id"]

    avatar = client.avatars.create(
        name="Ada",
        personality="p",
        reference_image=data_uri(face_png()),
        voice=PRESET_VOICE,
        document_ids=[doc_id],
    )
    used_by = client.documents.retrieve(doc_id).used_by
    assert [(u.id, u.name, u.image_url) for u in used_by] == [(avatar.id, "Ada", None)]
    sim.advance(2)
    assert client.documents.retrieve(doc_id).used_by[0].image_url  # processed image now

    sim.advance(5)
    patched = client.documents.with_raw_response.update(doc_id, content="New content")
    assert patched.http_response.status_code == 204 and patched.http_response.content == b""
    doc = client.documents.retrieve(doc_id)
    assert doc.content == "New content" and doc.name == "FAQ" and doc.updated_at > doc.created_at

    client.documents.delete(doc_id)
    with pytest.raises(runwayml.NotFoundError):
        client.documents.retrieve(doc_id)
    assert client.avatars.retrieve(avatar.id).document_ids == []  # detached


def test_document_list_omits_content_sorts_and_paginates(sim: Sim, client) -> None:
    ids = []
    for i in range(4):
        ids.append(client.documents.create(name=f"D{i}", content=f"content {i}").id)
        sim.advance(1)
    client.documents.update(ids[0], name="D0 renamed")
    raw = client.documents.with_raw_response.list(
        limit=3, sort="createdAt", order="desc"
    ).http_response.json()
    assert all("content" not in d for d in raw["data"])
    assert [d["id"] for d in raw["data"]] == ids[::-1][:3] and raw["hasMore"] is True
    asc = [d.id for d in client.documents.list(limit=3, sort="createdAt", order="asc")]
    assert asc == ids
    by_update = client.documents.list(limit=1, sort="updatedAt", order="desc")
    assert by_update.data[0].id == ids[0]


def test_voice_lifecycle_preview_and_update(sim: Sim, client) -> None:
    created = client.voices.with_raw_response.create(name="Tutor", from_=TEXT_VOICE)
    assert set(created.http_response.json()) == {"id"}
    voice_id = created.parse().id
    processing = client.voices.with_raw_response.retrieve(voice_id).http_response.json()
    assert set(processing) == {"id", "name", "description", "createdAt", "status"}
    assert processing["status"] == "PROCESSING" and processing["description"] is None
    sim.advance(2)
    ready = client.voices.retrieve(voice_id)
    assert ready.status == "READY" and ready.preview_url
    wav = sim.http.get(ready.preview_url)
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"

    updated = client.voices.update(voice_id, name="Tutor 2", description="Friendly")
    assert (updated.name, updated.description, updated.status) == ("Tutor 2", "Friendly", "READY")
    cleared = client.voices.update(voice_id, description=None)
    assert cleared.description is None

    preview = client.voices.preview(
        model="eleven_multilingual_ttv_v2", prompt="A deep and slow radio voice"
    )
    assert preview.duration_secs > 0 and sim.http.get(preview.url).content[:4] == b"RIFF"

    client.voices.delete(voice_id)
    with pytest.raises(runwayml.NotFoundError):
        client.voices.retrieve(voice_id)


def test_voice_failure_and_list(sim: Sim, client) -> None:
    sim.control("voice-failures", {"failureReason": "Could not design a voice", "count": 1})
    failed = client.voices.create(name="Bad", from_=TEXT_VOICE).id
    others = [client.voices.create(name=f"V{i}", from_=TEXT_VOICE).id for i in range(2)]
    sim.advance(2)
    voice = client.voices.retrieve(failed)
    assert voice.status == "FAILED" and voice.failure_reason == "Could not design a voice"
    listed = [v.id for v in client.voices.list(limit=1)]
    assert sorted(listed) == sorted([failed, *others])


def test_voice_from_audio_upload(sim: Sim, client, tmp_path) -> None:
    sample = tmp_path / "sample.wav"
    sample.write_bytes(b"RIFF" + b"\0" * 2000)
    uri = client.uploads.create_ephemeral(file=sample).uri
    voice = client.voices.create(name="Clone", from_={"type": "audio", "audio": uri})
    sim.advance(2)
    assert client.voices.retrieve(voice.id).status == "READY"
