"""Characters, knowledge documents and custom voices: form checks and the API calls behind them.

Everything a person types or uploads is checked here against Runway's published limits *before*
anything is sent: a form that fails its checks raises `FormInvalid` (one plain message per field)
and makes no request at all. Input that passes becomes gateway calls (`studio.runway`), the only
way to reach Runway. Reference images go through `studio.images` (pre-flight, orientation, colour,
optional centre crop to the 1088×704 stream) and up through an ephemeral upload (`runway://`).

No UI framework here: the pages call `CharacterService` and render what it returns.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import re
import uuid
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from studio import images
from studio.errors import StudioError
from studio.media import MediaCache
from studio.netguard import resolve_public
from studio.runway import VOICE_PRESETS, RunwayGateway

# -- Limits (Runway API reference §4.6, §4.8, §4.9) --------------------------------------------

NAME_MAX = 50
PERSONALITY_MAX = 10_000
START_SCRIPT_MAX = 2_000
DOCUMENTS_MAX = 50
IMAGE_URL_MIN = 13
IMAGE_URL_MAX = 2_048
DOC_NAME_MAX = 255
DOC_CONTENT_MAX = 200_000
VOICE_NAME_MAX = 100
VOICE_DESCRIPTION_MAX = 1_024
VOICE_PROMPT_MIN = 20
VOICE_PROMPT_MAX = 1_000
AUDIO_MAX_BYTES = 10_000_000
AUDIO_MIN_SECONDS = 10
AUDIO_MAX_SECONDS = 300
KNOWLEDGE_TOKENS_PER_CHARACTER = 50_000  # Runway's guidance; ~4 characters per token

IMAGE_PROCESSING = ("optimize", "none")
VOICE_DESIGN_MODELS = ("eleven_ttv_v3", "eleven_multilingual_ttv_v2")
DOCUMENT_EXTENSIONS = (".txt", ".md", ".markdown")
AUDIO_EXTENSIONS = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm", ".mp4")

STATUSES = ("PROCESSING", "READY", "FAILED")

# Descriptions Runway documents for three presets; the others are learnt from API answers.
DOCUMENTED_VOICE_DESCRIPTIONS = {
    "clara": "soft, approachable",
    "victoria": "firm, professional",
    "vincent": "knowledgeable, authoritative",
}

PERSONALITY_TEMPLATES: dict[str, dict[str, str]] = {
    "Friendly product guide": {
        "personality": (
            "You are a warm, upbeat product guide. You help people understand what the product does, "
            "answer questions in short, plain sentences, and suggest a next step at the end of each "
            "answer. If you do not know something, say so and offer to find out. Never invent prices, "
            "dates or features."
        ),
        "start_script": "Hi! I'm here to help you find your way around. What are you trying to do today?",
    },
    "Customer support agent": {
        "personality": (
            "You are a calm, patient customer support agent. Listen first, restate the problem in one "
            "sentence, then walk the customer through a fix one step at a time, checking after each "
            "step. Apologise once, not repeatedly. Use the knowledge documents as the source of truth; "
            "if they do not cover the problem, offer to hand over to a human colleague."
        ),
        "start_script": "Hello, thanks for reaching out. Tell me what's going on and we'll sort it out together.",
    },
    "Language tutor": {
        "personality": (
            "You are an encouraging language tutor. Speak slowly and clearly, keep your turns short, "
            "and let the learner do most of the talking. Gently correct one mistake at a time by "
            "repeating the sentence correctly, then ask a follow-up question that uses the same "
            "structure."
        ),
        "start_script": "Hello! Shall we practise a little conversation? Tell me about your day.",
    },
    "Interview coach": {
        "personality": (
            "You are a supportive but honest interview coach. Ask one realistic interview question at "
            "a time, listen to the whole answer, then give two specific strengths and one concrete "
            "improvement. Keep feedback under four sentences and move on to the next question."
        ),
        "start_script": "Welcome! Which role are you preparing for? I'll start with a warm-up question.",
    },
    "Storyteller": {
        "personality": (
            "You are a playful storyteller for all ages. You tell short, vivid stories, pause to let "
            "the listener choose what happens next, and weave their choices into the plot. Keep every "
            "story kind and free of frightening content."
        ),
        "start_script": "Once upon a time... no, wait, you choose! Dragons, space, or the deep sea?",
    },
}

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)


class FormInvalid(StudioError):
    """A form failed its checks; `errors` maps each field to one plain message. Nothing was sent."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid_form", " ".join(errors.values()) or "Check the form.", 400)
        self.errors = dict(errors)


