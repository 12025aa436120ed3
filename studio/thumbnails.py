"""Character images fetched server-side and kept in a small in-memory cache.

Avatar image URLs point at Runway's storage, or at the embedded simulator's loopback port that a
browser on another machine cannot reach; the studio fetches them and serves them itself.
"""

from __future__ import annotations

import asyncio
import html
from collections import OrderedDict

import httpx

from studio.errors import StudioError

_MAX_ITEMS = 256
_MAX_BYTES = 16 * 1024 * 1024


class ImageCache:
    def __init__(self, max_items: int = _MAX_ITEMS) -> None:
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._max = max_items
        self._lock = asyncio.Lock()

    async def fetch(self, url: str) -> tuple[bytes, str]:
        """The image bytes and content type at `url`, from cache when seen before."""
        if url in self._items:
            self._items.move_to_end(url)
            return self._items[url]
        async with self._lock:
            if url not in self._items:
                self._items[url] = await _download(url)
                if len(self._items) > self._max:
                    self._items.popitem(last=False)
        return self._items[url]


async def _download(url: str) -> tuple[bytes, str]:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise StudioError("bad_image_url", "That image address cannot be fetched.", 400)
    try:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
            answer = await client.get(url)
    except httpx.HTTPError as error:
        raise StudioError("image_unavailable", f"Could not fetch the character's image ({error}).", 502) from error
    kind = answer.headers.get("content-type", "")
    if answer.status_code != 200 or not kind.startswith("image/") or len(answer.content) > _MAX_BYTES:
        raise StudioError("image_unavailable", "The character's image is not available.", 502)
    return answer.content, kind.split(";")[0]


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
