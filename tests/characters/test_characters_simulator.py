"""Characters, knowledge and custom voices end to end: the studio's service, the real SDK, and the
embedded simulator, on a FakeClock (advanced instead of sleeping)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from studio.catalog.characters import STILL_PROCESSING
from studio.catalog.forms import CharacterForm
from studio.errors import StudioError
from tests.characters.support import face_jpeg, flat_png, studio_on_simulator, wav

PROCESSING_SECONDS = 3  # the simulator's default avatar delay is 2 s


@pytest.fixture(scope="module")
def shared_studio(tmp_path_factory):
    with studio_on_simulator(tmp_path_factory.mktemp("characters-sim")) as studio:
        yield studio


@pytest.fixture
def studio(shared_studio):
    """One app for the module; the simulator is reset and fresh services made for every test."""
    shared_studio.sim.post("/_simulator/reset").raise_for_status()
    shared_studio.fresh_services()
    return shared_studio


def form(**changes) -> CharacterForm:
    values = {"name": "Ava", "personality": "A friendly product guide.", "voice": "preset:clara",
              "start_script": "Hi, I'm Ava!", "image_data": face_jpeg(), "image_filename": "ava.jpg"}
    values.update(changes)
    return CharacterForm(**values)


def ready(studio, **changes) -> dict:
    avatar = studio.run(studio.characters.create_character, form(**changes))
    studio.advance(PROCESSING_SECONDS)
    avatar = studio.run(studio.characters.get_character, avatar["id"])
    assert avatar["status"] == "READY", avatar
    return avatar


def picture_size(data_uri: str) -> tuple[int, int]:
    raw = base64.b64decode(data_uri.split(",", 1)[1])
    return Image.open(io.BytesIO(raw)).size


# -- characters --------------------------------------------------------------------------------

def test_create_from_an_upload_goes_processing_then_ready(studio):
    avatar = studio.run(studio.characters.create_character, form())
    assert avatar["status"] == "PROCESSING" and avatar["name"] == "Ava"
    assert avatar["start_script"] == "Hi, I'm Ava!" and avatar["voice"]["preset_id"] == "clara"
    upload = studio.state()["uploads"][0]
    assert upload["filename"].endswith(".jpg") and upload["size"] > 512
    stored = next(a for a in studio.state()["avatars"] if a["id"] == avatar["id"])
    assert stored["image"]["url"] is None  # from the runway:// upload, not a URL
    studio.advance(PROCESSING_SECONDS)
    listed = studio.run(studio.characters.list_characters)
    assert [(a["name"], a["status"]) for a in listed] == [("Ava", "READY")]
    # The centre crop was accepted, so Runway got the stream's 17:11 shape, not the 1400×1000 original.
    thumb = studio.run(studio.characters.media.thumbnail, listed[0]["reference_image_uri"], None)
    width, height = picture_size(thumb)
    assert abs(width / height - 1088 / 704) < 0.02
    # The voice's description, learnt from the answer, now labels the preset in the form.
    assert ("Clara · soft, approachable", "preset:clara") in studio.voices.voice_choices()


def test_the_crop_can_be_declined(studio):
    avatar = studio.run(studio.characters.create_character, form(crop=False))
    thumb = studio.run(studio.characters.media.thumbnail, avatar["reference_image_uri"], None)
    width, height = picture_size(thumb)
    assert abs(width / height - 1400 / 1000) < 0.02


def test_create_from_a_url(studio):
    url = "https://images.example.com/people/ava.jpg"
    avatar = studio.run(studio.characters.create_character, form(image_data=None, image_url=url))
    assert avatar["reference_image_uri"] == url
    assert "POST /v1/uploads" not in studio.state()["requests"]
    studio.advance(PROCESSING_SECONDS)
    assert studio.run(studio.characters.get_character, avatar["id"])["status"] == "READY"


def test_an_image_without_a_face_fails_with_a_reason_and_advice(studio):
    avatar = studio.run(studio.characters.create_character, form(image_data=flat_png(), image_filename="wall.png"))
    studio.advance(PROCESSING_SECONDS)
    failed = studio.run(studio.characters.get_character, avatar["id"])
    assert failed["status"] == "FAILED" and "face" in failed["failure_reason"].lower()
    from studio.catalog.characters import failure_advice
    assert "clearly visible face" in failure_advice(failed["failure_reason"])


def test_a_processing_failure_from_runway_is_reported(studio):
    studio.sim.post("/_simulator/avatar-failures", json={"failureReason": "Internal processing error.", "count": 1})
    avatar = studio.run(studio.characters.create_character, form())
    studio.advance(PROCESSING_SECONDS)
    failed = studio.run(studio.characters.get_character, avatar["id"])
    assert (failed["status"], failed["failure_reason"]) == ("FAILED", "Internal processing error.")


def test_edit_changes_fields_clears_the_start_script_and_swaps_documents(studio):
    first = studio.run(studio.documents.create_document, "FAQ", "Q: What? A: This.")
    second = studio.run(studio.documents.create_document, "Policy", "Returns in 30 days.")
    avatar = ready(studio, document_ids=[first["id"]])
    edited = form(name="Ava 2", personality="A calmer guide.", start_script="", voice="preset:leo",
                  document_ids=[second["id"]], image_data=None)
    before = studio.state()["requests"].get("PATCH /v1/avatars/{id}", 0)
    updated = studio.run(studio.characters.update_character, avatar["id"], edited)
    assert studio.state()["requests"]["PATCH /v1/avatars/{id}"] == before + 1
    assert updated["name"] == "Ava 2" and updated["personality"] == "A calmer guide."
    assert updated["start_script"] is None
    assert updated["voice"]["preset_id"] == "leo" and updated["document_ids"] == [second["id"]]
    assert updated["status"] == "READY"  # no new image: no reprocessing
    with pytest.raises(StudioError) as caught:
        studio.run(studio.characters.update_character, avatar["id"], edited)
    assert caught.value.code == "no_changes"


def test_a_new_image_reprocesses(studio):
    avatar = ready(studio)
    updated = studio.run(studio.characters.update_character, avatar["id"],
                         form(image_data=face_jpeg(tone=(180, 130, 100)), image_filename="new.jpg"))
    assert updated["status"] == "PROCESSING"
    studio.advance(PROCESSING_SECONDS)
    assert studio.run(studio.characters.get_character, avatar["id"])["status"] == "READY"


def test_a_new_image_while_processing_is_explained_not_dumped(studio):
    avatar = studio.run(studio.characters.create_character, form())
    with pytest.raises(StudioError) as caught:
        studio.run(studio.characters.update_character, avatar["id"], form(image_filename="again.jpg"))
    assert caught.value.status == 409 and caught.value.code == "still_processing"
    assert caught.value.message == STILL_PROCESSING
    # Other fields may change while it processes.
    renamed = studio.run(studio.characters.update_character, avatar["id"], form(name="Ava B", image_data=None))
    assert renamed["name"] == "Ava B" and renamed["status"] == "PROCESSING"


def test_duplicate_copies_everything_into_a_new_character(studio):
    document = studio.run(studio.documents.create_document, "FAQ", "Q: What? A: This.")
    original = ready(studio, document_ids=[document["id"]])
    copy = studio.run(studio.characters.duplicate_character, original["id"])
    assert copy["id"] != original["id"] and copy["name"] == "Ava (copy)"
    assert copy["personality"] == original["personality"] and copy["start_script"] == original["start_script"]
    assert copy["voice"]["preset_id"] == "clara" and copy["document_ids"] == [document["id"]]
    studio.advance(PROCESSING_SECONDS)
    assert studio.run(studio.characters.get_character, copy["id"])["status"] == "READY"
    assert len(studio.run(studio.characters.list_characters)) == 2


def test_delete(studio):
    avatar = ready(studio)
    studio.run(studio.characters.delete_character, avatar["id"])
    assert studio.run(studio.characters.list_characters) == []
    with pytest.raises(StudioError) as caught:
        studio.run(studio.characters.get_character, avatar["id"])
    assert caught.value.code == "not_found"


def test_thumbnails_are_fetched_once_and_cached(studio):
    avatar = ready(studio)
    from studio.catalog.characters import avatar_image_url, avatar_media_key
    key = avatar_media_key(avatar)
    first = studio.run(studio.characters.media.thumbnail, avatar_image_url(avatar), key)
    files_before = studio.state()["requests"].get("GET /_files/{id}", 0)
    again = studio.run(studio.characters.media.thumbnail, avatar_image_url(avatar), key)
    assert first == again and first.startswith("data:image/jpeg;base64,")
    assert studio.state()["requests"].get("GET /_files/{id}", 0) == files_before
    assert picture_size(first)[0] <= 352


# -- documents ---------------------------------------------------------------------------------

def test_documents_crud_with_sizes(studio):
    created = studio.run(studio.documents.create_document, "FAQ", "x" * 400)
    listed = studio.run(studio.documents.list_documents)
    assert [(d["name"], d["size"]) for d in listed] == [("FAQ", {"characters": 400, "tokens": 100})]
    studio.advance(1)
    studio.run(studio.documents.update_document, created["id"], "FAQ v2", "Short now.")
    fetched = studio.run(studio.documents.get_document, created["id"])
    assert (fetched["name"], fetched["content"]) == ("FAQ v2", "Short now.")
    assert studio.run(studio.documents.list_documents)[0]["size"]["characters"] == 10
    studio.run(studio.documents.delete_document, created["id"])
    assert studio.run(studio.documents.list_documents) == []


def test_attach_detach_and_used_by(studio):
    document = studio.run(studio.documents.create_document, "FAQ", "Q: What? A: This.")
    ava = ready(studio)
    bob = ready(studio, name="Bob")
    studio.run(studio.documents.attach_document, document["id"], ava["id"])
    studio.run(studio.documents.attach_document, document["id"], ava["id"])  # twice is once
    studio.run(studio.documents.attach_document, document["id"], bob["id"])
    used_by = studio.run(studio.documents.get_document, document["id"])["used_by"]
    assert sorted(u["name"] for u in used_by) == ["Ava", "Bob"]
    assert studio.run(studio.characters.get_character, ava["id"])["document_ids"] == [document["id"]]
    studio.run(studio.documents.detach_document, document["id"], ava["id"])
    assert [u["name"] for u in studio.run(studio.documents.list_documents)[0]["used_by"]] == ["Bob"]
    # Deleting a document detaches it from every character.
    studio.run(studio.documents.delete_document, document["id"])
    assert studio.run(studio.characters.get_character, bob["id"])["document_ids"] == []


def test_attaching_past_fifty_documents_is_refused_before_sending(studio):
    documents = [studio.run(studio.documents.create_document, f"Doc {i}", "text") for i in range(51)]
    avatar = ready(studio, document_ids=[d["id"] for d in documents[:50]])
    patches = studio.state()["requests"].get("PATCH /v1/avatars/{id}", 0)
    with pytest.raises(StudioError) as caught:
        studio.run(studio.documents.attach_document, documents[50]["id"], avatar["id"])
    assert "50" in caught.value.message
    assert studio.state()["requests"].get("PATCH /v1/avatars/{id}", 0) == patches


# -- custom voices -----------------------------------------------------------------------------

def test_design_a_voice_preview_it_and_use_it(studio):
    prompt = "A warm, calm, mid-thirties narrator with a gentle British accent."
    sample, seconds = studio.run(studio.voices.preview_voice_design, prompt, "eleven_ttv_v3")
    assert sample.startswith(b"RIFF") and seconds > 0
    voice_id = studio.run(studio.voices.design_voice, "Narrator", prompt, "eleven_ttv_v3", "calm narrator")
    voices = studio.run(studio.voices.list_voices)
    assert [(v["id"], v["status"]) for v in voices] == [(voice_id, "PROCESSING")]
    assert ("★ Narrator (processing…) · calm narrator", f"custom:{voice_id}") in studio.voices.voice_choices(voices)
    studio.advance(PROCESSING_SECONDS)
    assert studio.run(studio.voices.list_voices)[0]["status"] == "READY"
    assert studio.run(studio.voices.voice_preview_audio, voice_id).startswith(b"RIFF")
    avatar = ready(studio, voice=f"custom:{voice_id}")
    assert avatar["voice"] == {"type": "custom", "id": voice_id, "deleted": False, "name": "Narrator",
                               "description": "calm narrator"}
    stored = next(v for v in studio.state()["voices"] if v["id"] == voice_id)
    assert stored["source"] == {"type": "text", "prompt": prompt, "model": "eleven_ttv_v3"}


def test_clone_a_voice_from_a_sample(studio):
    voice_id = studio.run(studio.voices.clone_voice, "Me", wav(12), "me.wav", "")
    stored = next(v for v in studio.state()["voices"] if v["id"] == voice_id)
    assert stored["source"]["type"] == "audio" and stored["source"]["audio"].startswith("runway://")
    avatar = ready(studio, voice=f"custom:{voice_id}")
    assert avatar["voice"]["id"] == voice_id


def test_a_deleted_custom_voice_blocks_duplicate_with_words(studio):
    voice_id = studio.run(studio.voices.design_voice, "Temp", "A bright and cheerful young voice.", "eleven_ttv_v3")
    avatar = ready(studio, voice=f"custom:{voice_id}")
    studio.run(studio.voices.delete_voice, voice_id)
    with pytest.raises(StudioError) as caught:
        studio.run(studio.characters.duplicate_character, avatar["id"])
    assert caught.value.code == "voice_deleted" and "pick another voice" in caught.value.message
