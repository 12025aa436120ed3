"""Voices: the 30 live presets and the account's custom voices (designed from a prompt or cloned
from an audio sample), as choices for the character form.

What a preset sounds like is learnt as the studio goes: Runway documents three descriptions, and
every avatar answer that carries a preset voice teaches its description (`PresetVoices`, shared
with `CharacterService`, which sees those answers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from studio.catalog.forms import (
    check_audio_sample,
    check_voice_description,
    check_voice_model,
    check_voice_name,
    check_voice_prompt,
    custom_choice,
    preset_choice,
    refuse_unless_valid,
)
from studio.catalog.media import MediaCache
from studio.errors import StudioError
from studio.runway import RunwayGateway
from studio.vocabulary import PROCESSING, VOICE_PRESETS

# Descriptions Runway documents for three presets; the others are learnt from API answers.
DOCUMENTED_VOICE_DESCRIPTIONS = {
    "clara": "soft, approachable",
    "victoria": "firm, professional",
    "vincent": "knowledgeable, authoritative",
}


class PresetVoices:
    """What each preset voice sounds like, as far as the studio knows."""

    def __init__(self) -> None:
        self._descriptions = dict(DOCUMENTED_VOICE_DESCRIPTIONS)

    def learn(self, voice: dict[str, Any] | None) -> None:
        """Remember the description an avatar answer gives for its preset voice."""
        if voice and voice.get("type") == "runway-live-preset" and voice.get("description"):
            self._descriptions[voice["preset_id"]] = voice["description"]

    def description(self, preset_id: str) -> str | None:
        return self._descriptions.get(preset_id)


def voice_label(voice: dict[str, Any] | None) -> str:
    """Short display name of an avatar's voice."""
    voice = voice or {}
    if voice.get("type") == "runway-live-preset":
        return voice.get("name") or str(voice.get("preset_id", "")).capitalize()
    if voice.get("deleted"):
        return "deleted custom voice"
    return f"{voice.get('name') or 'custom voice'} (custom)"


@dataclass
class VoiceService:
    """Custom voices over the gateway, and the voice choices of the character form."""

    gateway: RunwayGateway
    media: MediaCache = field(default_factory=MediaCache)
    presets: PresetVoices = field(default_factory=PresetVoices)

    def preset_description(self, preset_id: str) -> str | None:
        return self.presets.description(preset_id)

    def voice_choices(self, custom_voices: Iterable[dict[str, Any]] = ()) -> list[tuple[str, str]]:
        """(label, value) for the 30 presets (with descriptions where known) and the custom voices."""
        choices: list[tuple[str, str]] = []
        for voice in custom_voices:
            status = voice.get("status")
            if status == "FAILED":
                continue
            note = " (processing…)" if status == PROCESSING else ""
            description = f" · {voice['description']}" if voice.get("description") else ""
            choices.append((f"★ {voice.get('name')}{note}{description}", custom_choice(voice["id"])))
        for preset_id in VOICE_PRESETS:
            description = self.preset_description(preset_id)
            label = preset_id.capitalize() + (f" · {description}" if description else "")
            choices.append((label, preset_choice(preset_id)))
        return choices

    async def list_voices(self) -> list[dict[str, Any]]:
        return await self.gateway.list_voices()

    async def voice_preview_audio(self, voice_id: str) -> bytes | None:
        """The preview sample of a READY custom voice, when Runway offers one."""
        voice = await self.gateway.get_voice(voice_id)
        url = voice.get("preview_url")
        return await self.media.get(url, f"voice:{voice_id}") if url else None

    async def preview_voice_design(self, prompt: str, model: str) -> tuple[bytes, float]:
        """Audio of a designed voice before creating it: (bytes, seconds)."""
        refuse_unless_valid({"prompt": check_voice_prompt(prompt), "model": check_voice_model(model)})
        answer = await self.gateway.preview_voice(prompt.strip(), model)
        data = await self.media.get(answer.get("url"))
        if not data:
            raise StudioError("preview_unavailable", "Runway made a preview but it could not be downloaded.", 502)
        return data, float(answer.get("duration_secs") or 0.0)

    async def design_voice(self, name: str, prompt: str, model: str, description: str = "") -> str:
        """A new voice from a text prompt; its id (it processes for a few seconds)."""
        refuse_unless_valid({
            "name": check_voice_name(name), "prompt": check_voice_prompt(prompt),
            "model": check_voice_model(model), "description": check_voice_description(description),
        })
        source = {"type": "text", "prompt": prompt.strip(), "model": model}
        return await self.gateway.create_voice(name.strip(), source, description.strip() or None)

    async def clone_voice(self, name: str, data: bytes | None, filename: str | None, description: str = "") -> str:
        """A new voice from an audio sample (uploaded first); its id."""
        refuse_unless_valid({
            "name": check_voice_name(name), "audio": check_audio_sample(data, filename),
            "description": check_voice_description(description),
        })
        suffix = PurePath(filename or "sample.wav").suffix.lower() or ".wav"
        uri = await self.gateway.upload(f"voice-sample{suffix}", data)
        return await self.gateway.create_voice(name.strip(), {"type": "audio", "audio": uri},
                                               description.strip() or None)

    async def delete_voice(self, voice_id: str) -> None:
        await self.gateway.delete_voice(voice_id)
