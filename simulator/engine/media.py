"""Media helpers: reference-image analysis and thumbnails (Pillow), a tiny WAV for
voice previews, and JWT-shaped credentials."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import io
import json
import math
import secrets
import struct
from dataclasses import dataclass

from PIL import Image, ImageStat, UnidentifiedImageError

from .records import IMAGE_NO_FACE, IMAGE_OK, IMAGE_UNREADABLE

THUMBNAIL_SIZE = (256, 256)
PROCESSED_SIZE = (544, 352)  # half of the 1088x704 stream, so thumbnails stay small
WAV = "audio/wav"  # content type of preview_wav()

@dataclass
class ImageAnalysis:
    outcome: str  # IMAGE_OK | IMAGE_NO_FACE | IMAGE_UNREADABLE
    thumbnail: bytes | None = None  # PNG preview of the reference image
    processed: bytes | None = None  # JPEG "processed" frame (cropped to the stream's aspect)


def analyse_image(data: bytes) -> ImageAnalysis:
    """Decode ``data``; a single flat colour stands for "an image without a face"."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return ImageAnalysis(IMAGE_UNREADABLE)
    thumbnail = _png(_fit(image, THUMBNAIL_SIZE))
    extrema = ImageStat.Stat(image).extrema
    if all(low == high for low, high in extrema):
        return ImageAnalysis(IMAGE_NO_FACE, thumbnail=thumbnail)
    return ImageAnalysis(IMAGE_OK, thumbnail=thumbnail, processed=_processed(image))


def decode_data_uri(uri: str) -> bytes | None:
    """Bytes of a ``data:<type>;base64,<payload>`` URI, or None if it is not valid base64."""
    _, _, payload = uri.partition(";base64,")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    copy = image.copy()
    copy.thumbnail(size)
    return copy


def _processed(image: Image.Image) -> bytes:
    """Centre-crop to the 1088:704 stream aspect and downscale, like a processed avatar."""
    target_w, target_h = PROCESSED_SIZE
    width, height = image.size
    scale = max(target_w / width, target_h / height)
    resized = image.resize(
        (max(target_w, round(width * scale)), max(target_h, round(height * scale)))
    )
    left = (resized.width - target_w) // 2
    top = (resized.height - target_h) // 2
    out = io.BytesIO()
    resized.crop((left, top, left + target_w, top + target_h)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


_SINE = bytes(int(128 + 60 * math.sin(2 * math.pi * i / 256)) for i in range(256))


@functools.lru_cache(maxsize=64)
def preview_wav(seed: str, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short 8-bit mono tone whose pitch depends on ``seed`` (so voices differ).

    Built from a 256-entry sine table: cheap enough to make on request."""
    pitch = 220 + int(hashlib.sha256(seed.encode()).hexdigest()[:4], 16) % 440
    frames = int(seconds * rate)
    step = pitch * 256 / rate
    samples = bytes(_SINE[int(i * step) & 255] for i in range(frames))
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    return header + fmt + b"data" + struct.pack("<I", len(samples)) + samples


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_like(claims: dict[str, object]) -> str:
    """A JWT-shaped string (header.payload.signature); the signature key is random,
    so every token is unique even for identical claims."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secrets.token_bytes(32), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64url(signature.digest())}"
