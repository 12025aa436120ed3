"""Pure pieces of the room: tokens, the character's replies and voice, turn detection,
transcript deltas, data packets, ICE candidate parsing, the face frames."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from livekit.protocol import models

from simulator.room import TokenError, mint_token, verify_token
from simulator.room.brain import HEARD, NO_DOCUMENTS, NO_MATCH, Brain
from simulator.room.data import USER_TEXT_TOPIC, read_user_packet, rpc_refusal, transcript
from simulator.room.face import LEVELS, FaceFrames
from simulator.room.ice import RemoteFilter, candidate_init, parse_candidate_init
from simulator.room.listen import TurnDetector, TurnSettings
from simulator.room.media import split_deltas
from simulator.room.voice import RATE, Speaker, formant_speech, style_for
from tests.room.support import KNOWLEDGE, PERSONALITY

SECRETS = {"APIk": "s3cret"}


def test_token_round_trip_carries_livekit_claims() -> None:
    token = mint_token("APIk", "s3cret", room="room-1", identity="user:1", ttl=60, name="Ann")
    grants = verify_token(token, SECRETS)
    assert (grants.room, grants.identity, grants.name, grants.can_publish) == (
        "room-1",
        "user:1",
        "Ann",
        True,
    )
    assert grants.token_id and grants.expires_at > time.time()


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (mint_token("APIk", "nope", room="r", identity="u"), "cryptographic"),
        (mint_token("APIk", "s3cret", room="r", identity="u", now=time.time() - 7200), "expired"),
        (
            mint_token("APIk", "s3cret", room="r", identity="u", now=time.time() + 7200),
            "not valid yet",
        ),
        (mint_token("APIx", "s3cret", room="r", identity="u"), "invalid API key"),
        ("a.b", "malformed"),
        ("", "Bearer"),
    ],
)
def test_bad_tokens_raise_401(token: str, words: str) -> None:
    with pytest.raises(TokenError) as error:
        verify_token(token, SECRETS)
    assert error.value.status == 401 and words in str(error.value)


def test_reply_quotes_the_best_matching_document_sentence() -> None:
    brain = Brain("Mina", PERSONALITY, None, [KNOWLEDGE])
    reply = brain.reply_to_text("when does the denver store open?")
    assert reply == "Great question! Our flagship store in Denver opens at nine in the morning."
    assert brain.reply_to_text("qwerty") == NO_MATCH
    assert Brain("Mina", None, None, []).reply_to_text("hi") == NO_DOCUMENTS


def test_the_character_never_reads_its_instructions() -> None:
    brain = Brain("Mina", PERSONALITY, None, [PERSONALITY + " " + KNOWLEDGE])
    said = [brain.greeting(), brain.reply_to_text("warm upbeat product guide instructions")]
    said += [brain.reply_to_speech(1.0) for _ in range(6)]
    assert not any("You are" in line or "instructions" in line for line in said)
    assert brain.greeting() == "Hi, I'm Mina. What would you like to talk about?"
    assert said[2] == HEARD


def test_voices_differ_by_preset_and_speech_is_audible() -> None:
    styles = {style_for(p) for p in ("clara", "marcus", "max", "victoria", "felix")}
    assert len(styles) == 5
    samples = Speaker("clara").synthesise("Hello there.")
    assert samples.dtype == np.int16 and samples.size > RATE // 2 and np.abs(samples).max() > 3000
    fallback = formant_speech("Hello there.", style_for("marcus"))
    assert fallback.size > RATE // 4 and np.abs(fallback).max() > 3000


def test_turn_detection_needs_speech_then_quiet() -> None:
    detector = TurnDetector(TurnSettings(threshold_dbfs=-40, min_speech=0.25, hangover=0.5))
    ends = []
    for step in range(200):  # 1 s of speech at t=0.2..1.2, then silence
        now = step * 0.02
        level = -20.0 if 0.2 <= now < 1.2 else -90.0
        ends.append(detector.feed(now, level, 0.02))
    turns = [e for e in ends if e is not None]
    assert turns == [1.0]
    blip = TurnDetector(TurnSettings(min_speech=0.25, hangover=0.5))
    assert [blip.feed(t * 0.02, -10.0 if t < 3 else -90.0, 0.02) for t in range(100)].count(
        None
    ) == 100


def test_transcript_deltas_rebuild_the_text_in_time_order() -> None:
    text = "The return window is 30 days for unworn shoes with the receipt."
    deltas = split_deltas(text, 48000)
    assert "".join(d for _, d in deltas) == text
    assert [o for o, _ in deltas] == sorted(o for o, _ in deltas) and deltas[0][0] == 0
    body = json.loads(transcript("assistant", 2, "hi"))
    assert body == {"type": "transcription", "role": "assistant", "turn": 2, "text": "hi"}


def test_user_packets_are_read_strictly() -> None:
    def packet(payload: bytes, topic: str = "") -> models.UserPacket:
        return models.UserPacket(payload=payload, topic=topic)

    assert read_user_packet(packet(b'{"type":"END_CALL"}')).kind == "end_call"
    typed = read_user_packet(
        packet(b'{"type":"user_text","text":"  hi   there "}', USER_TEXT_TOPIC)
    )
    assert (typed.kind, typed.text) == ("user_text", "hi there")
    assert read_user_packet(packet(b"plain words", USER_TEXT_TOPIC)).text == "plain words"
    for hostile in (b"\xff\xfe", b'{"type":"user_text","text":5}', b'{"type":"x"}', b"   "):
        assert read_user_packet(packet(hostile, USER_TEXT_TOPIC)).kind == "other"
    assert read_user_packet(packet(b"hi", "other-topic")).kind == "other"
    ack, response = rpc_refusal(models.RpcRequest(id="r1", method="m", version=1))
    assert ack.rpc_ack.request_id == "r1" and response.rpc_response.error.code == 1400


def test_candidates_parse_and_only_loopback_is_accepted() -> None:
    candidate = parse_candidate_init(
        json.dumps(
            {
                "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
            }
        )
    )
    assert candidate is not None and (candidate.ip, candidate.port) == ("127.0.0.1", 50000)
    assert parse_candidate_init(json.dumps({"candidate": ""})) is None
    assert json.loads(candidate_init(candidate))["candidate"].startswith("candidate:1 1 udp")
    loopback = RemoteFilter(("127.0.0.0/8", "::1/128"))
    assert (
        loopback.allows("127.0.0.1")
        and not loopback.allows("192.0.2.2")
        and not loopback.allows("x.local")
    )
    sdp = "v=0\r\na=candidate:1 1 udp 1 10.0.0.1 9 typ host\r\na=candidate:2 1 udp 1 127.0.0.1 9 typ host\r\n"
    assert "10.0.0.1" not in loopback.clean_sdp(sdp) and "127.0.0.1" in loopback.clean_sdp(sdp)
    for bad in ("{", "[]", '{"candidate": 1}', '{"candidate": "nonsense"}'):
        with pytest.raises(ValueError):
            parse_candidate_init(bad)


def test_face_frames_move_with_loudness_and_idle(tmp_path) -> None:
    from PIL import Image

    path = tmp_path / "ref.png"
    gradient = np.linspace(0, 255, 300 * 400 * 3).reshape(400, 300, 3).astype(np.uint8)
    Image.fromarray(gradient).save(path)
    for image in (path.read_bytes(), None, b"not an image"):
        face = FaceFrames(image, "Mina", 272, 176)
        assert face.frame(0, 0).shape == (176 * 3 // 2, 272)
        assert not np.array_equal(face.frame(0, 0), face.frame(0, LEVELS - 1))
        assert not np.array_equal(face.frame(0, 0), face.frame(2, 0))


SIMULCAST_OFFER = (
    "v=0",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "a=mid:0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96",
    "a=mid:1",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "a=sendonly",
    "a=rid:q send",
    "a=rid:h send",
    "a=simulcast:send q;h",
)


def test_answers_accept_offered_simulcast_layers() -> None:
    from simulator.room.sdp import accept_simulcast

    offer = "\r\n".join(SIMULCAST_OFFER)
    answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=inactive\r\n"
    out = accept_simulcast(offer, answer).split("\r\n")
    video = out[out.index("m=video 9 UDP/TLS/RTP/SAVPF 96") :]
    for line in ("a=rid:q recv", "a=rid:h recv", "a=simulcast:recv q;h"):
        assert line in video
    assert "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" in video
    assert "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" not in video
    assert accept_simulcast("v=0\r\n", answer) == answer  # nothing offered, nothing added
