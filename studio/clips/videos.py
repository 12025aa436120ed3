"""A clip's output video: when its URL expires, its length, and the studio's copy of it.

Runway's output URLs point at its storage (offline: the embedded simulator's loopback port, which a
browser on another machine cannot reach), so the studio fetches the MP4 itself, through `netguard`
(public https only, except the studio's own upstream), keeps a copy under the data directory and
serves it from there. The copy is kept only while the output URL is valid: past that the clip
says it has expired, as Runway's output would (download a clip to keep it).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import av

from studio.clips.words import OUTPUT_LIFETIME
from studio.errors import StudioError

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[bytes]]


def output_expiry(url: str, seen_at: float) -> float:
    """When an output URL stops working: what it says itself (a signed URL's expiry), else
    `seen_at` plus the shortest lifetime Runway documents (24 hours)."""
    query = {key.lower(): values[-1] for key, values in parse_qs(urlsplit(url).query).items()}
    for key in ("expires", "exp", "expires_at", "expiresat"):
        stamp = _epoch(query.get(key))
        if stamp is not None:
            return stamp
    signed_at = _amz_date(query.get("x-amz-date") or query.get("x-goog-date"))
    lifetime = query.get("x-amz-expires") or query.get("x-goog-expires")
    if signed_at is not None and lifetime and lifetime.isdigit():
        return signed_at + int(lifetime)
    return seen_at + OUTPUT_LIFETIME


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _amz_date(value: str | None) -> float | None:
    """A signed URL's signing time ("20260101T120000Z", UTC)."""
    try:
        return datetime.strptime(value or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def video_seconds(data: bytes) -> float | None:
    """The length of an MP4 (its longest stream), or None when it does not open as a video."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                return None
            if container.duration:
                return container.duration / av.time_base
            lengths = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
            return max(lengths) if lengths else None
    except (av.FFmpegError, ValueError, OSError):
        return None


class VideoCopies:
    """The studio's copies of clip outputs, one MP4 per clip under `directory`."""

    def __init__(self, directory: Path, fetch: Fetch) -> None:
        self.directory = directory
        self._fetch = fetch
        self._locks: dict[str, asyncio.Lock] = {}

    def path(self, clip_id: str) -> Path:
        return self.directory / f"{clip_id}.mp4"

    async def ensure(self, clip_id: str, url: str) -> Path:
        """The clip's copy, fetched from `url` first when the studio has none (once at a time)."""
        target = self.path(clip_id)
        if target.is_file():
            return target
        lock = self._locks.setdefault(clip_id, asyncio.Lock())
        try:
            async with lock:
                if not target.is_file():
                    data = await self._fetch(url)
                    if video_seconds(data) is None:
                        raise StudioError("clip_output_invalid", "Runway's output is not a video the studio "
                                          "can play.", 502)
                    self._write(target, data)
        finally:
            if not lock.locked():
                self._locks.pop(clip_id, None)
        return target

    def _write(self, target: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)  # readers see the whole file or none

    def forget(self, clip_id: str) -> None:
        """Drop the copy (its output expired)."""
        self.path(clip_id).unlink(missing_ok=True)

