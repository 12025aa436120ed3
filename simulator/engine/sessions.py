"""Realtime sessions: create, poll, cancel, consume, and the control-plane hooks."""

from __future__ import annotations

from typing import Any

from ..catalog import MODEL, PRESET_AVATARS
from ..errors import ApiError, conflict, not_found
from . import media, render
from .core import SimulatorCore, new_id
from .records import CANCELLED, FAILED, READY, RUNNING, TERMINAL, Session
from .times import utc_day


class SessionOps(SimulatorCore):
    def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._txn() as now:
            cfg = self._config
            avatar_ref = body["avatar"]
            if avatar_ref["type"] == "custom":
                avatar = self.avatars.get(avatar_ref["avatarId"])
                if avatar is None:
                    raise ApiError(
                        cfg.unknown_avatar_status, f"Avatar {avatar_ref['avatarId']} not found"
                    )
                if avatar.status != READY:
                    raise ApiError(
                        cfg.avatar_not_ready_status,
                        f"Avatar {avatar.id} is {avatar.status} and cannot be used for a session",
                    )
                avatar_name = avatar.name
            else:
                avatar_name = PRESET_AVATARS[avatar_ref["presetId"]]
            if self.credit_balance < cfg.consume_credits:
                raise ApiError(
                    cfg.insufficient_credits_status,
                    "You do not have enough credits to run this task.",
                )
            day = utc_day(now)
            if cfg.daily_limit is not None and self.daily_creates.get(day, 0) >= cfg.daily_limit:
                raise ApiError(
                    cfg.daily_limit_status,
                    f"You have exceeded the daily limit of {cfg.daily_limit} generations "
                    f"for {MODEL}. Try again tomorrow (UTC).",
                )
            self.daily_creates[day] = self.daily_creates.get(day, 0) + 1
            s = Session(
                id=new_id(),
                created_at=now,
                avatar=dict(avatar_ref),
                avatar_name=avatar_name,
                max_duration=body["maxDuration"],
                personality=body.get("personality"),
                start_script=body.get("startScript"),
                tools=body.get("tools", []),
            )
            if self.provisioning_failures:
                s.provisioning_failure = list(self.provisioning_failures.popleft())
            self.sessions[s.id] = s
            self._live[s.id] = s
            self._promote(now)
            self._dirty = True
            return {"id": s.id}

    def _session(self, session_id: str) -> Session:
        s = self.sessions.get(session_id)
        if s is None:
            raise not_found("Realtime session", session_id)
        return s

    def get_session(self, session_id: str) -> dict[str, Any]:
        with self._txn():
            s = self._session(session_id)
            first_poll = not s.polled
            if first_poll:
                s.polled = True
                self._dirty = True
            show_queued = s.queued or (first_poll and self._config.first_poll_queued)
            return render.session(s, show_queued=show_queued)

    def cancel_session(self, session_id: str) -> None:
        with self._txn() as now:
            s = self._session(session_id)
            if s.status in TERMINAL:
                if self._config.delete_terminal_status < 300:
                    return
                raise ApiError(
                    self._config.delete_terminal_status,
                    f"Realtime session {session_id} has already ended ({s.status})",
                )
            self._end(s, CANCELLED, now)
            s.transcript = []
            self._promote(now)

    def consume(self, session_id: str, bearer: str | None) -> dict[str, Any]:
        with self._txn() as now:
            s = self.sessions.get(session_id)
            # Only the session's own key opens it; anything else looks like "no such session".
            if s is None or s.session_key is None or bearer != s.session_key:
                raise not_found("Realtime session", session_id)
            if s.consumed:
                raise ApiError(
                    self._config.consume_conflict_status,
                    "Session credentials have already been consumed; create a new session",
                )
            if s.status != READY:
                raise ApiError(
                    self._config.consume_not_ready_status,
                    f"Realtime session is {s.status}, not READY",
                )
            s.consumed_at = now
            room = f"room-{s.id}"
            s.livekit_token = media.jwt_like(
                {
                    "sub": f"user:{s.id}",
                    "iat": int(now),
                    "nbf": int(now),
                    "exp": int(now) + 3600,
                    "video": {
                        "room": room,
                        "roomJoin": True,
                        "canPublish": True,
                        "canSubscribe": True,
                    },
                    "jti": new_id(),
                }
            )
            self._charge(s, self._config.consume_credits, now)
            self._dirty = True
            return {
                "url": self._config.effective_livekit_url,
                "token": s.livekit_token,
                "roomName": room,
            }

    # control-plane session hooks ------------------------------------------------

    def join(self, session_id: str) -> dict[str, Any]:
        with self._txn() as now:
            s = self._session(session_id)
            if s.status != READY or not s.consumed:
                raise conflict(
                    f"Cannot join: session is {s.status}"
                    + ("" if s.consumed else " and its credentials were never consumed")
                )
            s.status = RUNNING
            s.joined_at = now
            self._dirty = True
            return render.session(s, show_queued=False)

    def leave(self, session_id: str, transcript: list[dict[str, Any]] | None) -> dict[str, Any]:
        with self._txn() as now:
            s = self._session(session_id)
            if s.status != RUNNING:
                raise conflict(f"Cannot leave: session is {s.status}, not RUNNING")
            self._complete(s, now, transcript)
            self._promote(now)
            return render.session(s, show_queued=False)

    def fail_session(self, session_id: str, code: str, text: str) -> dict[str, Any]:
        with self._txn() as now:
            s = self._session(session_id)
            if s.status in TERMINAL:
                raise conflict(f"Cannot fail: session is already {s.status}")
            self._end(s, FAILED, now, failure=(code, text))
            self._promote(now)
            return render.session(s, show_queued=False)

    def add_provisioning_failures(self, code: str, text: str, count: int) -> int:
        with self._txn():
            self.provisioning_failures.extend([(code, text)] * count)
            self._dirty = True
            return len(self.provisioning_failures)

    def add_avatar_failures(self, reason: str, count: int) -> int:
        with self._txn():
            self.avatar_failures.extend([reason] * count)
            self._dirty = True
            return len(self.avatar_failures)

    def add_voice_failures(self, reason: str, count: int) -> int:
        with self._txn():
            self.voice_failures.extend([reason] * count)
            self._dirty = True
            return len(self.voice_failures)
