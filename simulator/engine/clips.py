"""Avatar videos ("clips"): ``POST /v1/avatar_videos`` makes a task that
``GET /v1/tasks/{id}`` follows through THROTTLED / PENDING / RUNNING to SUCCEEDED (with a
signed, expiring output URL), FAILED or CANCELLED, on the engine's clock like sessions.

A create happens in three steps so that no lock is held during slow work: ``clip_plan``
checks the request against the state, the route prepares the speech in a worker thread
(clip_tasks.prepare_speech), and ``create_clip`` checks again and records the task. The
clip's length is known from then on: its credits are charged at create (refunded when
cancelled before it runs, or when it fails) and its MP4 is rendered at once in a
background thread, so the output is ready, or nearly, when the clock says SUCCEEDED."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..catalog import PRESET_AVATAR_VOICES, PRESET_AVATARS, RUNWAY_URI_SCHEME
from ..clips_render import Look, Speech, decode_audio, is_loopback_url, render_mp4, synthesise
from ..errors import ApiError, conflict, not_found
from . import media
from .clip_tasks import (
    ClipPlan,
    clip_credits,
    output_url,
    run_time,
    signature,
    speech_issue,
    task_wire,
)
from .core import SimulatorCore, new_id
from .records import (
    CANCELLED,
    FAILED,
    PENDING,
    READY,
    RUNNING,
    SUCCEEDED,
    TASK_TERMINAL,
    THROTTLED,
    Charge,
    Task,
)
from .rooms import DEFAULT_VOICE, voice_id
from .times import EPSILON

OUTPUT_CACHE = 32  # rendered clips kept in memory; older ones are rendered again on demand


class ClipOps(SimulatorCore):
    _clip_outputs: dict[str, Future[bytes]]
    _render_pool: ThreadPoolExecutor | None = None

    def _clear_clip_outputs(self) -> None:
        self._clip_outputs = {}
        self._output_secret = secrets.token_bytes(32)  # output URLs die with a reset

    # ------------------------------------------------------------------ create

    def clip_plan(self, body: dict[str, Any]) -> ClipPlan:
        """Check a validated create against the state (nothing changes): the avatar is
        READY, a custom voice exists, the audio is at hand or on a loopback URL."""
        with self._txn() as now:
            avatar_ref = body["avatar"]
            look, avatar_voice = self._clip_look(avatar_ref)
            speech = body["speech"]
            if speech["type"] == "text":
                voice = speech.get("voice")
                chosen = avatar_voice if voice is None else self._clip_voice(voice)
                return ClipPlan(avatar_ref, look, "text", text=speech["text"], voice=chosen)
            return self._audio_plan(avatar_ref, look, speech["audio"], now)

    def _clip_look(self, avatar_ref: dict[str, Any]) -> tuple[Look, str]:
        cfg = self._config
        if avatar_ref["type"] == "runway-preset":
            preset = avatar_ref["presetId"]
            look = Look(None, PRESET_AVATARS[preset], cfg.clip_width, cfg.clip_height, cfg.clip_fps)
            return look, PRESET_AVATAR_VOICES.get(preset, DEFAULT_VOICE)
        avatar = self.avatars.get(avatar_ref["avatarId"])
        if avatar is None:
            raise ApiError(cfg.unknown_avatar_status, f"Avatar {avatar_ref['avatarId']} not found")
        if avatar.status != READY:
            raise ApiError(
                cfg.avatar_not_ready_status,
                f"Avatar {avatar.id} is {avatar.status} and cannot be used for a video",
            )
        blob = self.files.get(avatar.image.processed_file or "")
        image = blob.data if blob else None
        look = Look(image, avatar.name, cfg.clip_width, cfg.clip_height, cfg.clip_fps)
        return look, voice_id(avatar.voice)

    def _clip_voice(self, voice: dict[str, Any]) -> str:
        if voice["type"] == "preset":
            return str(voice["presetId"])
        found = self.voices.get(voice["id"])
        if found is None or found.deleted or found.status != READY:
            state = "not found" if found is None or found.deleted else f"is {found.status}"
            raise ApiError(self._config.unknown_reference_status, f"Voice {voice['id']} {state}")
        return found.id

    def _audio_plan(
        self, avatar_ref: dict[str, Any], look: Look, audio: str, now: float
    ) -> ClipPlan:
        if audio.startswith("https://"):
            if not is_loopback_url(audio):
                raise ApiError(
                    self._config.unknown_reference_status,
                    "Invalid speech.audio: the simulator fetches audio only from loopback "
                    "URLs (https://localhost or https://127.0.0.1); use a data URI or an upload",
                )
            return ClipPlan(avatar_ref, look, "audio", audio_url=audio)
        if audio.startswith(RUNWAY_URI_SCHEME):
            upload = self._resolve_upload(audio, now, "speech.audio")
            blob = self.files.get(upload.audio_file or "")
            if blob is None:
                raise speech_issue("audio", "The uploaded file is not audio")
            return ClipPlan(avatar_ref, look, "audio", audio=blob.data, audio_file=blob.id)
        data = media.decode_data_uri(audio)
        if data is None:
            raise speech_issue("audio", "Invalid base64 data URI")
        return ClipPlan(avatar_ref, look, "audio", audio=data)

    def create_clip(self, plan: ClipPlan, speech: Speech, audio: bytes | None) -> dict[str, Any]:
        """Record the task (the avatar is checked again: it may have changed meanwhile),
        charge its credits and start rendering its MP4."""
        with self._txn() as now:
            look, _ = self._clip_look(plan.avatar)
            credits = clip_credits(speech.seconds, self._config)
            if self.credit_balance < credits:
                raise ApiError(
                    self._config.insufficient_credits_status,
                    "You do not have enough credits to run this task.",
                )
            audio_file = plan.audio_file
            if audio is not None and audio_file is None:
                audio_file = self._store_file("application/octet-stream", audio)
            t = Task(
                id=new_id(), created_at=now, avatar=dict(plan.avatar),
                speech_type=plan.speech_type, text=plan.text, voice=plan.voice,
                audio_file=audio_file, seconds=speech.seconds, credits=credits,
                status=THROTTLED, name=look.name, usage_model=plan.usage_model,
                image_file=self._image_file(plan.avatar),
            )  # fmt: skip
            if self.task_failures:
                t.pending_failure = list(self.task_failures.popleft())
            self.tasks[t.id] = t
            self._live_tasks[t.id] = t
            self._charge_task(t, credits, now)
            self._promote_tasks(now)
            self._start_render(t.id, speech, look)
            self._dirty = True
            return {"id": t.id}

    def _image_file(self, avatar_ref: dict[str, Any]) -> str | None:
        avatar = self.avatars.get(avatar_ref.get("avatarId", ""))
        return avatar.image.processed_file if avatar else None

    # ------------------------------------------------------------------ read, cancel, delete

    def _task(self, task_id: str) -> Task:
        t = self.tasks.get(task_id)
        if t is None:
            raise not_found("Task", task_id)
        return t

    def get_task(self, task_id: str, base: str) -> dict[str, Any]:
        with self._txn() as now:
            t = self._task(task_id)
            url = None
            if t.status == SUCCEEDED:  # every GET hands out fresh URLs, as Runway's do
                expires = int(now + self._config.clip_output_ttl)
                url = output_url(base, self._output_secret, t.id, expires)
            return task_wire(t, now, self._config, url)

    def delete_task(self, task_id: str) -> None:
        """Cancel a THROTTLED, PENDING or RUNNING task (refunded unless it was RUNNING);
        delete a finished one: it and its output are gone (404) from then on."""
        with self._txn() as now:
            t = self._task(task_id)
            if t.status in TASK_TERMINAL:
                del self.tasks[t.id]
                self._drop_output(t.id)
            else:
                self._end_task(t, CANCELLED, now, refund=t.status != RUNNING)
            self._dirty = True

    def fail_task(self, task_id: str, code: str, text: str) -> dict[str, Any]:
        """Control plane: fail a task now (refunded, as Runway refunds failed tasks)."""
        with self._txn() as now:
            t = self._task(task_id)
            if t.status in TASK_TERMINAL:
                raise conflict(f"Cannot fail: task is already {t.status}")
            self._end_task(t, FAILED, now, refund=True, failure=(code, text))
            return task_wire(t, now, self._config, None)

    def add_task_failures(self, code: str, text: str, count: int) -> int:
        """Control plane: the next ``count`` tasks created fail when they finish running."""
        with self._txn():
            self.task_failures.extend([(code, text)] * count)
            self._dirty = True
            return len(self.task_failures)

    # ------------------------------------------------------------------ output

    def clip_output(self, task_id: str, expires: str | None, sig: str | None) -> Future[bytes]:
        """The rendered MP4 behind an output URL, as Runway's storage answers: a bad or
        missing signature or a past expiry is a 403; a deleted task's output is a 404."""
        with self._txn() as now:
            try:
                expires_at = int(expires or "")
            except ValueError:
                raise ApiError(403, "Access denied: the URL is not signed") from None
            if not secrets.compare_digest(
                sig or "", signature(self._output_secret, task_id, expires_at)
            ):
                raise ApiError(403, "Access denied: the signature does not match")
            if now >= expires_at:
                raise ApiError(403, "Access denied: the URL has expired")
            t = self.tasks.get(task_id)
            if t is None or t.status != SUCCEEDED:
                raise not_found("Output", task_id)
            future = self._clip_outputs.get(task_id)
            if future is None or future.cancelled():
                future = self._render_again(t)
            return future

    def _render_again(self, t: Task) -> Future[bytes]:
        """Render a clip whose output left the cache (or the process restarted)."""
        image = self.files.get(t.image_file or "")
        cfg = self._config
        look = Look(image.data if image else None, t.name, cfg.clip_width, cfg.clip_height,
                    cfg.clip_fps)  # fmt: skip
        audio = self.files.get(t.audio_file or "")
        max_seconds = max(cfg.clip_max_audio_seconds, t.seconds + 1)
        text, voice = t.text or "", t.voice or DEFAULT_VOICE

        def speech_then_video() -> bytes:
            speech = (
                synthesise(text, voice) if audio is None else decode_audio(audio.data, max_seconds)
            )
            return render_mp4(speech, look)

        return self._submit(t.id, speech_then_video)

    def _start_render(self, task_id: str, speech: Speech, look: Look) -> None:
        self._submit(task_id, lambda: render_mp4(speech, look))

    def _submit(self, task_id: str, job: Callable[[], bytes]) -> Future[bytes]:
        if self._render_pool is None:
            # One worker: renders queue rather than crowd the machine's cores.
            self._render_pool = ThreadPoolExecutor(1, thread_name_prefix="clip-render")
        future = self._render_pool.submit(job)
        self._clip_outputs[task_id] = future
        if len(self._clip_outputs) > OUTPUT_CACHE:  # forget the oldest finished renders
            finished = [k for k, f in self._clip_outputs.items() if f.done() and k != task_id]
            for key in finished[: len(self._clip_outputs) - OUTPUT_CACHE]:
                del self._clip_outputs[key]
        return future

    def _drop_output(self, task_id: str) -> None:
        future = self._clip_outputs.pop(task_id, None)
        if future is not None:
            future.cancel()

    # ------------------------------------------------------------------ time engine

    def _next_task_event(self, now: float) -> tuple[float, Callable[[float], None]] | None:
        best: tuple[float, Callable[[float], None]] | None = None
        for t in self._live_tasks.values():
            due = self._task_due(t)
            # EPSILON: a clock moved in several steps may fall a hair short of the sum.
            if due is not None and due <= now + EPSILON and (best is None or due < best[0]):
                best = (min(due, now), lambda at, t=t: self._fire_task(t, at))
        return best

    def _task_due(self, t: Task) -> float | None:
        if t.status == PENDING and t.slot_at is not None:
            return t.slot_at + self._config.clip_queue_delay
        if t.status == RUNNING:
            return (t.started_at or 0.0) + run_time(t, self._config)
        return None

    def _fire_task(self, t: Task, at: float) -> None:
        if t.status == PENDING:
            t.status = RUNNING
            t.started_at = at
        elif t.pending_failure:
            code, text = t.pending_failure
            self._end_task(t, FAILED, at, refund=True, failure=(code, text))
        else:
            self._end_task(t, SUCCEEDED, at, refund=False)

    def _promote_tasks(self, at: float) -> None:
        """Give free slots to THROTTLED tasks, oldest first."""
        limit = self._config.clip_concurrency
        held = sum(1 for t in self._live_tasks.values() if t.holds_slot)
        for t in self._live_tasks.values():
            if t.status != THROTTLED:
                continue
            if limit is not None and held >= limit:
                break
            t.status = PENDING
            t.slot_at = at
            held += 1
            self._dirty = True

    def _end_task(
        self,
        t: Task,
        status: str,
        at: float,
        *,
        refund: bool,
        failure: tuple[str, str] | None = None,
    ) -> None:
        t.status = status
        t.ended_at = at
        if failure:
            t.failure_code, t.failure = failure
        if refund and t.charged:
            self.credit_balance += t.charged
            self.charges = [c for c in self.charges if c.session_id != t.id]
            t.charged = 0
        if status != SUCCEEDED:
            self._drop_output(t.id)
        self._live_tasks.pop(t.id, None)
        self._promote_tasks(at)
        self._dirty = True

    def _charge_task(self, t: Task, amount: int, at: float) -> None:
        self.credit_balance -= amount
        t.charged += amount
        self.charges.append(Charge(at=at, amount=amount, session_id=t.id, model=t.usage_model))
