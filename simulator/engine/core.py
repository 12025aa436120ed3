"""The time engine: records, the lock, and every time-based transition.

All time-based transitions are evaluated lazily from ``clock.now()`` at the start of
each operation, under one ``threading.Lock``: there are no timers or background
tasks, so a FakeClock advanced between requests gives deterministic results.
Events are applied in time order (a slot freed at t lets the next queued session
start provisioning at t, not at the time of the request that noticed it).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..catalog import NO_PARTICIPANT_CODE, NO_PARTICIPANT_TEXT, RUNWAY_URI_SCHEME
from ..clock import Clock, SystemClock
from ..config import SimConfig, to_camel
from ..errors import ApiError
from ..validation import invalid_field
from . import media
from .persistence import load_json, save_json_atomic
from .records import (
    COMPLETED,
    FAILED,
    IMAGE_UNREADABLE,
    NOT_READY,
    PROCESSING,
    READY,
    RUNNING,
    TASK_TERMINAL,
    TERMINAL,
    Avatar,
    Charge,
    Document,
    FileBlob,
    ImageRef,
    Session,
    Task,
    Upload,
    Voice,
    from_plain,
    to_plain,
)
from .times import EPSILON, whole_seconds

DEFAULT_GREETING = "Hi there! How can I help you today?"
DEFAULT_USER_LINE = "Hello! I'm just trying you out."
DEFAULT_REPLY = "Lovely to meet you. Ask me anything whenever you're ready."
STATE_VERSION = 1


def new_id() -> str:
    return str(uuid.uuid4())


class SimulatorCore:
    """Records, the lock and the time engine; the resource mixins build on it."""

    def __init__(self, config: SimConfig | None = None, clock: Clock | None = None) -> None:
        self._config = config or SimConfig()
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self._clear()
        if self._config.state_file:
            saved = load_json(self._config.state_file)
            if saved is not None:
                self._restore(saved)

    # ------------------------------------------------------------------ plumbing

    def _clear(self) -> None:
        self.sessions: dict[str, Session] = {}
        self._live: dict[str, Session] = {}  # non-terminal sessions, in creation (FIFO) order
        self.avatars: dict[str, Avatar] = {}
        self.documents: dict[str, Document] = {}
        self.voices: dict[str, Voice] = {}
        self.uploads: dict[str, Upload] = {}
        self.files: dict[str, FileBlob] = {}
        self.credit_balance: int = self._config.credit_balance
        self.charges: list[Charge] = []
        self.daily_creates: dict[str, int] = {}
        self.provisioning_failures: deque[tuple[str, str]] = deque()
        self.avatar_failures: deque[str] = deque()
        self.voice_failures: deque[str] = deque()
        self.tasks: dict[str, Task] = {}  # avatar video tasks (clips.py)
        self._live_tasks: dict[str, Task] = {}  # non-terminal tasks, in creation order
        self.task_failures: deque[tuple[str, str]] = deque()
        self._clear_clip_outputs()
        self._evaluated_at: float | None = None
        self._dirty = False

    @property
    def config(self) -> SimConfig:
        return self._config

    @contextmanager
    def _txn(self) -> Iterator[float]:
        """Lock, bring the state up to ``now``, run the operation, persist if changed."""
        with self._lock:
            now = self.clock.now()
            try:
                self._advance(now)
                yield now
            finally:
                if self._dirty and self._config.state_file:
                    save_json_atomic(self._config.state_file, self._dump())
                self._dirty = False

    def count_request(self, key: str) -> None:
        # A plain dict increment is atomic enough under the GIL; snapshots copy it.
        self.requests[key] = self.requests.get(key, 0) + 1

    # ------------------------------------------------------------------ time engine

    def _advance(self, now: float) -> None:
        start = self._evaluated_at if self._evaluated_at is not None else now
        self._promote(min(start, now))
        while True:
            event = self._next_event(now)
            if event is None:
                break
            at, apply = event
            apply(at)
            self._promote(at)
            self._dirty = True
        for s in self._live.values():
            if s.status == RUNNING:
                self._bill_running(s, now)
        self._evaluated_at = now

    def _next_event(self, now: float) -> tuple[float, Callable[[float], None]] | None:
        best: tuple[float, Callable[[float], None]] | None = None
        for s in self._live.values():
            due = self._session_due(s)
            if due is not None and due <= now and (best is None or due < best[0]):
                best = (due, lambda at, s=s: self._fire_session(s, at))
        for record in (*self.avatars.values(), *self.voices.values()):
            due = record.processing_until if record.status == PROCESSING else None
            if due is not None and due <= now and (best is None or due < best[0]):
                best = (due, lambda at, r=record: self._finish_processing(r, at))
        task_event = self._next_task_event(now)
        if task_event is not None and (best is None or task_event[0] < best[0]):
            best = task_event
        return best

    # Avatar video tasks take part in the same time-ordered engine; clips.py fills these in.
    def _next_task_event(self, now: float) -> tuple[float, Callable[[float], None]] | None:
        return None

    def _promote_tasks(self, at: float) -> None:
        return None

    def _clear_clip_outputs(self) -> None:
        return None

    def _session_due(self, s: Session) -> float | None:
        if s.status == NOT_READY:
            return None if s.slot_at is None else s.slot_at + self._provisioning_time(s)
        if s.status == READY:
            waiting_since = s.consumed_at if s.consumed_at is not None else s.ready_at
            return (waiting_since or 0.0) + self._config.no_participant_timeout
        if s.status == RUNNING:
            return (s.joined_at or 0.0) + s.max_duration
        return None

    def _provisioning_time(self, s: Session) -> float:
        """ready_delay, moved by up to ready_jitter either way (always the same per session)."""
        jitter = self._config.ready_jitter
        if jitter <= 0:
            return self._config.ready_delay
        spread = int(hashlib.sha256(s.id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF * 2 - 1
        return max(0.0, self._config.ready_delay + spread * jitter)

    def _fire_session(self, s: Session, at: float) -> None:
        if s.status == NOT_READY:
            if s.provisioning_failure:
                code, text = s.provisioning_failure
                self._end(s, FAILED, at, failure=(code, text))
            else:
                self._make_ready(s, at)
        elif s.status == READY:
            self._end(s, FAILED, at, failure=(NO_PARTICIPANT_CODE, NO_PARTICIPANT_TEXT))
        elif s.status == RUNNING:
            self._complete(s, at, None)

    def _promote(self, at: float) -> None:
        """Give free concurrency slots to queued sessions, oldest first (and to tasks)."""
        self._promote_tasks(at)
        limit = self._config.concurrency
        queued = [s for s in self._live.values() if s.queued]
        if not queued:
            return
        held = sum(1 for s in self._live.values() if s.holds_slot)
        for s in queued:
            if limit is not None and held >= limit:
                break
            s.slot_at = at
            held += 1
            self._dirty = True

    def _make_ready(self, s: Session, at: float) -> None:
        s.status = READY
        s.ready_at = at
        s.expires_at = at + s.max_duration
        s.session_key = "stk_" + media.jwt_like(
            {"sid": s.id, "iat": int(at), "exp": int(s.expires_at)}
        )

    def _end(
        self, s: Session, status: str, at: float, *, failure: tuple[str, str] | None = None
    ) -> None:
        if s.status == RUNNING:
            self._bill_running(s, at)
            s.duration = min(s.max_duration, whole_seconds(s.joined_at or at, at))
        s.status = status
        s.ended_at = at
        s.session_key = None  # credentials die with the session: consume is then a 404
        if failure:
            s.failure_code, s.failure = failure
        self._live.pop(s.id, None)
        self._dirty = True

    def _complete(self, s: Session, at: float, transcript: list[dict[str, Any]] | None) -> None:
        end = min(at, (s.joined_at or at) + s.max_duration)
        self._end(s, COMPLETED, end)
        s.transcript = self._stamp_transcript(
            s, transcript if transcript is not None else self._default_transcript(s)
        )

    def _bill_running(self, s: Session, upto: float) -> None:
        """Charge ``running_credits`` for every full billing interval spent RUNNING."""
        if s.joined_at is None or self._config.billing_interval <= 0:
            return
        end = min(upto, s.joined_at + s.max_duration)
        ticks = int((max(0.0, end - s.joined_at) + EPSILON) // self._config.billing_interval)
        if ticks > s.billed_ticks:
            self._charge(s, (ticks - s.billed_ticks) * self._config.running_credits, end)
            s.billed_ticks = ticks

    def _charge(self, s: Session, amount: int, at: float) -> None:
        if amount <= 0:
            return
        self.credit_balance -= amount
        s.credits_charged += amount
        self.charges.append(Charge(at=at, amount=amount, session_id=s.id))
        self._dirty = True

    def _finish_processing(self, record: Avatar | Voice, at: float) -> None:
        record.processing_until = None
        if record.pending_failure:
            record.status = FAILED
            record.failure_reason = record.pending_failure
            record.pending_failure = None
        else:
            record.status = READY
            if isinstance(record, Avatar):
                record.processed_once = True
            elif record.preview_file is None:
                record.preview_file = self._store_file(media.WAV, media.preview_wav(record.id))

    # ------------------------------------------------------------------ transcripts

    def _default_transcript(self, s: Session) -> list[dict[str, Any]]:
        greeting = s.start_script
        if greeting is None and s.avatar["type"] == "custom":
            avatar = self.avatars.get(s.avatar["avatarId"])
            greeting = avatar.start_script if avatar else None
        return [
            {"role": "assistant", "content": greeting or DEFAULT_GREETING},
            {"role": "user", "content": DEFAULT_USER_LINE},
            {"role": "assistant", "content": DEFAULT_REPLY},
        ]

    def _stamp_transcript(self, s: Session, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Spread entry timestamps evenly over the call (join -> end)."""
        start = s.joined_at or s.created_at
        end = s.ended_at or start
        step = (end - start) / max(1, len(entries))
        return [{**e, "timestamp": start + i * step} for i, e in enumerate(entries)]

    # ------------------------------------------------------------------ files and images

    def _store_file(self, content_type: str, data: bytes) -> str:
        file_id = new_id()
        self.files[file_id] = FileBlob(file_id, content_type, data)
        return file_id

    def _image_ref_from_bytes(self, data: bytes) -> ImageRef:
        analysis = media.analyse_image(data)
        return ImageRef(
            thumbnail_file=self._store_file("image/png", analysis.thumbnail)
            if analysis.thumbnail
            else None,
            processed_file=self._store_file("image/jpeg", analysis.processed)
            if analysis.processed
            else None,
            outcome=analysis.outcome,
        )

    def _resolve_image(self, uri: str, now: float, field: str) -> ImageRef:
        if uri.startswith("https://"):
            return ImageRef(url=uri)
        if uri.startswith(RUNWAY_URI_SCHEME):
            upload = self._resolve_upload(uri, now, field)
            return (
                ImageRef(**to_plain(upload.image))
                if upload.image
                else ImageRef(outcome=IMAGE_UNREADABLE)
            )
        data = media.decode_data_uri(uri)
        if data is None:
            raise invalid_field("body", field, "Invalid base64 data URI")
        return self._image_ref_from_bytes(data)

    def _resolve_upload(self, uri: str, now: float, field: str) -> Upload:
        parts = uri[len(RUNWAY_URI_SCHEME) :].split("/")
        upload = self.uploads.get(parts[1]) if len(parts) >= 2 and parts[0] == "uploads" else None
        if upload is None or upload.uploaded_at is None or now >= upload.expires_at:
            raise ApiError(
                self._config.unknown_reference_status,
                f"Invalid {field}: the runway:// URI does not refer to an uploaded, unexpired file",
            )
        return upload

    def get_file(self, file_id: str) -> FileBlob | None:
        with self._lock:
            return self.files.get(file_id)

    # ------------------------------------------------------------------ control

    def update_config(self, changes: dict[str, Any]) -> SimConfig:
        with self._txn() as now:
            self._config = self._config.updated(changes)
            if "creditBalance" in changes or "credit_balance" in changes:
                self.credit_balance = self._config.credit_balance
            self._promote(now)  # a higher concurrency frees queued sessions at once
            self._dirty = True
            return self._config

    def reset(self) -> None:
        with self._lock:
            self._clear()
            self.requests = {}
            self._dirty = True
            if self._config.state_file:
                save_json_atomic(self._config.state_file, self._dump())
            self._dirty = False

    def snapshot(self) -> dict[str, Any]:
        """Everything, for GET /_simulator/state (epoch-second timestamps)."""
        with self._txn() as now:
            return {
                "now": now,
                "config": self._config.to_dict(),
                "sessions": [
                    {**camel(to_plain(s)), "queued": s.queued, "consumed": s.consumed}
                    for s in self.sessions.values()
                ],
                "avatars": [camel(to_plain(a)) for a in self.avatars.values()],
                "documents": [camel(to_plain(d)) for d in self.documents.values()],
                "voices": [camel(to_plain(v)) for v in self.voices.values()],
                "uploads": [camel(to_plain(u)) for u in self.uploads.values()],
                "files": [
                    {"id": f.id, "contentType": f.content_type, "size": len(f.data)}
                    for f in self.files.values()
                ],
                "creditBalance": self.credit_balance,
                "charges": [camel(to_plain(c)) for c in self.charges],
                "dailyCreates": dict(self.daily_creates),
                "pendingProvisioningFailures": len(self.provisioning_failures),
                "pendingAvatarFailures": len(self.avatar_failures),
                "pendingVoiceFailures": len(self.voice_failures),
                "tasks": [camel(to_plain(t)) for t in self.tasks.values()],
                "pendingTaskFailures": len(self.task_failures),
                "requests": dict(self.requests),
            }

    # ------------------------------------------------------------------ persistence

    def _dump(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "sessions": [to_plain(s) for s in self.sessions.values()],
            "avatars": [to_plain(a) for a in self.avatars.values()],
            "documents": [to_plain(d) for d in self.documents.values()],
            "voices": [to_plain(v) for v in self.voices.values()],
            "uploads": [to_plain(u) for u in self.uploads.values()],
            "files": [
                {
                    "id": f.id,
                    "content_type": f.content_type,
                    "data": base64.b64encode(f.data).decode(),
                }
                for f in self.files.values()
            ],
            "credit_balance": self.credit_balance,
            "charges": [to_plain(c) for c in self.charges],
            "daily_creates": self.daily_creates,
            "provisioning_failures": [list(x) for x in self.provisioning_failures],
            "avatar_failures": list(self.avatar_failures),
            "voice_failures": list(self.voice_failures),
            "tasks": [to_plain(t) for t in self.tasks.values()],
            "task_failures": [list(x) for x in self.task_failures],
            "evaluated_at": self._evaluated_at,
        }

    def _restore(self, data: dict[str, Any]) -> None:
        self.sessions = {d["id"]: from_plain(Session, d) for d in data.get("sessions", [])}
        self._live = {k: s for k, s in self.sessions.items() if s.status not in TERMINAL}
        self.avatars = {d["id"]: from_plain(Avatar, d) for d in data.get("avatars", [])}
        self.documents = {d["id"]: from_plain(Document, d) for d in data.get("documents", [])}
        self.voices = {d["id"]: from_plain(Voice, d) for d in data.get("voices", [])}
        self.uploads = {d["id"]: from_plain(Upload, d) for d in data.get("uploads", [])}
        self.files = {
            f["id"]: FileBlob(f["id"], f["content_type"], base64.b64decode(f["data"]))
            for f in data.get("files", [])
        }
        self.credit_balance = int(data.get("credit_balance", self._config.credit_balance))
        self.charges = [from_plain(Charge, c) for c in data.get("charges", [])]
        self.daily_creates = dict(data.get("daily_creates", {}))
        self.provisioning_failures = deque(tuple(x) for x in data.get("provisioning_failures", []))
        self.avatar_failures = deque(data.get("avatar_failures", []))
        self.voice_failures = deque(data.get("voice_failures", []))
        self.tasks = {d["id"]: from_plain(Task, d) for d in data.get("tasks", [])}
        self._live_tasks = {k: t for k, t in self.tasks.items() if t.status not in TASK_TERMINAL}
        self.task_failures = deque(tuple(x) for x in data.get("task_failures", []))
        self._evaluated_at = data.get("evaluated_at")


# ---------------------------------------------------------------------- helpers


def camel(data: dict[str, Any]) -> dict[str, Any]:
    return {to_camel(k): v for k, v in data.items()}
