"""Wire shapes: records -> camelCase JSON dicts with exactly the keys Runway sends
for each status (the SDK's response variants are ``additionalProperties: false``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..catalog import PRESET_AVATARS, VOICE_PRESETS, preset_voice_name
from .records import (
    CANCELLED,
    COMPLETED,
    FAILED,
    NOT_READY,
    READY,
    RUNNING,
    Avatar,
    Document,
    Session,
    Voice,
)
from .times import iso, whole_seconds

FILES_PATH = "/_files"  # where stored files (thumbnails, previews) are served
UPLOADS_PATH = "/_uploads"  # the presigned-POST target of uploads


def file_url(base: str, file_id: str | None) -> str | None:
    return f"{base}{FILES_PATH}/{file_id}" if file_id else None


def upload_url(base: str, upload_id: str) -> str:
    return f"{base}{UPLOADS_PATH}/{upload_id}"


# ---------------------------------------------------------------------------
# Realtime sessions


def session(s: Session, *, show_queued: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": s.id, "createdAt": iso(s.created_at), "status": s.status}
    if s.status == NOT_READY:
        if show_queued:
            out["queued"] = True
    elif s.status == READY:
        out["expiresAt"] = iso(s.expires_at)
        out["sessionKey"] = s.session_key
    elif s.status == COMPLETED:
        out["duration"] = s.duration
    elif s.status == FAILED:
        out["failure"] = s.failure
        out["failureCode"] = s.failure_code
    return out


# ---------------------------------------------------------------------------
# Avatars


def avatar_voice(voice_ref: dict[str, Any], voices: dict[str, Voice]) -> dict[str, Any]:
    if voice_ref["type"] == "runway-live-preset":
        preset = voice_ref["presetId"]
        return {
            "type": "runway-live-preset",
            "presetId": preset,
            "name": preset_voice_name(preset),
            "description": VOICE_PRESETS[preset],
        }
    voice = voices.get(voice_ref["id"])
    if voice is None or voice.deleted:
        # Runway omits name/description once the voice is gone.
        return {"type": "custom", "id": voice_ref["id"], "deleted": True}
    return {
        "type": "custom",
        "id": voice.id,
        "deleted": False,
        "name": voice.name,
        "description": voice.description,
    }


def avatar_reference_uri(a: Avatar, base: str) -> str | None:
    return a.image.url or file_url(base, a.image.thumbnail_file)


def avatar_processed_uri(a: Avatar, base: str) -> str | None:
    if not a.processed_once:
        return None
    return a.image.url or file_url(base, a.image.processed_file)


def avatar(a: Avatar, voices: dict[str, Voice], base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "name": a.name,
        "personality": a.personality,
        "startScript": a.start_script,
        "voice": avatar_voice(a.voice, voices),
        "referenceImageUri": avatar_reference_uri(a, base),
        "processedImageUri": avatar_processed_uri(a, base),
        "documentIds": list(a.document_ids),
        "createdAt": iso(a.created_at),
        "updatedAt": iso(a.updated_at),
        "status": a.status,
    }
    if a.status == FAILED:
        out["failureReason"] = a.failure_reason
    return out


# ---------------------------------------------------------------------------
# Documents


def document(d: Document, used_by: list[dict[str, Any]], *, with_content: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": d.id, "name": d.name, "type": d.type}
    if with_content:
        out["content"] = d.content
    out.update({"usedBy": used_by, "createdAt": iso(d.created_at), "updatedAt": iso(d.updated_at)})
    return out


# ---------------------------------------------------------------------------
# Voices


def voice(v: Voice, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id,
        "name": v.name,
        "description": v.description,
        "createdAt": iso(v.created_at),
        "status": v.status,
    }
    if v.status == READY:
        out["previewUrl"] = file_url(base, v.preview_file)
    elif v.status == FAILED:
        out["failureReason"] = v.failure_reason
    return out


# ---------------------------------------------------------------------------
# Avatar conversations (one per realtime session, same id)

IN_PROGRESS, ENDED, CONVERSATION_FAILED = "in_progress", "ended", "failed"
CONVERSATION_STATUS = {
    NOT_READY: IN_PROGRESS,
    READY: IN_PROGRESS,
    RUNNING: IN_PROGRESS,
    COMPLETED: ENDED,
    FAILED: CONVERSATION_FAILED,
    CANCELLED: ENDED,
}


def _conversation_duration(s: Session, now: float) -> int | None:
    if s.duration is not None:
        return s.duration
    if s.status == RUNNING and s.joined_at is not None:
        return whole_seconds(s.joined_at, now)
    return None


def conversation_item(s: Session, now: float) -> dict[str, Any]:
    if s.avatar["type"] == "runway-preset":
        avatar_out: dict[str, Any] = {
            "type": "runway-preset",
            "presetId": s.avatar["presetId"],
            "name": PRESET_AVATARS[s.avatar["presetId"]],
        }
    else:
        avatar_out = {"type": "custom", "id": s.avatar["avatarId"], "name": s.avatar_name}
    return {
        "id": s.id,
        "name": conversation_name(s),
        "status": CONVERSATION_STATUS[s.status],
        "avatar": avatar_out,
        "createdAt": iso(s.created_at),
        "duration": _conversation_duration(s, now),
        "hasTools": bool(s.tools),
    }


def conversation(s: Session, now: float, image_url: Callable[[str], str | None]) -> dict[str, Any]:
    status = CONVERSATION_STATUS[s.status]
    if s.avatar["type"] == "runway-preset":
        avatar_out: dict[str, Any] = {"type": "runway-preset", "presetId": s.avatar["presetId"]}
    else:
        avatar_out = {
            "type": "custom",
            "id": s.avatar["avatarId"],
            "name": s.avatar_name,
            "imageUrl": image_url(s.avatar["avatarId"]),
        }
    out: dict[str, Any] = {
        "id": s.id,
        "name": conversation_name(s),
        "status": status,
        "avatar": avatar_out,
        "createdAt": iso(s.created_at),
        "maxDuration": s.max_duration,
        "startedAt": iso(s.joined_at),
    }
    if status != IN_PROGRESS:
        out["endedAt"] = iso(s.ended_at)
    out["duration"] = _conversation_duration(s, now)
    out["recordingUrl"] = None
    out["tools"] = [
        {"type": t["type"], "name": t["name"], "description": t["description"]} for t in s.tools
    ]
    # Transcripts exist only for cleanly ended sessions; a cancelled one keeps none.
    out["transcript"] = [transcript_entry(e) for e in s.transcript] if s.status == COMPLETED else []
    if status == CONVERSATION_FAILED:
        out["failure"] = s.failure
        out["failureCode"] = s.failure_code
    return out


def conversation_name(s: Session) -> str:
    return f"Conversation with {s.avatar_name}"


def transcript_entry(entry: dict[str, Any]) -> dict[str, Any]:
    out = {
        "role": entry["role"],
        "content": entry.get("content"),
        "timestamp": iso(entry.get("timestamp")),
    }
    for key in ("toolCalls", "toolResults"):
        if key in entry:
            out[key] = entry[key]
    return out
