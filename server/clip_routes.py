"""The clips' videos, served by the studio: `GET /api/clips/{id}/video` (inline, with byte
ranges so the browser's player can seek) and `?download=1` (as an MP4 attachment).

Runway's output URL is fetched server-side (`studio.clips`, through `netguard`): it may sit on
the embedded simulator's loopback port, and it expires; the browser only ever sees this route.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from server.auth import Access
from studio.core import Studio
from studio.errors import StudioError

_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def build_clip_router(studio: Studio, access: Access) -> APIRouter:
    router = APIRouter(dependencies=[Depends(access.require)])

    @router.get("/api/clips/{clip_id}/video")
    async def clip_video(clip_id: str, download: bool = False) -> FileResponse:
        path, row = await studio.clips.video_file(clip_id)
        headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type="video/mp4", headers=headers,
                            filename=download_name(row) if download else None,
                            content_disposition_type="attachment" if download else "inline")

    @router.api_route("/api/clips/{clip_id}/video", methods=["POST", "PUT", "PATCH", "DELETE"],
                      include_in_schema=False)
    async def clip_video_other(clip_id: str) -> None:
        raise StudioError("method_not_allowed", "Only GET is allowed on a clip's video.", 405)

    return router


def download_name(row: dict) -> str:
    """"mina-clara-1a2b3c4d.mp4": the character and voice, and the clip's id to keep it unique."""
    words = [_UNSAFE.sub("-", str(row.get(key) or "")).strip("-").lower()
             for key in ("avatar_name", "voice_name")]
    return "-".join([w for w in words if w][:2] + [row["clip_id"][:8]]) + ".mp4"
