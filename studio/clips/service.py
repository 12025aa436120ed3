"""Clips: render a video of a character speaking a script or an audio file, or one script in two
to four voices side by side; follow them, cancel them, serve their videos.

Every check (`studio.clips.forms`) runs before anything is written upstream; a clip is put on
record before Runway is asked, so a failed create is still in the list with its reason. One
`ClipFollower` polls every open task (the tab only reads the store).
"""

from __future__ import annotations

import base64
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from studio.catalog.characters import CharacterService
from studio.catalog.documents import DocumentService
from studio.catalog.voices import VoiceService, voice_label
from studio.clips.estimate import describe_estimate, estimated_credits, speech_seconds
from studio.clips.follower import ClipFollower
from studio.clips.forms import (
    AudioFile,
    audio_speech,
    check_character,
    check_compare_voices,
    check_script,
    text_speech,
    voice_override,
)
from studio.clips.store import ClipStore, ClipTotals, NewClip
from studio.clips.videos import VideoCopies
from studio.clips.words import (
    AUDIO_DATA_URI_MAX,
    CANCELLED,
    CANCELLED_BY_STUDIO,
    OUTPUT_MAX_BYTES,
    OWN_VOICE,
    OWN_VOICE_LABEL,
    SCRIPT_MAX,
    SUCCEEDED,
    is_terminal,
)
from studio.errors import StudioError
from studio.netguard import fetch_public
from studio.runway import RunwayGateway
from studio.vocabulary import PRESET_AVATARS, READY, VOICE_PRESETS

log = logging.getLogger(__name__)

# A create that has not answered in this long is not coming back (a replica stopped mid-way).
CREATE_GRACE = 120.0
PARAGRAPHS_PER_DOCUMENT = 20
OUTPUT_FETCH_SECONDS = 60.0
# Longer than one cancel takes (two polls and a DELETE, each retried); a replica that died
# holding the claim delays the follower's retry by at most this.
CANCEL_CLAIM_SECONDS = 120.0


@dataclass(frozen=True)
class Estimate:
    seconds: float
    credits: int
    measured: bool  # audio is measured; a script's length is a heuristic
    text: str


@dataclass(frozen=True)
class Plan:
    """One clip, checked and ready to send."""

    avatar_id: str
    avatar_name: str
    voice: str
    voice_name: str
    estimate: Estimate
    script: str | None = None
    audio: AudioFile | None = None


