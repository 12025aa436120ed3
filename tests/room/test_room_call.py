"""A real call through LiveKit's official Python SDK (`livekit` on PyPI, Rust core) against
the loopback room: join, see the character, receive its video/audio/transcripts, talk to it,
end the call; and the lifecycle hooks that move the session."""

from __future__ import annotations

import asyncio
import math
import struct

import pytest

from simulator.room import END_CALL, LEFT, MAX_DURATION
from tests.room.support import PERSONALITY, START_SCRIPT, Call, run, wait_until

pytestmark = pytest.mark.slow

CAMERA, MICROPHONE = 1, 2  # livekit.rtc TrackSource values


def test_full_call_with_the_python_sdk(harness) -> None:
    room_name, session_id = harness.open()

    async def scenario() -> Call:
        call = Call()
        await call.join(harness.url, harness.token(room_name))
        assert session_id in harness.hooks.joins  # RUNNING as soon as a client joined
        people = list(call.room.remote_participants.values())
        assert [p.identity for p in people] == ["worker:avatar"]
        assert people[0].kind == call.rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
        await wait_until(lambda: len(call.subscribed) == 2, 10, "both character tracks")
        await wait_until(
            lambda: START_SCRIPT in call.transcript("assistant").values(), 15, "start script"
        )
        await wait_until(
            lambda: len({f[2] for f in call.frames}) >= 3 and call.audio_peak > 1000, 10, "media"
        )
        await call.say("How many days is the return window for shoes?")
        await wait_until(
            lambda: (
                1 in call.transcript("assistant") and call.transcript("assistant")[1].endswith(".")
            ),
            15,
            "reply",
        )
        await call.room.local_participant.publish_data(b'{"type":"END_CALL"}', reliable=True)
        await asyncio.wait_for(call.disconnected.wait(), 10)
        await call.leave()
        return call

    call = run(scenario())
    assert {(identity, source) for identity, source, _ in call.subscribed} == {
        ("worker:avatar", CAMERA),
        ("worker:avatar", MICROPHONE),
    }
    assert {(w, h) for w, h, _ in call.frames} == {(1088, 704)}
    assert len(call.frames) >= 15
    assert call.transcript("user") == {0: "How many days is the return window for shoes?"}
    reply = call.transcript("assistant")[1]
    assert "The return window is 30 days for unworn shoes with the receipt." in reply
    spoken = " ".join(call.transcript("assistant").values())
    assert PERSONALITY.split(".")[0] not in spoken and "instructions" not in spoken
    assert all(sender == "worker:avatar" and topic == "" for sender, topic, _ in call.packets)
    ending = harness.hooks.wait_end(session_id)
    assert ending.reason == END_CALL
    assert isinstance(ending.duration, int) and ending.duration >= 1
    assert [e["role"] for e in ending.transcript] == ["assistant", "user", "assistant"]
    assert harness.server.room(room_name) is None


def test_last_client_leaving_ends_the_room(harness) -> None:
    room_name, session_id = harness.open(start_script="Hi.")

    async def scenario() -> None:
        call = Call()
        await call.join(harness.url, harness.token(room_name))
        await wait_until(lambda: call.transcript("assistant").get(0) == "Hi.", 10, "greeting")
        await call.leave()

    run(scenario())
    ending = harness.hooks.wait_end(session_id)
    assert ending.reason == LEFT and ending.duration >= 0


def test_max_duration_ends_the_room_and_the_sdk_sees_it(harness) -> None:
    room_name, session_id = harness.open(max_duration=2)

    async def scenario() -> float:
        call = Call()
        await call.join(harness.url, harness.token(room_name))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(call.disconnected.wait(), 8)
        elapsed = loop.time() - started
        await call.leave()
        return elapsed

    elapsed = run(scenario())
    ending = harness.hooks.wait_end(session_id)
    assert ending.reason == MAX_DURATION and ending.duration == 2
    assert 1.0 < elapsed < 4.0


def _tone(seconds: float, rate: int = 48000, amplitude: int = 9000) -> bytes:
    count = int(seconds * rate)
    return struct.pack(
        f"<{count}h",
        *(int(amplitude * math.sin(2 * math.pi * 220 * i / rate)) for i in range(count)),
    )


def test_spoken_turn_is_heard_and_answered(harness) -> None:
    room_name, session_id = harness.open(start_script="Hi.")

    async def scenario() -> Call:
        call = Call()
        rtc = call.rtc
        await call.join(harness.url, harness.token(room_name))
        source = rtc.AudioSource(48000, 1)
        track = rtc.LocalAudioTrack.create_audio_track("mic", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await call.room.local_participant.publish_track(track, options)
        await wait_until(lambda: call.transcript("assistant").get(0) == "Hi.", 10, "greeting")
        await wait_until(lambda: call.speaking[-1:] == [False], 10, "greeting finished")
        loud, quiet = _tone(1.2), bytes(2 * 480)
        for chunk in [loud[i : i + 960] for i in range(0, len(loud), 960)] + [quiet] * 150:
            await source.capture_frame(rtc.AudioFrame(chunk, 48000, 1, len(chunk) // 2))
            if call.transcript("user"):
                break
        await wait_until(lambda: 1 in call.transcript("assistant"), 10, "reply to speech")
        await call.leave()
        return call

    call = run(scenario())
    heard = call.transcript("user")[0]
    assert heard.startswith("[Speech heard for ") and heard.endswith(" s]")
    seconds = float(heard.split("for ")[1].split(" s")[0])
    assert 0.8 <= seconds <= 2.0
    assert "heard you" in call.transcript("assistant")[1]
    harness.hooks.wait_end(session_id)


def test_rpc_to_the_character_is_refused_as_unsupported(harness) -> None:
    room_name, session_id = harness.open(start_script="Hi.")

    async def scenario() -> int:
        call = Call()
        await call.join(harness.url, harness.token(room_name))
        try:
            await call.room.local_participant.perform_rpc(
                destination_identity="worker:avatar",
                method="lookup",
                payload="{}",
                response_timeout=5,
            )
        except call.rtc.RpcError as error:
            code = error.code
        else:
            code = 0
        await call.leave()
        return code

    assert run(scenario()) == 1400
    harness.hooks.wait_end(session_id)
