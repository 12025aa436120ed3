"""Helpers for the Characters / Knowledge tests: test images, audio, and a studio on the simulator."""

from __future__ import annotations

import contextlib
import io
import math
import struct
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from app import build_app
from studio.catalog.characters import CharacterService
from studio.catalog.documents import DocumentService
from studio.catalog.media import MediaCache
from studio.catalog.voices import VoiceService
from studio.clock import FakeClock
from tests.support import studio_settings


def face_jpeg(size: tuple[int, int] = (1400, 1000), tone: tuple[int, int, int] = (230, 190, 160)) -> bytes:
    """A non-flat picture: a vertical gradient with a face-like circle in the middle."""
    width, height = size
    picture = Image.new("RGB", size)
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(30 + y * 90 // height, 50 + y * 60 // height, 110))
    cx, cy, r = width // 2, height // 2, min(size) // 4
    draw.ellipse([cx - r, cy - int(r * 1.25), cx + r, cy + int(r * 1.2)], fill=tone)
    draw.ellipse([cx - r // 2, cy - r // 3, cx - r // 4, cy - r // 8], fill=(25, 25, 25))
    draw.ellipse([cx + r // 4, cy - r // 3, cx + r // 2, cy - r // 8], fill=(25, 25, 25))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def flat_png(size: tuple[int, int] = (1088, 704)) -> bytes:
    """A single flat colour: the simulator's stand-in for "no face"."""
    out = io.BytesIO()
    Image.new("RGB", size, (128, 128, 128)).save(out, "PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (400, 300), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def wav(seconds: float, rate: int = 8000) -> bytes:
    frames = int(seconds * rate)
    samples = bytes(int(128 + 50 * math.sin(2 * math.pi * 220 * i / rate)) for i in range(frames))
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + fmt + b"data" + struct.pack("<I", len(samples)) + samples


class SimStudio:
    """A built studio on the embedded simulator, driven by a FakeClock; run coroutines with `run`."""

    def __init__(self, client: TestClient, clock: FakeClock) -> None:
        self.client, self.clock = client, clock
        self.studio = client.app.state.studio
        self.sim = httpx.Client(base_url=self.studio.upstream.base_url, timeout=10)
        self.fresh_services()

    def fresh_services(self) -> None:
        """New catalog services over the studio's gateway (nothing learnt or cached yet); their
        media cache trusts the simulator's origin, as the studio's own does."""
        gateway = self.studio.gateway
        media = MediaCache(trusted_origins=(self.studio.upstream.base_url,))
        self.voices = VoiceService(gateway, media)
        self.characters = CharacterService(gateway, media, self.voices.presets)
        self.documents = DocumentService(gateway)

    def run(self, fn: Any, *args: Any) -> Any:
        """Run an async function on the app's event loop (where the gateway's client lives)."""
        return self.client.portal.call(fn, *args)

    def state(self) -> dict[str, Any]:
        return self.sim.get("/_simulator/state").json()

    def writes(self) -> int:
        """Requests that would change something upstream (POST / PATCH / DELETE), uploads included."""
        return sum(n for key, n in self.state()["requests"].items() if not key.startswith(("GET", "HEAD")))

    def requests(self) -> int:
        return sum(self.state()["requests"].values())

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


@contextlib.contextmanager
def studio_on_simulator(tmp_path, **env: str) -> Iterator[SimStudio]:
    clock = FakeClock()
    app = build_app(studio_settings(tmp_path / "data", **env), clock=clock)
    with TestClient(app) as client:
        yield SimStudio(client, clock)
