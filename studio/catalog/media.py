"""Media behind Runway URLs (character images, voice previews), fetched server-side and cached.

Avatar image URLs point at Runway's storage, or at the embedded simulator's loopback port that a
browser on another machine cannot reach; the studio fetches them and serves them itself.
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections import OrderedDict
from collections.abc import Iterable

from PIL import Image

from studio.errors import StudioError
from studio.netguard import fetch_public, origin_of

log = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 352
_MEDIA_TIMEOUT = 5.0  # seconds for a whole fetch: lookup, connect, TLS and body
_MEDIA_MAX_BYTES = 16_000_000


class MediaCache:
    """Bytes behind Runway media URLs (avatar images, voice previews), in memory, by key.

    Image URLs point at Runway's storage or at the embedded simulator's loopback port, which a
    browser on another machine cannot reach; the studio fetches them and hands the UI the bytes.
    A URL may also be one a person typed, so fetches go through `netguard`: public https addresses
    only, except the `trusted_origins` (the studio's own upstream, named by whoever builds the
    cache: `Studio` does) or with `allow_private`.
    Failures are cached briefly as None so a dead link is not fetched on every refresh.
    """

    def __init__(self, max_items: int = 512, timeout: float = _MEDIA_TIMEOUT, *,
                 trusted_origins: Iterable[str] = (), allow_private: bool = False) -> None:
        self._items: OrderedDict[str, bytes | None] = OrderedDict()
        self._max = max_items
        self._timeout = timeout
        self._trusted = {origin_of(origin) for origin in trusted_origins}
        self.allow_private = allow_private

    async def get(self, url: str | None, key: str | None = None) -> bytes | None:
        if not url:
            return None
        key = key or url
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        data = await self._download(url)
        self._items[key] = data
        while len(self._items) > self._max:
            self._items.popitem(last=False)
        return data

    async def thumbnail(self, url: str | None, key: str | None = None, width: int = THUMBNAIL_WIDTH) -> str | None:
        """A small JPEG `data:` URI of the image at `url` (cached), or None when unavailable."""
        thumb_key = f"thumb:{width}:{key or url}"
        if thumb_key in self._items:
            self._items.move_to_end(thumb_key)
            cached = self._items[thumb_key]
            return cached.decode() if cached else None
        data = await self.get(url, key)
        uri = _thumbnail_uri(data, width) if data else None
        self._items[thumb_key] = uri.encode() if uri else None
        return uri

    async def _download(self, url: str) -> bytes | None:
        try:
            return await fetch_public(url, max_bytes=_MEDIA_MAX_BYTES, timeout=self._timeout,
                                      allow_private=self.allow_private,
                                      trusted_origins=self._trusted)
        except StudioError as error:
            log.info("Media not fetched (%s): %s", error.code, error.message)
            return None


def _thumbnail_uri(data: bytes, width: int) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            picture = opened.convert("RGB")
    except Exception:  # noqa: BLE001 - a broken preview just shows no picture
        return None
    if picture.width > width:
        picture = picture.resize((width, max(1, round(picture.height * width / picture.width))),
                                 Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def placeholder_svg(name: str) -> bytes:
    """A neutral portrait card with the character's initials (presets have no public image)."""
    initials = "".join(word[0] for word in name.split()[:2]).upper() or "?"
    return (
        "<svg xmlns='http://www.w3.org/2000/svg' width='1088' height='704' viewBox='0 0 1088 704'>"
        "<defs><linearGradient id='g' x1='0' y1='0' x2='1' y2='1'>"
        "<stop offset='0' stop-color='#4f46e5'/><stop offset='1' stop-color='#db2777'/></linearGradient></defs>"
        "<rect width='1088' height='704' fill='url(#g)'/>"
        "<circle cx='544' cy='300' r='150' fill='rgba(255,255,255,0.18)'/>"
        f"<text x='544' y='345' font-family='sans-serif' font-size='130' font-weight='700' fill='white' "
        f"text-anchor='middle'>{html.escape(initials)}</text>"
        f"<text x='544' y='560' font-family='sans-serif' font-size='48' fill='white' text-anchor='middle'>"
        f"{html.escape(name)}</text></svg>"
    ).encode()


def image_type(data: bytes) -> str | None:
    """The MIME type of image bytes, from their signature."""
    for signature, kind in ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif")):
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
