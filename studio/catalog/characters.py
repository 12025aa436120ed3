"""Characters (Runway's custom avatars): create, edit, duplicate and delete them, and say in plain
words what went wrong when one FAILED.

A form is checked whole (`forms.validate_character`) before anything is sent. Reference images
go through `images` (pre-flight, orientation, colour, optional crop to the 1088×704
stream) and up through an ephemeral upload (`runway://`); an image URL whose name resolves inside
our network is refused first (`studio.netguard`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from studio.catalog import images
from studio.catalog.forms import (
    CharacterForm,
    FormInvalid,
    check_image_url,
    clean_ids,
    refuse_unless_valid,
    validate_character,
    voice_choice_of,
    voice_param,
)
from studio.catalog.media import MediaCache
from studio.catalog.voices import PresetVoices, voice_label
from studio.errors import StudioError
from studio.netguard import resolve_public
from studio.runway import RunwayGateway
from studio.vocabulary import NAME_MAX, PROCESSING

STILL_PROCESSING = ("This character is still processing its image; wait until it is READY, "
                    "then save again.")
PRIVATE_IMAGE_URL = ("Image URL points to a private or local address; the studio only fetches "
                     "public addresses.")
IMAGE_HOST_LOOKUP_SECONDS = 3.0

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


# -- Characters as shown -------------------------------------------------------------------------

def copy_name(name: str) -> str:
    """The name of a duplicate: "Ava (copy)", kept within the 50-character limit."""
    suffix = " (copy)"
    return (name.strip()[: NAME_MAX - len(suffix)].rstrip() + suffix).strip()


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
    return any(a.get("status") == PROCESSING for a in avatars)


def avatar_fingerprint(avatars: Iterable[dict[str, Any]]) -> tuple:
    """Changes whenever something shown about any avatar changes (to skip needless redraws)."""
    return tuple(
        (a.get("id"), a.get("status"), a.get("name"), str(a.get("updated_at")), a.get("failure_reason"),
         len(a.get("document_ids") or []), voice_label(a.get("voice")))
        for a in avatars
    )


def avatar_image_url(avatar: dict[str, Any]) -> str | None:
    return avatar.get("processed_image_uri") or avatar.get("reference_image_uri")


def avatar_media_key(avatar: dict[str, Any]) -> str:
    url = avatar_image_url(avatar) or ""
    return f"avatar:{avatar.get('id')}:{avatar.get('updated_at')}:{avatar.get('status')}:{url.split('?')[0]}"


# -- The service: checked input in, gateway calls out --------------------------------------------

@dataclass
class PreparedImage:
    """A reference image ready to send: a `runway://` URI or an https URL."""

    uri: str
    uploaded: bool


@dataclass
class CharacterService:
    """Characters over the gateway. Preset voice descriptions seen in answers go to `presets`."""

    gateway: RunwayGateway
    media: MediaCache = field(default_factory=MediaCache)
    presets: PresetVoices = field(default_factory=PresetVoices)

    async def list_characters(self) -> list[dict[str, Any]]:
        avatars = await self.gateway.list_avatars()
        for avatar in avatars:
            self.presets.learn(avatar.get("voice"))
        return avatars

    async def get_character(self, avatar_id: str) -> dict[str, Any]:
        avatar = await self.gateway.get_avatar(avatar_id)
        self.presets.learn(avatar.get("voice"))
        return avatar

    async def thumbnails(self, avatars: Iterable[dict[str, Any]]) -> dict[str, str | None]:
        """A small JPEG `data:` URI of each avatar's image, by id (None where unavailable)."""
        async def one(avatar: dict[str, Any]) -> tuple[str, str | None]:
            return avatar["id"], await self.media.thumbnail(avatar_image_url(avatar), avatar_media_key(avatar))

        return dict(await asyncio.gather(*(one(avatar) for avatar in avatars)))

    async def create_character(self, form: CharacterForm) -> dict[str, Any]:
        """Check everything, upload the image if it is a file, then create. Nothing is sent on bad input."""
        refuse_unless_valid(validate_character(form, creating=True))
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
            fields["document_ids"] = clean_ids(form.document_ids)
        avatar = await self.gateway.create_avatar(**fields)
        self.presets.learn(avatar.get("voice"))
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
        wanted = clean_ids(form.document_ids)
        if wanted != list(current.get("document_ids") or []):
            patch["document_ids"] = wanted  # replaces the whole list
        return patch

    async def update_character(self, avatar_id: str, form: CharacterForm,
                               current: dict[str, Any] | None = None) -> dict[str, Any]:
        """PATCH only what changed. A new image is optional; a 409 while processing is explained."""
        refuse_unless_valid(validate_character(form, creating=False))
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
        self.presets.learn(avatar.get("voice"))
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
                filename, data = images.to_upload(form.image_data, form.image_filename, crop=form.crop,
                                                  focus=form.crop_focus)
            except images.ImageRejected as rejected:
                raise FormInvalid({"image": "Reference image: " + " ".join(rejected.problems)}) from rejected
            return PreparedImage(await self.gateway.upload(filename, data), uploaded=True)
        return PreparedImage(form.image_url.strip(), uploaded=False)

    async def _copy_image(self, source: dict[str, Any]) -> str:
        """Re-upload the original's stored image (its URLs may be unreachable to Runway or expire)."""
        urls = (source.get("reference_image_uri"), source.get("processed_image_uri"))
        for url in urls:
            data = await self.media.get(url)
            if data and len(data) >= images.MIN_UPLOAD_BYTES:
                try:
                    filename, payload = images.to_upload(data, f"{source.get('name') or 'character'}.jpg")
                except images.ImageRejected:
                    continue
                return await self.gateway.upload(filename, payload)
        for url in urls:
            if url and url.startswith("https://") and check_image_url(url) is None:
                return url
        raise StudioError("image_unavailable", f"The image of “{source.get('name')}” could not be fetched to "
                                               "copy it. Create the copy from the original photo instead.", 502)
