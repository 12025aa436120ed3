"""The checks of every catalog form: characters, knowledge documents and custom voices.

Everything a person types or uploads is checked here against Runway's published limits (defined
in `studio.vocabulary`) *before* anything is sent. Each field check returns one plain message
that names its field, or None; a form that fails raises `FormInvalid`, and no request is made.
Form values that stand for something upstream (a voice choice such as "preset:clara") are
translated here too.
"""

from __future__ import annotations

import io
import ipaddress
import re
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from studio.catalog import images
from studio.errors import StudioError
from studio.vocabulary import (
    AUDIO_MAX_BYTES,
    AUDIO_MAX_SECONDS,
    AUDIO_MIN_SECONDS,
    DOC_CONTENT_MAX,
    DOC_NAME_MAX,
    DOCUMENTS_MAX,
    IMAGE_URL_MAX,
    IMAGE_URL_MIN,
    NAME_MAX,
    PERSONALITY_MAX,
    START_SCRIPT_MAX,
    VOICE_DESCRIPTION_MAX,
    VOICE_NAME_MAX,
    VOICE_PRESETS,
    VOICE_PROMPT_MAX,
    VOICE_PROMPT_MIN,
)

# -- Choices the API offers ----------------------------------------------------------------------

IMAGE_PROCESSING = ("optimize", "none")
VOICE_DESIGN_MODELS = ("eleven_ttv_v3", "eleven_multilingual_ttv_v2")
DOCUMENT_EXTENSIONS = (".txt", ".md", ".markdown")
AUDIO_EXTENSIONS = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm", ".mp4")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class FormInvalid(StudioError):
    """A form failed its checks; `errors` maps each field to one plain message. Nothing was sent."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid_form", " ".join(errors.values()) or "Check the form.", 400)
        self.errors = dict(errors)


def refuse_unless_valid(checks: dict[str, str | None]) -> None:
    """Raise `FormInvalid` with the checks that failed (those with a message); else nothing."""
    errors = {key: message for key, message in checks.items() if message}
    if errors:
        raise FormInvalid(errors)


# -- Text fields ---------------------------------------------------------------------------------

def text_length(text: str) -> int:
    """Length as Runway counts it (JavaScript string length: UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _length_message(label: str, text: str, minimum: int, maximum: int) -> str | None:
    size = text_length(text)
    if minimum and not text.strip():
        return f"{label} is required."
    if size < minimum:
        return f"{label} is {size:,} characters; it needs at least {minimum:,} (up to {maximum:,})."
    if size > maximum:
        return f"{label} is {size:,} characters; the limit is {maximum:,}. Shorten it by {size - maximum:,}."
    return None


def check_name(name: str | None) -> str | None:
    return _length_message("Name", (name or "").strip(), 1, NAME_MAX)


def check_personality(text: str | None) -> str | None:
    return _length_message("Personality", (text or "").strip(), 1, PERSONALITY_MAX)


def check_start_script(text: str | None) -> str | None:
    return _length_message("Start script", (text or "").strip(), 0, START_SCRIPT_MAX)


def check_document_ids(document_ids: Sequence[str] | None) -> str | None:
    ids = list(document_ids or [])
    if len(set(ids)) > DOCUMENTS_MAX:
        return (f"Knowledge documents: {len(set(ids))} selected; a character can use at most "
                f"{DOCUMENTS_MAX}. Remove {len(set(ids)) - DOCUMENTS_MAX}.")
    bad = [d for d in ids if not isinstance(d, str) or not _UUID.match(d)]
    if bad:
        return "Knowledge documents: one of the selected documents is not a valid document id."
    return None


def clean_ids(document_ids: Iterable[str] | None) -> list[str]:
    """Document ids once each, in the order chosen."""
    return list(dict.fromkeys(document_ids or []))


def check_image_processing(value: str | None) -> str | None:
    if value not in IMAGE_PROCESSING:
        return "Image processing must be “optimize” or “none”."
    return None


# -- Image URLs ----------------------------------------------------------------------------------

def check_image_url(url: str | None) -> str | None:
    """Runway fetches reference images itself: https only, a public domain name, ≤ 2,048 chars."""
    url = (url or "").strip()
    if not url:
        return "Image URL is required when the image comes from a URL."
    if any(ch.isspace() for ch in url):
        return "Image URL must not contain spaces."
    if text_length(url) > IMAGE_URL_MAX:
        return f"Image URL is {text_length(url):,} characters; the limit is {IMAGE_URL_MAX:,}."
    if not url.lower().startswith("https://"):
        return "Image URL must start with https:// (Runway fetches only secure links)."
    if len(url) < IMAGE_URL_MIN:
        return "Image URL is too short to be a link to an image."
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "Image URL is not a valid web address."
    if parts.username or parts.password:
        return "Image URL must not contain a user name or password."
    if not host:
        return "Image URL has no host name."
    return _check_image_host(host)


def _check_image_host(host: str) -> str | None:
    if _is_ip_address(host):
        return "Image URL must use a domain name, not an IP address."
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        return "Image URL must use a public domain name (like images.example.com)."
    if host.lower() in {"localhost"} or host.lower().endswith((".localhost", ".local", ".internal")):
        return "Image URL must point to a public site; Runway cannot reach local addresses."
    return None


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    # Dotted or single-number forms browsers accept as IPv4 (e.g. 0x7f.1 or 2130706433).
    return bool(re.fullmatch(r"(0x[0-9a-f]+|\d+)(\.(0x[0-9a-f]+|\d+)){0,3}", host, re.IGNORECASE))


# -- Voice choices -------------------------------------------------------------------------------

def preset_choice(preset_id: str) -> str:
    return f"preset:{preset_id}"


def custom_choice(voice_id: str) -> str:
    return f"custom:{voice_id}"


def voice_param(choice: str) -> dict[str, str]:
    """A voice choice ("preset:clara", "custom:<uuid>") as the SDK's `voice` argument."""
    kind, _, value = (choice or "").partition(":")
    if kind == "preset" and value in VOICE_PRESETS:
        return {"type": "runway-live-preset", "preset_id": value}
    if kind == "custom" and _UUID.match(value):
        return {"type": "custom", "id": value}
    raise ValueError(f"unknown voice choice {choice!r}")


def voice_choice_of(voice: dict[str, Any] | None) -> str | None:
    """The form choice for an avatar's `voice` object (None for a deleted custom voice)."""
    voice = voice or {}
    if voice.get("type") == "runway-live-preset" and voice.get("preset_id"):
        return preset_choice(voice["preset_id"])
    if voice.get("type") == "custom" and voice.get("id") and not voice.get("deleted"):
        return custom_choice(voice["id"])
    return None


def check_voice(choice: str | None) -> str | None:
    if not choice:
        return "Voice: choose a voice for the character."
    try:
        voice_param(choice)
    except ValueError:
        return "Voice: that choice is not a known preset or custom voice."
    return None


# -- The character form --------------------------------------------------------------------------

@dataclass
class CharacterForm:
    """What the create / edit form holds. Image: bytes from an upload, or an https URL."""

    name: str = ""
    personality: str = ""
    voice: str = ""
    start_script: str = ""
    document_ids: Sequence[str] = ()
    image_processing: str = "optimize"
    image_data: bytes | None = None
    image_filename: str | None = None
    image_url: str = ""
    crop: bool = True
    # Where the crop sits, (x, y) from 0 (left / top) to 1 (right / bottom); the centre by default.
    crop_focus: tuple[float, float] = (0.5, 0.5)

    @property
    def has_image(self) -> bool:
        return self.image_data is not None or bool(self.image_url.strip())


def validate_character(form: CharacterForm, *, creating: bool = True) -> dict[str, str]:
    """Every check of the character form; {} when it may be sent. Keys are field names."""
    checks = {
        "name": check_name(form.name),
        "voice": check_voice(form.voice),
        "personality": check_personality(form.personality),
        "start_script": check_start_script(form.start_script),
        "documents": check_document_ids(form.document_ids),
        "image_processing": check_image_processing(form.image_processing),
    }
    errors = {key: message for key, message in checks.items() if message}
    if form.image_data is not None:
        report = images.preflight(form.image_data, form.image_filename)
        if not report.ok:
            errors["image"] = "Reference image: " + " ".join(report.problems)
    elif form.image_url.strip():
        message = check_image_url(form.image_url)
        if message:
            errors["image_url"] = message
    elif creating:
        errors["image"] = "Reference image is required: upload a photo (or take one), or give an https URL."
    return errors


# -- Knowledge documents -------------------------------------------------------------------------

def check_doc_name(name: str | None) -> str | None:
    return _length_message("Document name", (name or "").strip(), 1, DOC_NAME_MAX)


def check_doc_content(content: str | None) -> str | None:
    text = content or ""
    if "\x00" in text:
        return "Document content contains binary data; knowledge documents must be plain text or Markdown."
    return _length_message("Document content", text if text.strip() else "", 1, DOC_CONTENT_MAX)


def validate_document(name: str | None, content: str | None) -> dict[str, str]:
    errors = {"name": check_doc_name(name), "content": check_doc_content(content)}
    return {key: message for key, message in errors.items() if message}


def document_from_file(filename: str | None, data: bytes) -> tuple[str, str]:
    """(name, text) of an uploaded .txt / .md file; FormInvalid with a plain reason otherwise."""
    path = PurePath(filename or "document.txt")
    label = f"“{path.name}”"
    if path.suffix.lower() not in DOCUMENT_EXTENSIONS:
        raise FormInvalid({"file": f"File {label} is not a .txt or .md file; knowledge documents are plain "
                                   "text or Markdown. Export it as text and upload that."})
    if not data:
        raise FormInvalid({"file": f"File {label} is empty (0 bytes)."})
    text = _decode_text(data)
    if text is None:
        raise FormInvalid({"file": f"File {label} is not readable text (it may be a binary file renamed to "
                                   f"{path.suffix}). Save it as UTF-8 text and upload it again."})
    text = text.replace("\r\n", "\n")
    name = path.stem.strip() or "Untitled document"
    if text_length(name) > DOC_NAME_MAX:
        name = name[:DOC_NAME_MAX]
    message = check_doc_content(text)
    if message:
        raise FormInvalid({"file": f"File {label}: {message}"})
    return name, text


def _decode_text(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


# -- Custom voices -------------------------------------------------------------------------------

def check_voice_name(name: str | None) -> str | None:
    return _length_message("Voice name", (name or "").strip(), 1, VOICE_NAME_MAX)


def check_voice_description(text: str | None) -> str | None:
    return _length_message("Voice description", (text or "").strip(), 0, VOICE_DESCRIPTION_MAX)


def check_voice_prompt(prompt: str | None) -> str | None:
    text = (prompt or "").strip()
    if not text:
        return f"Voice prompt is required: describe the voice in {VOICE_PROMPT_MIN:,}–{VOICE_PROMPT_MAX:,} characters."
    return _length_message("Voice prompt", text, VOICE_PROMPT_MIN, VOICE_PROMPT_MAX)


def check_voice_model(model: str | None) -> str | None:
    if model not in VOICE_DESIGN_MODELS:
        return f"Voice model must be one of {', '.join(VOICE_DESIGN_MODELS)}."
    return None


def check_audio_sample(data: bytes | None, filename: str | None) -> str | None:
    """A voice-clone sample: an audio file of 10 s – 5 min and at most 10 MB."""
    if data is None:
        return "Audio sample is required: upload or record 10 seconds to 5 minutes of clear speech."
    suffix = PurePath(filename or "").suffix.lower()
    if suffix and suffix not in AUDIO_EXTENSIONS:
        return (f"Audio sample “{PurePath(filename or '').name}” is not an audio file we can send "
                f"(use {', '.join(e.lstrip('.') for e in AUDIO_EXTENSIONS[:5])}, ...).")
    if not data:
        return "Audio sample is empty (0 bytes); record or upload it again."
    if len(data) > AUDIO_MAX_BYTES:
        return f"Audio sample is {len(data) / 1e6:.1f} MB; the limit is {AUDIO_MAX_BYTES / 1e6:.0f} MB."
    if len(data) < images.MIN_UPLOAD_BYTES:
        return f"Audio sample is only {len(data)} bytes; that is too short to be 10 seconds of speech."
    seconds = wav_seconds(data)
    if seconds is not None and seconds < AUDIO_MIN_SECONDS:
        return f"Audio sample is {seconds:.1f} seconds long; it needs at least {AUDIO_MIN_SECONDS} seconds of speech."
    if seconds is not None and seconds > AUDIO_MAX_SECONDS:
        return f"Audio sample is {seconds / 60:.1f} minutes long; the limit is {AUDIO_MAX_SECONDS // 60} minutes."
    return None


def wav_seconds(data: bytes) -> float | None:
    """Duration of a WAV file, or None when it is not a WAV we can read (others are not measured)."""
    if not data.startswith(b"RIFF"):
        return None
    try:
        with wave.open(io.BytesIO(data)) as audio:
            rate = audio.getframerate()
            return audio.getnframes() / rate if rate else None
    except (wave.Error, EOFError):
        return None
