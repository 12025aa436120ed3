"""The character's face: a small set of precomputed YUV frames (idle phases x loudness
levels) drawn once from the reference image (or a generated portrait), so that serving a
frame costs a lookup and a copy, and the encoder does the rest."""

from __future__ import annotations

import hashlib
import io
import math
import threading

import av
import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

LEVELS = 5  # 0 = silent ... 4 = loud
PHASES = 4  # idle "breathing" phases
MAX_SOURCE_PIXELS = 40_000_000


def _cover(image: Image.Image, width: int, height: int, zoom: float = 1.0) -> Image.Image:
    scale = max(width / image.width, height / image.height) * zoom
    resized = image.resize(
        (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    )
    left = (resized.width - width) // 2
    top = (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))


def _palette(name: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(name.encode()).digest()
    hue = digest[0] / 255

    def colour(h: float, s: float, v: float) -> tuple[int, int, int]:
        i = int(h * 6) % 6
        f = h * 6 - int(h * 6)
        p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
        r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
        return int(r * 255), int(g * 255), int(b * 255)

    return colour(hue, 0.45, 0.55), colour((hue + 0.5) % 1, 0.35, 0.85)


def portrait(name: str, width: int, height: int, mouth: float) -> Image.Image:
    """A generated, friendly portrait; ``mouth`` (0..1) opens the mouth."""
    back, skin_tint = _palette(name)
    image = Image.new("RGB", (width, height), back)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 8):  # vertical gradient
        shade = int(40 * y / height)
        draw.rectangle((0, y, width, y + 8), fill=tuple(max(0, c - shade) for c in back))
    cx, cy, r = width // 2, int(height * 0.48), int(height * 0.3)
    skin = tuple(int(0.6 * a + 0.4 * b) for a, b in zip((236, 200, 170), skin_tint))
    draw.ellipse((cx - r * 1.35, cy + r * 0.9, cx + r * 1.35, cy + r * 2.6), fill=skin_tint)
    draw.ellipse((cx - r, cy - r * 1.15, cx + r, cy + r), fill=skin)
    draw.chord(
        (cx - r * 1.05, cy - r * 1.3, cx + r * 1.05, cy + r * 0.2), 180, 360, fill=(60, 40, 30)
    )
    for side in (-1, 1):
        ex = cx + side * r * 0.38
        draw.ellipse(
            (ex - r * 0.09, cy - r * 0.12, ex + r * 0.09, cy + r * 0.06), fill=(40, 30, 30)
        )
    open_h = r * (0.04 + 0.22 * mouth)
    draw.ellipse(
        (cx - r * 0.28, cy + r * 0.45 - open_h / 2, cx + r * 0.28, cy + r * 0.45 + open_h / 2),
        fill=(120, 40, 50),
    )
    return image


def _glow_mask(width: int, height: int) -> np.ndarray:
    """1 at the frame's edges fading to 0 inwards, plus a soft spot low in the centre."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    edge = np.minimum.reduce([x, y, width - 1 - x, height - 1 - y])
    border = np.clip(1 - edge / (0.06 * min(width, height)), 0, 1) ** 2
    spot = np.exp(
        -(((x - width / 2) / (0.16 * width)) ** 2 + ((y - height * 0.9) / (0.06 * height)) ** 2)
    )
    return np.maximum(border, spot)[..., None]


def _to_yuv(image: np.ndarray) -> np.ndarray:
    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    return frame.reformat(format="yuv420p").to_ndarray()


def _decode(data: bytes | None) -> Image.Image | None:
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_SOURCE_PIXELS:
                return None
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


class FaceFrames:
    """frames[phase][level] as yuv420p ndarrays of shape (h * 3 / 2, w)."""

    def __init__(self, image: bytes | None, name: str, width: int, height: int) -> None:
        self.width, self.height = width - width % 2, height - height % 2
        source = _decode(image)
        mask = _glow_mask(self.width, self.height)
        colour = np.array([120, 200, 255], dtype=np.float32)
        self.frames: list[list[np.ndarray]] = []
        for phase in range(PHASES):
            zoom = 1.0 + 0.012 * (1 - math.cos(2 * math.pi * phase / PHASES)) / 2
            row = []
            for level in range(LEVELS):
                if source is None:
                    base = _cover(
                        portrait(name, self.width, self.height, level / (LEVELS - 1)),
                        self.width,
                        self.height,
                        zoom,
                    )
                else:
                    base = _cover(source, self.width, self.height, zoom)
                pixels = np.asarray(base, dtype=np.float32)
                strength = 0.75 * level / (LEVELS - 1)
                lit = pixels * (1 - mask * strength) + colour * mask * strength
                row.append(_to_yuv(np.clip(lit, 0, 255).astype(np.uint8)))
            self.frames.append(row)

    def frame(self, phase: int, level: int) -> np.ndarray:
        return self.frames[phase % PHASES][max(0, min(LEVELS - 1, level))]


_CACHE: dict[tuple[str, str, int, int], FaceFrames] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def face_frames(image: bytes | None, name: str, width: int, height: int) -> FaceFrames:
    """Shared by rooms that show the same face at the same size (small LRU)."""
    key = (hashlib.sha256(image or b"").hexdigest(), name if image is None else "", width, height)
    with _CACHE_LOCK:
        found = _CACHE.pop(key, None)
        if found is not None:
            _CACHE[key] = found
            return found
    frames = FaceFrames(image, name, width, height)
    with _CACHE_LOCK:
        _CACHE[key] = frames
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return frames
