"""Form checks of the Characters, Knowledge and voice forms: every limit, every message names its
field, and bad input sends nothing upstream."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from studio.catalog import characters, documents, forms
from studio.catalog.characters import CharacterService
from studio.catalog.documents import DocumentService
from studio.catalog.forms import CharacterForm, FormInvalid
from studio.catalog.voices import VoiceService
from studio.errors import StudioError
from tests.characters.support import animated_gif, face_jpeg, flat_png, studio_on_simulator, wav


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def good_form(**changes) -> CharacterForm:
    values = {"name": "Ava", "personality": "A friendly guide.", "voice": "preset:clara",
              "image_data": face_jpeg(), "image_filename": "ava.jpg"}
    values.update(changes)
    return CharacterForm(**values)


# -- every limit, at and past the edge ---------------------------------------------------------

@pytest.mark.parametrize(("check", "field", "minimum", "maximum"), [
    (forms.check_name, "Name", 1, 50),
    (forms.check_personality, "Personality", 1, 10_000),
    (forms.check_start_script, "Start script", 0, 2_000),
    (forms.check_doc_name, "Document name", 1, 255),
    (forms.check_doc_content, "Document content", 1, 200_000),
    (forms.check_voice_prompt, "Voice prompt", 20, 1_000),
    (forms.check_voice_name, "Voice name", 1, 100),
    (forms.check_voice_description, "Voice description", 0, 1_024),
])
def test_text_limits(check, field, minimum, maximum):
    assert check("x" * maximum) is None
    too_long = check("x" * (maximum + 1))
    assert too_long and too_long.startswith(field) and f"{maximum:,}" in too_long
    if minimum:
        assert check("x" * minimum) is None
        empty = check("")
        assert empty and empty.startswith(field)
        assert check("   ").startswith(field)  # blank is empty
        if minimum > 1:
            short = check("x" * (minimum - 1))
            assert short.startswith(field) and f"{minimum:,}" in short
    else:
        assert check("") is None and check(None) is None


def test_lengths_count_like_runway_does():
    # Runway counts JavaScript string length: an emoji is two UTF-16 units.
    assert forms.check_name("😀" * 25) is None
    assert "52" in forms.check_name("😀" * 26)
    assert forms.check_name("é" * 50) is None


def test_document_count_limit_names_the_field():
    assert forms.check_document_ids(ids(50)) is None
    message = forms.check_document_ids(ids(51))
    assert message.startswith("Knowledge documents") and "50" in message
    assert forms.check_document_ids(["not-a-uuid"]).startswith("Knowledge documents")
    assert forms.check_document_ids([]) is None


@pytest.mark.parametrize("url", [
    "https://images.example.com/ava.jpg",
    "https://cdn.example.co.uk/a/b/c.png?size=large&v=2",
    "https://example.com:8443/x.webp",
])
def test_good_image_urls(url):
    assert forms.check_image_url(url) is None


@pytest.mark.parametrize(("url", "words"), [
    ("", "required"),
    ("http://images.example.com/ava.jpg", "https://"),
    ("ftp://images.example.com/ava.jpg", "https://"),
    ("images.example.com/ava.jpg", "https://"),
    ("https://192.168.1.20/ava.jpg", "IP address"),
    ("https://127.0.0.1/ava.jpg", "IP address"),
    ("https://[::1]/ava.jpg", "IP address"),
    ("https://2130706433/ava.jpg", "IP address"),
    ("https://localhost/ava.jpg", "domain name"),
    ("https://printer.local/ava.jpg", "public"),
    ("https://user:pw@example.com/ava.jpg", "password"),
    ("https://exa mple.com/ava.jpg", "spaces"),
    ("https://example.com/" + "a" * 2030, "2,048"),
])
def test_bad_image_urls(url, words):
    message = forms.check_image_url(url)
    assert message and message.startswith("Image URL") and words in message


def test_url_of_exactly_2048_characters_is_fine():
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    assert len(url) == 2048 and forms.check_image_url(url) is None


def test_voice_choices_and_params():
    assert forms.voice_param("preset:clara") == {"type": "runway-live-preset", "preset_id": "clara"}
    voice_id = str(uuid.uuid4())
    assert forms.voice_param(f"custom:{voice_id}") == {"type": "custom", "id": voice_id}
    for bad in ("", "preset:nobody", "custom:123", "clara"):
        with pytest.raises(ValueError):
            forms.voice_param(bad)
        assert forms.check_voice(bad).startswith("Voice")
    assert forms.voice_choice_of({"type": "runway-live-preset", "preset_id": "leo"}) == "preset:leo"
    assert forms.voice_choice_of({"type": "custom", "id": voice_id, "deleted": False}) == f"custom:{voice_id}"
    assert forms.voice_choice_of({"type": "custom", "id": voice_id, "deleted": True}) is None


def test_voice_list_has_30_presets_with_known_descriptions():
    service = VoiceService(gateway=None)
    choices = service.voice_choices()
    assert len(choices) == 30
    assert ("Clara · soft, approachable", "preset:clara") in choices
    custom = [{"id": str(uuid.uuid4()), "name": "Narrator", "status": "READY", "description": "deep"},
              {"id": str(uuid.uuid4()), "name": "Broken", "status": "FAILED"}]
    labels = [label for label, _ in service.voice_choices(custom)]
    assert labels[0] == "★ Narrator · deep" and not any("Broken" in label for label in labels)


def test_voice_model_and_audio_sample_checks():
    assert forms.check_voice_model("eleven_ttv_v3") is None
    assert forms.check_voice_model("gpt").startswith("Voice model")
    assert forms.check_audio_sample(None, None).startswith("Audio sample")
    assert "0 bytes" in forms.check_audio_sample(b"", "a.wav")
    assert "at least 10 seconds" in forms.check_audio_sample(wav(4), "a.wav")
    assert forms.check_audio_sample(wav(12), "a.wav") is None
    assert "minutes" in forms.check_audio_sample(wav(301, rate=4000), "a.wav")
    assert "10 MB" in forms.check_audio_sample(b"\0" * 10_000_001, "a.mp3")
    assert "not an audio file" in forms.check_audio_sample(wav(12), "notes.txt")


# -- the whole character form ------------------------------------------------------------------

def test_a_good_form_passes():
    assert forms.validate_character(good_form()) == {}
    assert forms.validate_character(good_form(image_data=None, image_url="https://example.com/a.png")) == {}


def test_empty_form_names_every_missing_field():
    errors = forms.validate_character(CharacterForm())
    assert set(errors) == {"name", "voice", "personality", "image"}
    assert errors["name"].startswith("Name") and errors["personality"].startswith("Personality")
    assert errors["voice"].startswith("Voice") and errors["image"].startswith("Reference image")


def test_editing_does_not_need_a_new_image():
    assert forms.validate_character(good_form(image_data=None), creating=False) == {}


@pytest.mark.parametrize(("data", "filename", "words"), [
    (b"", "empty.jpg", "empty"),
    (b"name,email\nada,ada@example.com\n" * 40, "photo.jpg", "isn't an image"),
    (animated_gif(), "party.gif", "animated"),
    (face_jpeg()[:4000], "cut.jpg", "damaged"),
])
def test_bad_image_files_are_refused_with_a_reason(data, filename, words):
    errors = forms.validate_character(good_form(image_data=data, image_filename=filename))
    assert list(errors) == ["image"]
    assert errors["image"].startswith("Reference image") and words in errors["image"]


def test_oversize_fields_each_get_their_own_message():
    errors = forms.validate_character(good_form(name="n" * 51, personality="p" * 10_001, start_script="s" * 2_001,
                                             document_ids=ids(51)))
    assert set(errors) == {"name", "personality", "start_script", "documents"}


def test_copy_names_stay_within_the_limit():
    assert characters.copy_name("Ava") == "Ava (copy)"
    assert len(characters.copy_name("x" * 50)) == 50 and characters.copy_name("x" * 50).endswith("(copy)")


def test_failure_advice_says_what_to_try():
    assert "face" in characters.failure_advice("No face was detected in the reference image.")
    assert "JPEG" in characters.failure_advice("The reference image could not be read.")
    assert characters.failure_advice(None)


def test_changes_send_only_what_differs_and_null_clears_the_start_script():
    docs = ids(2)
    current = {"name": "Ava", "personality": "A guide.", "start_script": "Hi!",
               "voice": {"type": "runway-live-preset", "preset_id": "clara"}, "document_ids": docs}
    service = CharacterService(gateway=None)
    same = CharacterForm(name="Ava", personality="A guide.", start_script="Hi!", voice="preset:clara",
                         document_ids=docs)
    assert service.changes(current, same) == {}
    edited = CharacterForm(name="Ava", personality="A guide.", start_script="", voice="preset:leo",
                           document_ids=[docs[1]])
    assert service.changes(current, edited) == {
        "start_script": None, "voice": {"type": "runway-live-preset", "preset_id": "leo"},
        "document_ids": [docs[1]]}


# -- documents ---------------------------------------------------------------------------------

def test_document_files():
    assert forms.document_from_file("faq.md", b"# FAQ\nQ?\r\nA.") == ("faq", "# FAQ\nQ?\nA.")
    assert forms.document_from_file("notes.txt", "\ufeffhéllo".encode("utf-8")) == ("notes", "héllo")
    assert forms.document_from_file("wide.txt", "hi there".encode("utf-16"))[1] == "hi there"
    cases = [("report.pdf", b"%PDF-1.7 ...", ".txt or .md"), ("empty.txt", b"", "empty"),
             ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "not readable text"),
             ("latin.txt", "caf\xe9".encode("latin-1"), "not readable text"),
             ("huge.md", b"x" * 200_001, "200,000"), ("blank.md", b"   \n  ", "Document content")]
    for filename, data, words in cases:
        with pytest.raises(FormInvalid) as caught:
            forms.document_from_file(filename, data)
        assert words in caught.value.errors["file"] and filename in caught.value.errors["file"]


def test_document_size_estimates_tokens():
    assert documents.document_size("abcd" * 10) == {"characters": 40, "tokens": 10}
    assert forms.validate_document("", "") == {"name": "Document name is required.",
                                            "content": "Document content is required."}


# -- bad input sends nothing upstream ---------------------------------------------------------

class NoUpstream:
    """A gateway that fails the test if anything at all is sent."""

    def __getattr__(self, name):
        raise AssertionError(f"gateway.{name} was called for input that should have been refused")


BAD_CALLS = [
    ("characters", "create_character", (CharacterForm(),)),
    ("characters", "create_character", (good_form(name=""),)),
    ("characters", "create_character", (good_form(image_data=b"not an image", image_filename="x.jpg"),)),
    ("characters", "create_character", (good_form(image_data=None, image_url="http://example.com/a.jpg"),)),
    ("characters", "create_character", (good_form(personality="p" * 10_001),)),
    ("characters", "create_character", (good_form(start_script="s" * 2_001),)),
    ("characters", "create_character", (good_form(document_ids=ids(51)),)),
    ("characters", "update_character", (str(uuid.uuid4()), good_form(name="n" * 51))),
    ("documents", "create_document", ("", "content")),
    ("documents", "create_document", ("FAQ", "x" * 200_001)),
    ("documents", "update_document", (str(uuid.uuid4()), "FAQ", "")),
    ("voices", "design_voice", ("Narrator", "too short", "eleven_ttv_v3")),
    ("voices", "design_voice", ("", "A deep, slow, gravelly narrator voice.", "eleven_ttv_v3")),
    ("voices", "preview_voice_design", ("short", "eleven_ttv_v3")),
    ("voices", "clone_voice", ("Me", wav(3), "me.wav")),
    ("voices", "clone_voice", ("Me", None, None)),
]


def services(gateway) -> dict[str, object]:
    """The catalog's three services over one gateway, by the name the studio gives them."""
    return {"characters": CharacterService(gateway), "documents": DocumentService(gateway),
            "voices": VoiceService(gateway)}


@pytest.mark.parametrize(("service", "method", "args"), BAD_CALLS)
def test_bad_input_never_reaches_the_gateway(service, method, args):
    with pytest.raises(FormInvalid) as caught:
        asyncio.run(getattr(services(NoUpstream())[service], method)(*args))
    assert caught.value.errors and all(caught.value.errors.values())
    assert caught.value.code == "invalid_form" and caught.value.status == 400


def test_bad_input_sends_no_request_to_the_simulator(tmp_path):
    with studio_on_simulator(tmp_path) as studio:
        before = studio.requests()
        for service, method, args in BAD_CALLS:
            with pytest.raises(StudioError):
                studio.run(getattr(getattr(studio, service), method), *args)
        assert studio.requests() == before
        # A good form does go upstream: one upload and one create.
        studio.run(studio.characters.create_character, good_form(image_data=flat_png(), image_filename="x.png"))
        counts = studio.state()["requests"]
        assert counts.get("POST /v1/uploads") == 1 and counts.get("POST /v1/avatars") == 1
