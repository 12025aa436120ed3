"""Media of Runway's presets: a spoken sample of each live voice and a portrait of each preset
avatar, where the upstream offers them.

Runway's API offers neither (its preset voices have no audio sample, its preset avatars no
image): live, `available` is False and the UI says so. The simulator serves both (under
`Upstream.preset_media`); the studio fetches them server-side through the shared `MediaCache`
(the upstream's origin is trusted) and hands the UI bytes or `data:` URIs, so a browser never
talks to the simulator.
"""

from __future__ import annotations

import asyncio

from studio.catalog.media import MediaCache
from studio.vocabulary import PRESET_AVATARS, VOICE_PRESETS

PRESET_SAMPLE_MISSING = ("Runway offers no sample of its preset voices: hear this one in a test call "
                         "(its character speaks with it).")


class PresetMedia:
    """Voice samples and portraits of the presets, when `base_url` (the simulator's) is set."""

    def __init__(self, media: MediaCache | None, base_url: str | None) -> None:
        self.media = media
        self.base_url = base_url.rstrip("/") if base_url and media is not None else None

    @property
    def available(self) -> bool:
        return self.base_url is not None

    async def voice_sample(self, preset_id: str) -> bytes | None:
        """WAV bytes of the preset voice saying a line, or None (live, unknown id, unreachable)."""
        if self.base_url is None or self.media is None or preset_id not in VOICE_PRESETS:
            return None
        url = f"{self.base_url}/voices/{preset_id}/sample.wav"
        return await self.media.get(url, f"preset-voice:{preset_id}")

    async def portrait(self, preset_id: str) -> bytes | None:
        """PNG bytes of the preset avatar's portrait, or None."""
        if self.base_url is None or self.media is None or preset_id not in PRESET_AVATARS:
            return None
        return await self.media.get(self._portrait_url(preset_id), f"preset-portrait:{preset_id}")

    async def portrait_thumbnail(self, preset_id: str) -> str | None:
        """A small JPEG `data:` URI of the portrait (for a card), or None."""
        if self.base_url is None or self.media is None or preset_id not in PRESET_AVATARS:
            return None
        return await self.media.thumbnail(self._portrait_url(preset_id), f"preset-portrait:{preset_id}")

    async def portrait_thumbnails(self) -> dict[str, str | None]:
        """Every preset's card thumbnail, by id (empty live)."""
        if not self.available:
            return {}
        thumbs = await asyncio.gather(*(self.portrait_thumbnail(preset_id) for preset_id in PRESET_AVATARS))
        return dict(zip(PRESET_AVATARS, thumbs))

    def _portrait_url(self, preset_id: str) -> str:
        return f"{self.base_url}/avatars/{preset_id}/portrait.png"