# -- Field checks: each returns a message naming the field, or None ---------------------------

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


def check_image_processing(value: str | None) -> str | None:
    if value not in IMAGE_PROCESSING:
        return "Image processing must be “optimize” or “none”."
    return None


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


def check_voice(choice: str | None) -> str | None:
    if not choice:
        return "Voice: choose a voice for the character."
    try:
        voice_param(choice)
    except ValueError:
        return "Voice: that choice is not a known preset or custom voice."
    return None


def check_doc_name(name: str | None) -> str | None:
    return _length_message("Document name", (name or "").strip(), 1, DOC_NAME_MAX)


def check_doc_content(content: str | None) -> str | None:
    text = content or ""
    if "\x00" in text:
        return "Document content contains binary data; knowledge documents must be plain text or Markdown."
    return _length_message("Document content", text if text.strip() else "", 1, DOC_CONTENT_MAX)


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


# -- Voices ------------------------------------------------------------------------------------

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


def voice_label(voice: dict[str, Any] | None) -> str:
    """Short display name of an avatar's voice."""
    voice = voice or {}
    if voice.get("type") == "runway-live-preset":
        return voice.get("name") or str(voice.get("preset_id", "")).capitalize()
    if voice.get("deleted"):
        return "deleted custom voice"
    return f"{voice.get('name') or 'custom voice'} (custom)"


# -- Character forms ---------------------------------------------------------------------------

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

    @property
    def has_image(self) -> bool:
        return self.image_data is not None or bool(self.image_url.strip())


def validate_character(form: CharacterForm, *, creating: bool = True) -> dict[str, str]:
    """Every check of the character form; {} when it may be sent. Keys are field names."""
    errors: dict[str, str] = {}
    checks = {
        "name": check_name(form.name),
        "voice": check_voice(form.voice),
        "personality": check_personality(form.personality),
        "start_script": check_start_script(form.start_script),
        "documents": check_document_ids(form.document_ids),
        "image_processing": check_image_processing(form.image_processing),
    }
    errors.update({key: message for key, message in checks.items() if message})
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


def _clean_ids(document_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(document_ids or []))


def copy_name(name: str) -> str:
    """The name of a duplicate: "Ava (copy)", kept within the 50-character limit."""
    suffix = " (copy)"
    return (name.strip()[: NAME_MAX - len(suffix)].rstrip() + suffix).strip()


# -- Avatar status in plain words -------------------------------------------------------------

_FAILURE_ADVICE = (
    (("face",), ("Use a photo with one clearly visible face: centred, well lit, looking at the camera, "
                 "with nothing covering it (no sunglasses, masks or hands). Then create the character again.")),
    (("read", "decode", "format", "corrupt", "invalid image"),
     "Re-export the picture as a JPEG or PNG (1088×704 is ideal) and create the character again."),
    (("safety", "moderation", "cannot be used", "policy"),
     "Runway's safety check refused it. Choose a different picture or change the text, then try again."),
    (("timeout", "timed out", "internal", "try again"),
     "This looks temporary on Runway's side. Wait a minute and save the character again with the same image."),
)
_GENERIC_ADVICE = ("Try another photo with a single, clear, well-lit face, or switch image processing "
                   "to “none” if the picture is already a clean 1088×704 portrait.")


def failure_advice(reason: str | None) -> str:
    """What to try next after a FAILED avatar, from its (unstable, human) failure reason."""
    text = (reason or "").lower()
    for words, advice in _FAILURE_ADVICE:
        if any(word in text for word in words):
            return advice
    return _GENERIC_ADVICE


def is_processing(avatars: Iterable[dict[str, Any]]) -> bool:
    return any(a.get("status") == "PROCESSING" for a in avatars)


def avatar_fingerprint(avatars: Iterable[dict[str, Any]]) -> tuple:
    """Changes whenever something shown about any avatar changes (to skip needless redraws)."""
    return tuple(
        (a.get("id"), a.get("status"), a.get("name"), str(a.get("updated_at")), a.get("failure_reason"),
         len(a.get("document_ids") or []), voice_label(a.get("voice")))
        for a in avatars
    )


# -- Documents ---------------------------------------------------------------------------------

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


