"""Avatars, avatar usage and avatar conversations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..catalog import NO_FACE_TEXT, UNREADABLE_IMAGE_TEXT
from ..errors import ApiError, conflict, not_found
from ..validation import invalid_field
from . import render
from .core import SimulatorCore, new_id
from .paging import newest_first, paginate
from .records import IMAGE_NO_FACE, IMAGE_UNREADABLE, PROCESSING, Avatar, ImageRef, Session
from .times import MAX_USAGE_RANGE, day_range, utc_day


class AvatarOps(SimulatorCore):
    def _check_voice_ref(self, voice_ref: dict[str, Any]) -> None:
        if voice_ref["type"] == "custom":
            voice = self.voices.get(voice_ref["id"])
            if voice is None or voice.deleted:
                raise ApiError(
                    self._config.unknown_reference_status, f"Voice {voice_ref['id']} not found"
                )

    def _check_documents(self, document_ids: list[str]) -> list[str]:
        unique = list(dict.fromkeys(document_ids))
        missing = [d for d in unique if d not in self.documents]
        if missing:
            raise ApiError(
                self._config.unknown_reference_status, f"Document {missing[0]} not found"
            )
        return unique

    def _start_processing(self, a: Avatar, image: ImageRef, now: float) -> None:
        a.image = image
        a.status = PROCESSING
        a.processed_once = False
        a.failure_reason = None
        a.processing_until = now + self._config.avatar_delay
        if self.avatar_failures:
            a.pending_failure = self.avatar_failures.popleft()
        elif image.outcome == IMAGE_NO_FACE:
            a.pending_failure = NO_FACE_TEXT
        elif image.outcome == IMAGE_UNREADABLE:
            a.pending_failure = UNREADABLE_IMAGE_TEXT
        else:
            a.pending_failure = None

    def create_avatar(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        with self._txn() as now:
            self._check_voice_ref(body["voice"])
            document_ids = self._check_documents(body["documentIds"])
            image = self._resolve_image(body["referenceImage"], now, "referenceImage")
            a = Avatar(
                id=new_id(),
                name=body["name"],
                personality=body["personality"],
                voice=body["voice"],
                image=image,
                created_at=now,
                updated_at=now,
                start_script=body.get("startScript"),
                document_ids=document_ids,
                image_processing=body["imageProcessing"],
            )
            self._start_processing(a, image, now)
            self.avatars[a.id] = a
            self._dirty = True
            return render.avatar(a, self.voices, base)

    def _avatar(self, avatar_id: str) -> Avatar:
        a = self.avatars.get(avatar_id)
        if a is None:
            raise not_found("Avatar", avatar_id)
        return a

    def get_avatar(self, avatar_id: str, base: str) -> dict[str, Any]:
        with self._txn():
            return render.avatar(self._avatar(avatar_id), self.voices, base)

    def list_avatars(self, limit: int, cursor: str | None, base: str) -> dict[str, Any]:
        with self._txn():
            items = newest_first(self.avatars.values())
            return paginate(items, limit, cursor, lambda a: render.avatar(a, self.voices, base))

    def update_avatar(self, avatar_id: str, body: dict[str, Any], base: str) -> dict[str, Any]:
        with self._txn() as now:
            a = self._avatar(avatar_id)
            if "referenceImage" in body and a.status == PROCESSING:
                raise conflict(
                    "Avatar is still processing; wait until it is READY or FAILED "
                    "before changing its reference image"
                )
            if "voice" in body:
                self._check_voice_ref(body["voice"])
            document_ids = (
                self._check_documents(body["documentIds"]) if "documentIds" in body else None
            )
            image = (
                self._resolve_image(body["referenceImage"], now, "referenceImage")
                if "referenceImage" in body
                else None
            )
            for key, attr in (
                ("name", "name"),
                ("personality", "personality"),
                ("startScript", "start_script"),
                ("voice", "voice"),
                ("imageProcessing", "image_processing"),
            ):
                if key in body:
                    setattr(a, attr, body[key])
            if document_ids is not None:
                a.document_ids = document_ids  # replaces the whole list
            if image is not None:
                self._start_processing(a, image, now)
            a.updated_at = now
            self._dirty = True
            return render.avatar(a, self.voices, base)

    def delete_avatar(self, avatar_id: str) -> None:
        with self._txn():
            self._avatar(avatar_id)
            del self.avatars[avatar_id]
            self._dirty = True

    def avatar_usage(self, start: float, end: float) -> dict[str, Any]:
        if end <= start:
            raise invalid_field("query", "endDate", "endDate must be after startDate")
        if end - start > MAX_USAGE_RANGE:
            raise invalid_field("query", "endDate", "The date range must be 90 days or less")
        with self._txn():
            days = day_range(start, end)
            by_day = {d: {"date": d, "seconds": 0, "sessions": 0} for d in days}
            total_seconds = measured = sessions = 0
            for s in self.sessions.values():
                if not start <= s.created_at < end:
                    continue
                sessions += 1
                bucket = by_day.get(utc_day(s.created_at))
                if bucket:
                    bucket["sessions"] += 1
                if s.duration is not None:
                    measured += 1
                    total_seconds += s.duration
                    if bucket:
                        bucket["seconds"] += s.duration
            return {
                "avgDurationSeconds": round(total_seconds / measured) if measured else 0,
                "totalSeconds": total_seconds,
                "totalSessions": sessions,
                "byDay": list(by_day.values()),
            }

    def _conversation(self, conversation_id: str) -> Session:
        s = self.sessions.get(conversation_id)
        if s is None or s.conversation_deleted:
            raise not_found("Conversation", conversation_id)
        return s

    def _avatar_image(self, base: str) -> Callable[[str], str | None]:
        def image_url(avatar_id: str) -> str | None:
            a = self.avatars.get(avatar_id)
            return render.avatar_processed_uri(a, base) if a else None

        return image_url

    def list_conversations(
        self,
        limit: int,
        cursor: str | None,
        avatar_id: str | None,
        start: float | None,
        end: float | None,
    ) -> dict[str, Any]:
        with self._txn() as now:

            def keep(s: Session) -> bool:
                return (
                    not s.conversation_deleted
                    and (avatar_id is None or s.avatar.get("avatarId") == avatar_id)
                    and (start is None or s.created_at >= start)
                    and (end is None or s.created_at < end)
                )

            items = newest_first(s for s in self.sessions.values() if keep(s))
            return paginate(items, limit, cursor, lambda s: render.conversation_item(s, now))

    def get_conversation(self, conversation_id: str, base: str) -> dict[str, Any]:
        with self._txn() as now:
            return render.conversation(
                self._conversation(conversation_id), now, self._avatar_image(base)
            )

    def delete_conversation(self, conversation_id: str) -> None:
        with self._txn():
            s = self._conversation(conversation_id)
            s.conversation_deleted = True
            s.transcript = []
            self._dirty = True
