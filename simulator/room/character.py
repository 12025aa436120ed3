"""The simulated character: a room participant (identity ``worker:...``, kind AGENT) that
publishes a Camera and a Microphone track, says its start script, then answers each user
turn (typed or spoken) and streams Runway-style transcripts over the data channel. A typed
turn that asks for one of its session tools makes it use the tool (actions.py) and say
what came of it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from livekit.protocol import models

from . import data
from .actions import ToolUse, ToolUser
from .brain import Brain
from .face import face_frames
from .media import MediaClock, Utterance, loudness_levels, split_deltas
from .protocol import ParticipantState, TrackState, new_sid
from .spec import CharacterSpec, RoomSettings
from .voice import Speaker

log = logging.getLogger("simulator.room")

SendData = Callable[[models.DataPacket], None]
Present = Callable[[str], bool]
ToolCallDone = Callable[[dict[str, Any]], None]


def _nobody(identity: str) -> bool:
    return False


class Character:
    def __init__(
        self,
        spec: CharacterSpec,
        settings: RoomSettings,
        send: SendData,
        on_speaking: Callable[[bool], None],
        present: Present = _nobody,
        on_tool_call: ToolCallDone | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self._send = send
        self._on_speaking = on_speaking
        self.participant = ParticipantState(
            sid=new_sid("PA_"),
            identity=spec.identity,
            name=spec.name,
            metadata=spec.metadata or json.dumps({"avatar": spec.name, "simulated": True}),
            kind=models.ParticipantInfo.Kind.AGENT,
        )
        self.audio = TrackState(
            sid=new_sid("TR_"), kind=models.TrackType.AUDIO, source=models.TrackSource.MICROPHONE,
            name="voice", mime_type="audio/opus",
        )  # fmt: skip
        self.video = TrackState(
            sid=new_sid("TR_"), kind=models.TrackType.VIDEO, source=models.TrackSource.CAMERA,
            name="avatar", mime_type="video/VP8",
            width=settings.video_width - settings.video_width % 2,
            height=settings.video_height - settings.video_height % 2,
        )  # fmt: skip
        for track in (self.audio, self.video):
            self.participant.tracks[track.sid] = track
        self.brain = Brain(spec.name, spec.personality, spec.start_script, spec.documents)
        self.speaker = Speaker(spec.voice)
        self.clock: MediaClock | None = None
        self.transcript: list[dict[str, Any]] = []
        self._turns = {"assistant": 0, "user": 0}
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=32)
        self._task: asyncio.Task[None] | None = None
        self._greeted = False
        self._on_tool_call = on_tool_call
        self.actions = ToolUser(spec.tools, spec.tool_settings, send, present)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the media clock (video waits for the face) and the conversation."""
        if self.clock is None:
            self.clock = MediaClock(None, self.settings.fps, self._on_speaking)
            self.clock.start()
            self._task = asyncio.create_task(self._converse(), name="room-character")

    async def prepare(self) -> None:
        """Draw the face in a thread (about a second of Pillow work for a new image)."""
        self.start()
        assert self.clock is not None
        if self.clock.face is None:
            loop = asyncio.get_running_loop()
            self.clock.face = await loop.run_in_executor(
                None,
                face_frames,
                self.spec.image,
                self.spec.name,
                self.video.width,
                self.video.height,
            )

    async def stop(self) -> None:
        self.actions.rpc.cancel_all()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self.clock is not None:
            await self.clock.stop()

    @property
    def busy(self) -> bool:
        return self.clock is not None and bool(self.clock.queue)

    # ---------------------------------------------------------------- inputs

    def greet(self) -> None:
        """Say the start script once (called when the first client can hear it)."""
        if not self._greeted:
            self._greeted = True
            self._offer(("greet", None))

    def heard_text(self, text: str) -> None:
        self._offer(("text", text))

    def heard_speech(self, seconds: float) -> None:
        self._offer(("speech", seconds))

    def request_tool(self, name: str, args: dict[str, Any], source: str) -> asyncio.Future[Any]:
        """Use ``name`` with ``args`` at the next turn; the future gets the call's record.

        Raises KeyError for a tool the session does not declare.
        """
        if name not in self.actions.tools:
            raise KeyError(name)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inbox.put_nowait(("tool", (name, args, source, done)))  # QueueFull: busy
        return done

    def _offer(self, item: tuple[str, Any]) -> None:
        try:
            self._inbox.put_nowait(item)
        except asyncio.QueueFull:
            log.info("character inbox full; dropping a user turn")

    # ---------------------------------------------------------------- conversation

    async def _converse(self) -> None:
        while True:
            kind, value = await self._inbox.get()
            if kind == "greet":
                await self.say(self.brain.greeting())
            elif kind == "text":
                self._user_turn(value)
                wanted = self.actions.match(value)
                if wanted is None:
                    await self.say(self.brain.reply_to_text(value))
                else:
                    await self.use_tool(*wanted, source="user_text")
            elif kind == "tool":
                name, args, source, done = value
                await self.use_tool(name, args, source, done)
            elif kind == "speech":
                self._user_turn(f"[Speech heard for {value:.1f} s]")
                await self.say(self.brain.reply_to_speech(value))

    async def use_tool(
        self,
        name: str,
        args: dict[str, Any],
        source: str,
        done: asyncio.Future[Any] | None = None,
    ) -> ToolUse:
        """Call the tool, keep the call in the transcript, report it, then say the outcome."""
        use = await self.actions.use(name, args, source)
        self.transcript.append(use.transcript_entry())
        if self._on_tool_call is not None:
            try:
                self._on_tool_call(use.record)
            except Exception:  # a failing report must not silence the character
                log.exception("reporting a tool call failed")
        if done is not None and not done.done():
            done.set_result(use.record)
        if use.speech:
            await self.say(use.speech)
        return use

    def _user_turn(self, text: str) -> None:
        turn = self._turns["user"]
        self._turns["user"] += 1
        self.transcript.append({"role": "user", "content": text})
        self._publish(data.transcript("user", turn, text))

    async def say(self, text: str) -> None:
        """Speak ``text``; its transcript deltas go out as the audio reaches them."""
        assert self.clock is not None
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(None, self.speaker.synthesise, text)
        levels = await loop.run_in_executor(None, loudness_levels, samples)
        turn = self._turns["assistant"]
        self._turns["assistant"] += 1
        self.transcript.append({"role": "assistant", "content": text})
        utterance = Utterance(
            text=text,
            samples=samples,
            deltas=split_deltas(text, samples.size),
            levels=levels,
            on_delta=lambda delta: self._publish(data.transcript("assistant", turn, delta)),
        )
        await self.clock.play(utterance)

    def _publish(self, payload: bytes) -> None:
        self._send(data.user_packet(payload))
