"""What the simulator offers beside the API for presets: a spoken sample of each live voice
preset and a portrait of each preset avatar, under /_simulator/presets/ (never under /v1/).

Runway's API has neither (its preset voices carry no audio sample, its preset avatars no
image), so an app built on the simulator can still let people hear a voice before picking it
and see a preset's face. The sample is said by the same synthesiser, with the same pitch and
rate, as the simulated character who speaks in that voice in a call; the portrait is the face
drawn for that preset in a call. Both are made once per id and kept.
"""

from __future__ import annotations

import asyncio
import io
import threading
import wave

from PIL import Image
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..catalog import PRESET_AVATARS, VOICE_PRESETS
from ..errors import ApiError
from ..room.face import portrait
from ..room.voice import RATE, Speaker

PRESETS_PREFIX = "/_simulator/presets"
PORTRAIT_SIZE = (1088, 704)  # the stream's shape
SAMPLE_TEXT = "Hi, I'm {name}. This is how I sound when we talk. Pick me, and say hello!"

_samples: dict[str, bytes] = {}
_portraits: dict[str, bytes] = {}
_lock = threading.Lock()  # one synthesis or drawing at a time (eSpeak keeps global state)


def voice_sample(preset_id: str) -> bytes:
    """A short WAV (48 kHz mono 16-bit) of the preset voice saying a line (cached)."""
    with _lock:
        if preset_id not in _samples:
            samples = Speaker(preset_id).synthesise(SAMPLE_TEXT.format(name=preset_id.capitalize()))
            out = io.BytesIO()
            with wave.open(out, "wb") as writer:
                writer.setnchannels(1)
                writer.setsampwidth(2)
                writer.setframerate(RATE)
                writer.writeframes(samples.astype("<i2").tobytes())
            _samples[preset_id] = out.getvalue()
        return _samples[preset_id]


def preset_portrait(preset_id: str) -> bytes:
    """A PNG of the face the simulated preset character shows in a call, at rest (cached)."""
    with _lock:
        if preset_id not in _portraits:
            image: Image.Image = portrait(PRESET_AVATARS[preset_id], *PORTRAIT_SIZE, mouth=0.0)
            out = io.BytesIO()
            image.save(out, "PNG")
            _portraits[preset_id] = out.getvalue()
        return _portraits[preset_id]


async def sample_route(request: Request) -> Response:
    preset_id = request.path_params["id"]
    if preset_id not in VOICE_PRESETS:
        raise ApiError(404, f"No live voice preset called {preset_id!r}")
    data = await asyncio.to_thread(voice_sample, preset_id)
    style = Speaker(preset_id).style
    headers = {  # what the sample was said with, for anyone checking one voice from another
        "Cache-Control": "max-age=86400",
        "X-Voice-Variant": style.variant,
        "X-Voice-Pitch": str(style.pitch),
        "X-Voice-Rate": str(style.rate),
    }
    return Response(data, media_type="audio/wav", headers=headers)


async def portrait_route(request: Request) -> Response:
    preset_id = request.path_params["id"]
    if preset_id not in PRESET_AVATARS:
        raise ApiError(404, f"No preset avatar called {preset_id!r}")
    data = await asyncio.to_thread(preset_portrait, preset_id)
    return Response(data, media_type="image/png", headers={"Cache-Control": "max-age=86400"})


PRESET_ROUTES = [
    Route(f"{PRESETS_PREFIX}/voices/{{id}}/sample.wav", sample_route, methods=["GET"]),
    Route(f"{PRESETS_PREFIX}/avatars/{{id}}/portrait.png", portrait_route, methods=["GET"]),
]