def document_size(content: str | None) -> dict[str, int]:
    """Characters and a rough token estimate (about 4 characters a token)."""
    characters = text_length(content or "")
    return {"characters": characters, "tokens": (characters + 3) // 4}


# -- Media: images and audio behind Runway URLs, fetched server-side --------------------------

def avatar_image_url(avatar: dict[str, Any]) -> str | None:
    return avatar.get("processed_image_uri") or avatar.get("reference_image_uri")


def avatar_media_key(avatar: dict[str, Any]) -> str:
    url = avatar_image_url(avatar) or ""
    return f"avatar:{avatar.get('id')}:{avatar.get('updated_at')}:{avatar.get('status')}:{url.split('?')[0]}"


# -- The service: checked input in, gateway calls out ------------------------------------------

STILL_PROCESSING = ("This character is still processing its image; wait until it is READY, "
                    "then save again.")
PRIVATE_IMAGE_URL = ("Image URL points to a private or local address; the studio only fetches "
                     "public addresses.")
IMAGE_HOST_LOOKUP_SECONDS = 3.0


@dataclass
class PreparedImage:
    """A reference image ready to send: a `runway://` URI or an https URL."""

    uri: str
    uploaded: bool


@dataclass
class CharacterService:
    """Characters, documents and voices over a `RunwayGateway` (or anything with its methods)."""

    gateway: Any
    media: MediaCache = field(default_factory=MediaCache)
    _voice_descriptions: dict[str, str] = field(default_factory=lambda: dict(DOCUMENTED_VOICE_DESCRIPTIONS))
    _doc_sizes: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The gateway's own media URLs (the simulator's are on loopback) skip the address check.
        if isinstance(self.gateway, RunwayGateway):
            self.media.trust(self.gateway.base_url)

    # Characters ------------------------------------------------------------------------------

    async def list_characters(self) -> list[dict[str, Any]]:
        avatars = await self.gateway.list_avatars()
        for avatar in avatars:
            self._learn_voice(avatar.get("voice"))
        return avatars

    async def get_character(self, avatar_id: str) -> dict[str, Any]:
        avatar = await self.gateway.get_avatar(avatar_id)
        self._learn_voice(avatar.get("voice"))
        return avatar

    async def create_character(self, form: CharacterForm) -> dict[str, Any]:
        """Check everything, upload the image if it is a file, then create. Nothing is sent on bad input."""
        errors = validate_character(form, creating=True)
        if errors:
            raise FormInvalid(errors)
        await self._refuse_internal_image_host(form)
        image = await self._prepare_image(form)
        fields: dict[str, Any] = {
            "name": form.name.strip(),
            "personality": form.personality.strip(),
            "reference_image": image.uri,
            "voice": voice_param(form.voice),
            "image_processing": form.image_processing,
        }
        if form.start_script.strip():
            fields["start_script"] = form.start_script.strip()
        if form.document_ids:
            fields["document_ids"] = _clean_ids(form.document_ids)
        avatar = await self.gateway.create_avatar(**fields)
        self._learn_voice(avatar.get("voice"))
        return avatar

    def changes(self, current: dict[str, Any], form: CharacterForm) -> dict[str, Any]:
        """The PATCH fields that differ from `current` (image fields are added by `update_character`)."""
        patch: dict[str, Any] = {}
        if form.name.strip() != (current.get("name") or ""):
            patch["name"] = form.name.strip()
        if form.personality.strip() != (current.get("personality") or ""):
            patch["personality"] = form.personality.strip()
        script = form.start_script.strip() or None
        if script != (current.get("start_script") or None):
            patch["start_script"] = script  # None clears it (sent as null)
        if form.voice != voice_choice_of(current.get("voice")):
            patch["voice"] = voice_param(form.voice)
        wanted = _clean_ids(form.document_ids)
        if wanted != list(current.get("document_ids") or []):
            patch["document_ids"] = wanted  # replaces the whole list
        return patch

    async def update_character(self, avatar_id: str, form: CharacterForm,
                               current: dict[str, Any] | None = None) -> dict[str, Any]:
        """PATCH only what changed. A new image is optional; a 409 while processing is explained."""
        errors = validate_character(form, creating=False)
        if errors:
            raise FormInvalid(errors)
        await self._refuse_internal_image_host(form)
        current = current or await self.get_character(avatar_id)
        patch = self.changes(current, form)
        if form.has_image:
            patch["reference_image"] = (await self._prepare_image(form)).uri
            patch["image_processing"] = form.image_processing
        if not patch:
            raise StudioError("no_changes", "Nothing to save: no field differs from the saved character.", 400)
        try:
            avatar = await self.gateway.update_avatar(avatar_id, **patch)
        except StudioError as error:
            if error.status == 409:
                raise StudioError("still_processing", STILL_PROCESSING, 409) from error
            raise
        self._learn_voice(avatar.get("voice"))
        return avatar

    async def duplicate_character(self, avatar_id: str) -> dict[str, Any]:
        """A new character with the same image, voice, personality, start script and documents."""
        source = await self.get_character(avatar_id)
        voice = voice_choice_of(source.get("voice"))
        if voice is None:
            raise StudioError("voice_deleted", f"“{source.get('name')}” uses a custom voice that was deleted; "
                                               "edit it to pick another voice before duplicating.", 409)
        reference = await self._copy_image(source)
        fields: dict[str, Any] = {
            "name": copy_name(source.get("name") or "Character"),
            "personality": source.get("personality") or "",
            "reference_image": reference,
            "voice": voice_param(voice),
            "image_processing": "optimize",
        }
        if source.get("start_script"):
            fields["start_script"] = source["start_script"]
        if source.get("document_ids"):
            fields["document_ids"] = list(source["document_ids"])
        return await self.gateway.create_avatar(**fields)

    async def delete_character(self, avatar_id: str) -> None:
        await self.gateway.delete_avatar(avatar_id)

    async def _refuse_internal_image_host(self, form: CharacterForm) -> None:
        """An image URL whose name resolves to an internal address is refused before any request.

        Runway fetches the URL and so does the studio (for the card): a name pointing inside our
        network must not pass. A name that does not resolve here, or not in time, is left to
        Runway to report: it fetches from its own network.
        """
        if form.image_data is not None or not form.image_url.strip() or self.media.allow_private:
            return
        parts = urlsplit(form.image_url.strip())
        try:
            await asyncio.wait_for(resolve_public(parts.hostname or "", parts.port or 443),
                                   IMAGE_HOST_LOOKUP_SECONDS)
        except StudioError as error:
            if error.code == "url_not_allowed":
                raise FormInvalid({"image_url": PRIVATE_IMAGE_URL}) from error
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
            return

    async def _prepare_image(self, form: CharacterForm) -> PreparedImage:
        if form.image_data is not None:
            try:
                filename, data = images.to_upload(form.image_data, form.image_filename, crop=form.crop)
            except images.ImageRejected as rejected:
                raise FormInvalid({"image": "Reference image: " + " ".join(rejected.problems)}) from rejected
            return PreparedImage(await self.gateway.upload(filename, data), uploaded=True)
        return PreparedImage(form.image_url.strip(), uploaded=False)

    async def _copy_image(self, source: dict[str, Any]) -> str:
        """Re-upload the original's stored image (its URLs may be unreachable to Runway or expire)."""
        for url in (source.get("reference_image_uri"), source.get("processed_image_uri")):
            data = await self.media.get(url)
            if data and len(data) >= images.MIN_UPLOAD_BYTES:
                try:
                    filename, payload = images.to_upload(data, f"{source.get('name') or 'character'}.jpg")
                except images.ImageRejected:
                    continue
                return await self.gateway.upload(filename, payload)
        for url in (source.get("reference_image_uri"), source.get("processed_image_uri")):
            if url and url.startswith("https://") and check_image_url(url) is None:
                return url
        raise StudioError("image_unavailable", f"The image of “{source.get('name')}” could not be fetched to "
                                               "copy it. Create the copy from the original photo instead.", 502)

    # Voices ----------------------------------------------------------------------------------

    def _learn_voice(self, voice: dict[str, Any] | None) -> None:
        if voice and voice.get("type") == "runway-live-preset" and voice.get("description"):
            self._voice_descriptions[voice["preset_id"]] = voice["description"]

    def preset_description(self, preset_id: str) -> str | None:
        return self._voice_descriptions.get(preset_id)

    async def list_voices(self) -> list[dict[str, Any]]:
        return await self.gateway.list_voices()

    def voice_choices(self, custom_voices: Iterable[dict[str, Any]] = ()) -> list[tuple[str, str]]:
        """(label, value) for the 30 presets (with descriptions where known) and the custom voices."""
        choices: list[tuple[str, str]] = []
        for voice in custom_voices:
            status = voice.get("status")
            if status == "FAILED":
                continue
            note = " (processing…)" if status == "PROCESSING" else ""
            description = f" · {voice['description']}" if voice.get("description") else ""
            choices.append((f"★ {voice.get('name')}{note}{description}", custom_choice(voice["id"])))
        for preset_id in VOICE_PRESETS:
            description = self.preset_description(preset_id)
            label = preset_id.capitalize() + (f" · {description}" if description else "")
            choices.append((label, preset_choice(preset_id)))
        return choices

    async def voice_preview_audio(self, voice_id: str) -> bytes | None:
        """The preview sample of a READY custom voice, when Runway offers one."""
        voice = await self.gateway.get_voice(voice_id)
        url = voice.get("preview_url")
        return await self.media.get(url, f"voice:{voice_id}") if url else None

    async def preview_voice_design(self, prompt: str, model: str) -> tuple[bytes, float]:
        """Audio of a designed voice before creating it: (bytes, seconds)."""
        errors = {k: v for k, v in {"prompt": check_voice_prompt(prompt), "model": check_voice_model(model)}.items() if v}
        if errors:
            raise FormInvalid(errors)
        answer = await self.gateway.preview_voice(prompt.strip(), model)
        data = await self.media.get(answer.get("url"))
        if not data:
            raise StudioError("preview_unavailable", "Runway made a preview but it could not be downloaded.", 502)
        return data, float(answer.get("duration_secs") or 0.0)

    async def design_voice(self, name: str, prompt: str, model: str, description: str = "") -> str:
        errors = {
            "name": check_voice_name(name), "prompt": check_voice_prompt(prompt),
            "model": check_voice_model(model), "description": check_voice_description(description),
        }
        errors = {k: v for k, v in errors.items() if v}
        if errors:
            raise FormInvalid(errors)
        source = {"type": "text", "prompt": prompt.strip(), "model": model}
        return await self.gateway.create_voice(name.strip(), source, description.strip() or None)

    async def clone_voice(self, name: str, data: bytes | None, filename: str | None, description: str = "") -> str:
        errors = {
            "name": check_voice_name(name), "audio": check_audio_sample(data, filename),
            "description": check_voice_description(description),
        }
        errors = {k: v for k, v in errors.items() if v}
        if errors:
            raise FormInvalid(errors)
        suffix = PurePath(filename or "sample.wav").suffix.lower() or ".wav"
        uri = await self.gateway.upload(f"voice-sample{suffix}", data)
        return await self.gateway.create_voice(name.strip(), {"type": "audio", "audio": uri},
                                               description.strip() or None)

    async def delete_voice(self, voice_id: str) -> None:
        await self.gateway.delete_voice(voice_id)

    # Documents -------------------------------------------------------------------------------

    async def list_documents(self) -> list[dict[str, Any]]:
        """Documents with `size` (characters, tokens); sizes are read once per document version."""
        documents = await self.gateway.list_documents()
        for document in documents:
            key = f"{document['id']}:{document.get('updated_at')}"
            if key not in self._doc_sizes:
                try:
                    full = await self.gateway.get_document(document["id"])
                except StudioError:
                    continue
                self._doc_sizes[key] = document_size(full.get("content"))
            document["size"] = self._doc_sizes[key]
        return documents

    async def get_document(self, document_id: str) -> dict[str, Any]:
        document = await self.gateway.get_document(document_id)
        document["size"] = document_size(document.get("content"))
        return document

    async def create_document(self, name: str, content: str) -> dict[str, Any]:
        errors = validate_document(name, content)
        if errors:
            raise FormInvalid(errors)
        return await self.gateway.create_document(name.strip(), content)

    async def update_document(self, document_id: str, name: str, content: str) -> None:
        errors = validate_document(name, content)
        if errors:
            raise FormInvalid(errors)
        await self.gateway.update_document(document_id, name=name.strip(), content=content)

    async def delete_document(self, document_id: str) -> None:
        await self.gateway.delete_document(document_id)

    async def attach_document(self, document_id: str, avatar_id: str) -> dict[str, Any]:
        """Add a document to a character's knowledge (PATCH replaces the whole list)."""
        if not avatar_id:
            raise FormInvalid({"character": "Character: choose the character to attach the document to."})
        avatar = await self.get_character(avatar_id)
        ids = list(avatar.get("document_ids") or [])
        if document_id in ids:
            return avatar
        if len(ids) >= DOCUMENTS_MAX:
            raise FormInvalid({"character": f"Character: “{avatar.get('name')}” already uses {DOCUMENTS_MAX} "
                                            "documents, the most Runway allows. Detach one first."})
        return await self.gateway.update_avatar(avatar_id, document_ids=ids + [document_id])

    async def detach_document(self, document_id: str, avatar_id: str) -> dict[str, Any]:
        if not avatar_id:
            raise FormInvalid({"character": "Character: choose the character to detach the document from."})
        avatar = await self.get_character(avatar_id)
        ids = list(avatar.get("document_ids") or [])
        if document_id not in ids:
            return avatar
        return await self.gateway.update_avatar(avatar_id, document_ids=[d for d in ids if d != document_id])


def is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
        return bool(_UUID.match(str(value)))
    except ValueError:
        return False