class ClipService:
    def __init__(self, gateway: RunwayGateway, store: ClipStore, characters: CharacterService,
                 documents: DocumentService, voices: VoiceService, videos: VideoCopies, clock: Any,
                 *, credits_per_second: float, usd_per_credit: float, poll_interval: float) -> None:
        self.gateway, self.store, self.videos, self.clock = gateway, store, videos, clock
        self.characters, self.documents, self.voices = characters, documents, voices
        self.credits_per_second, self.usd_per_credit = credits_per_second, usd_per_credit
        self.follower = ClipFollower(gateway, store, videos, clock, poll_interval, self._cancel_upstream)

    def open(self) -> None:
        now = self.clock.now()
        self.store.close_interrupted(now, older_than=now - (0 if not self.store.db.shared else CREATE_GRACE))
        self.follower.start()

    async def close(self) -> None:
        await self.follower.stop()

    # Choices for the form ----------------------------------------------------------------

    async def character_choices(self) -> list[tuple[str, str]]:
        """(label, id): custom characters first (with their status when not READY), then presets."""
        avatars = await self.characters.list_characters()
        custom = [(a["name"] if a.get("status") == READY else f"{a['name']} ({str(a.get('status')).lower()})",
                   a["id"]) for a in avatars]
        return custom + [(f"{name} (preset)", preset_id) for preset_id, name in PRESET_AVATARS.items()]

    async def voice_choices(self) -> list[tuple[str, str]]:
        """The character's own voice, the account's ready custom voices, then the 30 presets."""
        try:
            custom = [v for v in await self.voices.list_voices() if v.get("status") == READY]
        except StudioError:
            custom = []
        return [(OWN_VOICE_LABEL, OWN_VOICE), *self.voices.voice_choices(custom)]

    async def script_sources(self, avatar_id: str) -> list[tuple[str, str]]:
        """(label, text) a script can be filled from: the start script, then paragraphs of the
        character's knowledge documents."""
        if not avatar_id or avatar_id in PRESET_AVATARS:
            return []
        avatar = await self.characters.get_character(avatar_id)
        sources = []
        if (avatar.get("start_script") or "").strip():
            sources.append(("Start script", avatar["start_script"].strip()))
        for document_id in avatar.get("document_ids") or []:
            try:
                document = await self.documents.get_document(document_id)
            except StudioError:
                continue
            for number, paragraph in enumerate(paragraphs(document.get("content") or ""), start=1):
                preview = paragraph if len(paragraph) <= 60 else paragraph[:57].rstrip() + "…"
                sources.append((f"{document.get('name', 'Document')} ¶{number}: {preview}", paragraph))
        return sources

    # Estimates ---------------------------------------------------------------------------

    def estimate(self, script: str | None = None, audio: AudioFile | None = None) -> Estimate:
        measured = audio is not None
        seconds = audio.seconds if audio is not None else speech_seconds(script or "")
        credits = estimated_credits(seconds, self.credits_per_second)
        return Estimate(seconds, credits, measured,
                        describe_estimate(seconds, credits, self.usd_per_credit, measured=measured))

    # Rendering ---------------------------------------------------------------------------

    async def plan(self, avatar_id: str, *, script: str | None = None, audio: AudioFile | None = None,
                   voices: list[str] | None = None) -> list[Plan]:
        """Check a request whole and return one plan per voice; raises `ClipRefused` (or a
        `StudioError` for a character Runway does not know) and sends nothing upstream."""
        text = None if audio is not None else check_script(script)
        choices = voices or [OWN_VOICE]
        for choice in choices:
            voice_override(choice)
        if audio is not None and choices != [OWN_VOICE]:
            voices_note = "A voice override applies to scripts only; uploaded audio keeps its own voice."
            raise StudioError("clip_voice_with_audio", voices_note, 400)
        avatar = await self._character(avatar_id)
        check_character(avatar)
        estimate = self.estimate(text, audio)
        return [Plan(avatar_id, avatar["name"], choice, await self._voice_name(choice, avatar), estimate,
                     text, audio) for choice in choices]

    async def render(self, avatar_id: str, *, client_id: str, script: str | None = None,
                     audio: AudioFile | None = None, voice: str | None = None) -> dict[str, Any]:
        """Render one clip; the clip's row (status PENDING once Runway took it)."""
        [plan] = await self.plan(avatar_id, script=script, audio=audio, voices=[voice or OWN_VOICE])
        return await self._start(plan, client_id, group_id=None)

    async def compare(self, avatar_id: str, script: str | None, voices: list[str], *,
                      client_id: str) -> tuple[str, list[dict[str, Any]]]:
        """One script in 2–4 voices: one clip per voice in a new group; (group id, rows)."""
        plans = await self.plan(avatar_id, script=script, voices=check_compare_voices(voices))
        group_id = uuid.uuid4().hex
        rows, first_error = [], None
        for position, plan in enumerate(plans):
            try:
                rows.append(await self._start(plan, client_id, group_id=group_id, position=position))
            except StudioError as error:  # the clip is on record as failed; the others go on
                first_error = first_error or error
        if not rows and first_error is not None:
            raise first_error
        return group_id, self.store.list(group_id=group_id)

    async def _start(self, plan: Plan, client_id: str, group_id: str | None,
                     position: int | None = None) -> dict[str, Any]:
        clip_id = uuid.uuid4().hex
        self.store.add(NewClip(
            clip_id=clip_id, avatar_id=plan.avatar_id, avatar_name=plan.avatar_name, voice=plan.voice,
            voice_name=plan.voice_name, estimated_credits=plan.estimate.credits, client_id=client_id,
            script=plan.script, audio_name=plan.audio.name if plan.audio else None, group_id=group_id,
            group_position=position,
        ), self.clock.now())
        try:
            if plan.audio is not None:
                speech: dict[str, Any] = audio_speech(await self._audio_uri(plan.audio))
            else:
                speech = text_speech(plan.script or "", voice_override(plan.voice))
            task_id = await self.gateway.create_avatar_video(plan.avatar_id, speech)
        except StudioError as error:
            self.store.fail(clip_id, error.code, error.message, self.clock.now())
            raise
        except BaseException:
            self.store.fail(clip_id, "interrupted", "The studio stopped before Runway answered.", self.clock.now())
            raise
        if not self.store.attach_task(clip_id, task_id, self.clock.now()):  # cancelled meanwhile
            await self._cancel_upstream(self.store.get(clip_id) or {})
        return self.store.get(clip_id) or {}

    async def _audio_uri(self, audio: AudioFile) -> str:
        """Small files go inline as a data URI; larger ones as an ephemeral upload."""
        if len(audio.data) <= AUDIO_DATA_URI_MAX:
            return f"data:{audio.mime};base64,{base64.b64encode(audio.data).decode()}"
        suffix = PurePath(audio.name).suffix.lower() or ".mp3"
        return await self.gateway.upload(f"clip-audio{suffix}", audio.data)

    async def _character(self, avatar_id: str) -> dict[str, Any]:
        if avatar_id in PRESET_AVATARS:
            return {"id": avatar_id, "name": PRESET_AVATARS[avatar_id], "status": READY, "voice": None}
        if not avatar_id:
            raise StudioError("clip_character_missing", "Pick a character first.", 400)
        try:
            return await self.characters.get_character(avatar_id)
        except StudioError as error:
            if error.code == "not_found":
                raise StudioError("clip_character_unknown", "There is no character with that id.", 404) from error
            raise

    async def _voice_name(self, choice: str, avatar: dict[str, Any]) -> str:
        kind, _, value = choice.partition(":")
        if kind == "preset" and value in VOICE_PRESETS:
            return value.capitalize()
        if kind == "custom":
            try:
                return f"{(await self.gateway.get_voice(value)).get('name') or 'custom voice'} (custom)"
            except StudioError:
                return "custom voice"
        own = f"{avatar['name']}'s own voice"
        return f"{own} ({voice_label(avatar['voice'])})" if avatar.get("voice") else own

    # Cancelling --------------------------------------------------------------------------

    async def cancel(self, clip_id: str) -> dict[str, Any]:
        """Cancel a clip still rendering; one Runway does not confirm stays pending and the
        follower retries. A clip that already ended is left as it is."""
        row = self.clip(clip_id)
        if is_terminal(row["status"]):
            return row
        self.store.mark_cancel_pending(clip_id, True, self.clock.now())
        if row["task_id"]:
            await self._cancel_upstream(row)
        return self.clip(clip_id)

    async def _cancel_upstream(self, row: dict[str, Any]) -> bool:
        """DELETE the task, unless it already ended (DELETE would then delete a finished video);
        True once the clip's row is final. One canceller at a time: a second DELETE racing the
        first would find the task cancelled, and delete it."""
        clip_id = row["clip_id"]
        if not self.store.claim_cancel(clip_id, self.clock.now(), hold=CANCEL_CLAIM_SECONDS):
            return False
        try:
            return await self._send_cancel(clip_id, row["task_id"])
        finally:
            self.store.release_cancel(clip_id)

    async def _send_cancel(self, clip_id: str, task_id: str) -> bool:
        try:
            task = await self.gateway.retrieve_task(task_id)
            if task.terminal:
                await self.follower.record(clip_id, task)
                return True
            await self.gateway.cancel_task(task_id)
        except StudioError as error:
            if error.code != "not_found":
                log.info("Cancel of clip %s not confirmed (%s); retrying later", clip_id, error.code)
                return False
        try:
            task = await self.gateway.retrieve_task(task_id)
        except StudioError:
            task = None  # Runway may forget a cancelled task at once
        if task is not None and task.terminal and task.status != CANCELLED:
            await self.follower.record(clip_id, task)  # it ended another way first
        else:
            self.store.record(clip_id, CANCELLED, self.clock.now(), failure=CANCELLED_BY_STUDIO,
                              failure_code="cancelled", cost_credits=task.cost_credits if task else None)
        return True

    # Reading -----------------------------------------------------------------------------

    def clip(self, clip_id: str) -> dict[str, Any]:
        row = self.store.get(clip_id) if clip_id else None
        if row is None:
            raise StudioError("clip_not_found", "No clip with that id.", 404)
        return row

    def list_clips(self, limit: int = 200, avatar_id: str | None = None) -> list[dict[str, Any]]:
        return self.store.list(limit=limit, avatar_id=avatar_id)

    def group(self, group_id: str) -> list[dict[str, Any]]:
        return self.store.list(group_id=group_id) if group_id else []

    def totals(self, since: float) -> ClipTotals:
        return self.store.totals(since)

    async def video_file(self, clip_id: str) -> tuple[Path, dict[str, Any]]:
        """The clip's MP4 on disk (fetched from Runway's output first if needed), with its row."""
        row = self.clip(clip_id)
        if row["status"] != SUCCEEDED or not row["output_url"]:
            raise StudioError("clip_not_ready", "This clip has no video yet.", 409)
        expires = row["output_expires_at"]
        if expires is not None and self.clock.now() >= expires:
            self.videos.forget(clip_id)
            raise StudioError("clip_expired", "This clip's video has expired: Runway keeps outputs for a "
                              "day or two. Render it again to get a new one.", 410)
        return await self.videos.ensure(clip_id, row["output_url"]), row


