"""Realtime sessions: create, poll, cancel, consume; joining and leaving, from the room's
real events (RoomHooks) or from the control plane."""

from __future__ import annotations

from typing import Any

from ..catalog import MODEL, PRESET_AVATARS
from ..errors import ApiError, conflict, not_found
from ..room.spec import MAX_DURATION, RoomEnding, RoomRefused
from . import media, render
from .core import new_id
from .records import CANCELLED, COMPLETED, FAILED, READY, RUNNING, TERMINAL, Session
from .rooms import RoomOps, room_name, user_identity
from .times import EPSILON, utc_day


class SessionOps(RoomOps):
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
            self._close_room(s)
            self._promote(now)

    def consume(
        self, session_id: str, bearer: str | None, room_url: str | None = None
    ) -> dict[str, Any]:
        """One-time LiveKit credentials; ``room_url`` is where the app serves the rooms."""
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
            s.livekit_token = (
                self._open_room(s, now) if self.rooms else self._token_without_room(s, now)
            )
            self._charge(s, self._config.consume_credits, now)
            self._dirty = True
            return {
                "url": self._config.consume_url(room_url if self.rooms else None),
                "token": s.livekit_token,
                "roomName": room_name(s.id),
            }

    @staticmethod
    def _token_without_room(s: Session, now: float) -> str:
        """A LiveKit-shaped token for a bare Simulator that serves no room (nothing checks it)."""
        claims = {
            "sub": user_identity(s.id), "iat": int(now), "nbf": int(now), "exp": int(now) + 3600,
            "video": {"room": room_name(s.id), "roomJoin": True, "canPublish": True,
                      "canSubscribe": True},
            "jti": new_id(),
        }  # fmt: skip
        return media.jwt_like(claims)

    # joining and leaving: from the room's real events, or from the control plane -------

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
            self._close_room(s)
            self._promote(now)
            return render.session(s, show_queued=False)

    # RoomHooks: the room calls these on its event loop ---------------------------------

    def on_join(self, session_id: str) -> None:
        """The first client is joining the session's room: RUNNING, or the join is refused."""
        try:
            self.join(session_id)
        except ApiError as error:
            raise RoomRefused(f"requested room does not exist ({error})") from error

    def on_end(self, session_id: str, ending: RoomEnding) -> None:
        """The room ended (END_CALL, last client gone, maxDuration): COMPLETED, with what
        was said and the call's length on the engine's clock."""
        with self._txn() as now:
            s = self.sessions.get(session_id)
            if s is None:
                return  # reset since the room opened
            if s.status == RUNNING:
                # The room's timer started a moment before the join reached the engine: a
                # call cut at maxDuration lasted exactly that long.
                limit = (s.joined_at or now) + s.max_duration
                end = limit if ending.reason == MAX_DURATION else now
                self._complete(s, end, ending.transcript)
                self._promote(now)
            elif s.status == COMPLETED and self._ended_by_time(s):
                # A request saw maxDuration pass first and stored a stand-in transcript.
                s.transcript = self._stamp_transcript(s, ending.transcript)
                self._dirty = True

    @staticmethod
    def _ended_by_time(s: Session) -> bool:
        limit = (s.joined_at or 0.0) + s.max_duration
        return s.ended_at is not None and abs(s.ended_at - limit) < EPSILON

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