def paragraphs(content: str) -> list[str]:
    """A document's paragraphs as speakable text: blank-line separated, Markdown marks dropped,
    at most `PARAGRAPHS_PER_DOCUMENT`, each within a script's limit."""
    found = []
    for block in re.split(r"\n\s*\n", content):
        lines = [re.sub(r"^\s*(#+|[-*+>]|\d+[.)])\s+", "", line).strip() for line in block.splitlines()]
        text = " ".join(line for line in lines if line)
        if len(re.findall(r"\w+", text)) >= 3:
            found.append(text[:SCRIPT_MAX])
        if len(found) == PARAGRAPHS_PER_DOCUMENT:
            break
    return found



def build_clips(settings: Any, upstream_url: str, gateway: RunwayGateway, db: Any, clock: Any, *,
                characters: CharacterService, documents: DocumentService, voices: VoiceService) -> ClipService:
    """The clip service over the studio's database, with its copies of outputs in the data
    directory; outputs come from the studio's own upstream (trusted) or public https only."""

    async def fetch(url: str) -> bytes:
        return await fetch_public(url, max_bytes=OUTPUT_MAX_BYTES, timeout=OUTPUT_FETCH_SECONDS,
                                  allow_private=settings.allow_private_urls, trusted_origins=(upstream_url,))

    videos = VideoCopies(settings.data_dir / "clips", fetch)
    return ClipService(gateway, ClipStore(db), characters, documents, voices, videos, clock,
                       credits_per_second=settings.clip_credits_per_second,
                       usd_per_credit=settings.usd_per_credit, poll_interval=settings.clip_poll_interval)
