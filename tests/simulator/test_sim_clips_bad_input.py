"""Malformed avatar video and task requests, made with plain httpx: each gets the right
4xx in the simulator's error shape, and the simulator's state is unchanged afterwards."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.simulator.clip_helpers import wav_bytes
from tests.simulator.simtest_helpers import (
    PRESET_VOICE,
    Sim,
    assert_refused,
    data_uri,
    face_png,
    send_malformed,
    state_but_requests,
    with_,
    without,
)

UNKNOWN = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
PRESET = {"type": "runway-preset", "presetId": "influencer"}
TEXT = {"type": "text", "text": "Hello there."}
VIDEO = {"model": "gwm1_avatars", "avatar": PRESET, "speech": TEXT}
PATH = "/v1/avatar_videos"


@dataclass
class Case:
    id: str
    status: int
    json: Any = None
    content: bytes | None = None
    method: str = "POST"
    path: str = PATH
    headers: dict[str, str | None] = field(default_factory=dict)
    validation: bool = False  # expect the Zod-like issues/docUrl shape


def speech(**fields: Any) -> dict[str, Any]:
    return with_(VIDEO, speech=fields)


def audio(uri: str) -> dict[str, Any]:
    return speech(type="audio", audio=uri)


def custom(avatar: str) -> dict[str, Any]:
    return with_(VIDEO, avatar={"type": "custom", "avatarId": avatar})


def voiced(voice: dict[str, Any]) -> dict[str, Any]:
    return speech(**TEXT, voice=voice)


NOT_AUDIO = data_uri(b"\x00\x01 definitely not audio " * 40, "audio/mp3")
LONG_AUDIO = data_uri(wav_bytes(3.0), "audio/wav")  # longer than the 2 s the world allows

CASES = [
    # the body as a whole
    Case("non-json", 400, content=b"{not json"),
    Case("text-plain", 400, content=b"{}", headers={"Content-Type": "text/plain"}),
    Case("empty-body", 400, content=b"", validation=True),
    Case("array-body", 400, json=[VIDEO], validation=True),
    Case("unknown-key", 400, json=with_(VIDEO, duration=5), validation=True),
    # model
    Case("missing-model", 400, json=without(VIDEO, "model"), validation=True),
    Case("wrong-model", 400, json=with_(VIDEO, model="gen4_turbo"), validation=True),
    # avatar
    Case("missing-avatar", 400, json=without(VIDEO, "avatar"), validation=True),
    Case("avatar-string", 400, json=with_(VIDEO, avatar="influencer"), validation=True),
    Case("avatar-type", 400, json=with_(VIDEO, avatar={"type": "x"}), validation=True),
    Case(
        "avatar-unknown-preset",
        400,
        json=with_(VIDEO, avatar={"type": "runway-preset", "presetId": "robot"}),
        validation=True,
    ),
    Case(
        "avatar-live-voice-type",
        400,
        json=with_(VIDEO, avatar={"type": "runway-live-preset", "presetId": "influencer"}),
        validation=True,
    ),
    Case("avatar-id-not-uuid", 400, json=custom("abc"), validation=True),
    Case("avatar-unknown", 400, json=custom(UNKNOWN)),
    Case("avatar-processing", 400, json=custom("{processing_avatar}")),
    # speech
    Case("missing-speech", 400, json=without(VIDEO, "speech"), validation=True),
    Case("speech-type", 400, json=speech(type="video", text="x"), validation=True),
    Case("text-missing", 400, json=speech(type="text"), validation=True),
    Case("text-empty", 400, json=speech(type="text", text=""), validation=True),
    Case("text-too-long", 400, json=speech(type="text", text="a" * 5001), validation=True),
    Case("text-number", 400, json=speech(type="text", text=42), validation=True),
    Case("text-blank", 400, json=speech(type="text", text="   \n "), validation=True),
    Case("text-with-audio-key", 400, json=speech(**TEXT, audio="x"), validation=True),
    # voice override
    Case("voice-live-preset-type", 400, json=voiced(PRESET_VOICE), validation=True),
    Case(
        "voice-unknown-preset",
        400,
        json=voiced({"type": "preset", "presetId": "hal"}),
        validation=True,
    ),
    Case("voice-id-not-uuid", 400, json=voiced({"type": "custom", "id": "v1"}), validation=True),
    Case("voice-unknown", 400, json=voiced({"type": "custom", "id": UNKNOWN})),
    Case("voice-processing", 400, json=voiced({"type": "custom", "id": "{processing_voice}"})),
    # audio
    Case("audio-missing", 400, json=speech(type="audio"), validation=True),
    Case("audio-http", 400, json=audio("http://127.0.0.1/speech.mp3"), validation=True),
    Case("audio-ftp", 400, json=audio("ftp://example.com/speech.mp3"), validation=True),
    Case("audio-not-loopback", 400, json=audio("https://example.com/speech.mp3")),
    Case("audio-image-data-uri", 400, json=audio(data_uri(face_png())), validation=True),
    Case("audio-data-uri-plain", 400, json=audio("data:audio/wav,RIFF...."), validation=True),
    Case(
        "audio-data-uri-bad-base64", 400, json=audio("data:audio/wav;base64,@@@@"), validation=True
    ),
    Case("audio-not-audio", 400, json=audio(NOT_AUDIO), validation=True),
    Case("audio-too-long", 400, json=audio(LONG_AUDIO), validation=True),
    Case("audio-unknown-upload", 400, json=audio(f"runway://uploads/{UNKNOWN}/a.wav")),
    Case("audio-upload-of-an-image", 400, json=audio("{image_upload}"), validation=True),
    Case(
        "audio-with-voice",
        400,
        json=speech(type="audio", audio=LONG_AUDIO, voice={}),
        validation=True,
    ),
    # headers
    Case("no-api-key", 401, json=VIDEO, headers={"Authorization": None}),
    Case("missing-version", 400, json=VIDEO, headers={"X-Runway-Version": None}),
    # tasks
    Case("get-task-bad-id", 400, method="GET", path="/v1/tasks/nope", validation=True),
    Case("get-task-unknown", 404, method="GET", path=f"/v1/tasks/{UNKNOWN}"),
    Case("delete-task-bad-id", 400, method="DELETE", path="/v1/tasks/nope", validation=True),
    Case("delete-task-unknown", 404, method="DELETE", path=f"/v1/tasks/{UNKNOWN}"),
    Case(
        "get-task-no-key",
        401,
        method="GET",
        path="/v1/tasks/{task}",
        headers={"Authorization": None},
    ),
    Case("put-task", 405, method="PUT", path="/v1/tasks/{task}", json={}),
    Case("list-tasks", 404, method="GET", path="/v1/tasks"),
    # outputs
    Case("output-unsigned", 403, method="GET", path="/_outputs/{task}/clip.mp4"),
    Case("output-bad-signature", 403, method="GET", path="{tampered_output}"),
    Case(
        "output-unknown-task",
        403,
        method="GET",
        path=f"/_outputs/{UNKNOWN}/clip.mp4?Expires=9999999999&Signature=00",
    ),
]


@pytest.fixture
def world(sim: Sim, client) -> dict[str, str]:
    """A finished clip, a PROCESSING avatar and voice, an uploaded image, and a 2 s cap
    on audio, so that every case has a target."""
    sim.configure(clipMaxAudioSeconds=2.0)
    task = client.avatar_videos.create(
        model="gwm1_avatars",
        avatar={"type": "runway-preset", "preset_id": "influencer"},
        speech={"type": "audio", "audio": data_uri(wav_bytes(1.0), "audio/wav")},
    ).id
    sim.advance(30)
    output = client.tasks.retrieve(task).output[0]
    processing_avatar = client.avatars.create(
        name="Slow",
        personality="p",
        reference_image="https://example.com/a.png",
        voice=PRESET_VOICE,
    ).id
    processing_voice = client.voices.create(
        name="V",
        from_={"type": "text", "prompt": "A calm and friendly voice", "model": "eleven_ttv_v3"},
    ).id
    image_upload = client.uploads.create_ephemeral(file=("face.png", face_png(64))).uri
    signed = output[output.index("/_outputs/") :]
    return {
        "task": task,
        "tampered_output": signed.replace("Signature=", "Signature=f"),
        "processing_avatar": processing_avatar,
        "processing_voice": processing_voice,
        "image_upload": image_upload,
    }


def fill(value: Any, world: dict[str, str]) -> Any:
    """Put the world's ids into a case's body ("{processing_avatar}" and so on)."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world.get(value[1:-1], value)
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_clip_request(case: Case, sim: Sim, world: dict[str, str]) -> None:
    before = state_but_requests(sim.state())
    assert_refused(send_malformed(sim, case, world, fill(case.json, world)), case.status, case.validation)
    assert state_but_requests(sim.state()) == before


def test_a_refused_audio_upload_leaves_credits_alone(sim: Sim, client) -> None:
    """The data URI decoder refuses bytes that only claim to be audio."""
    raw = base64.b64encode(b"ID3" + b"\x00" * 600).decode()
    response = sim.api("POST", PATH, json=audio(f"data:audio/mp3;base64,{raw}"))
    assert response.status_code == 400
    assert client.organization.retrieve().credit_balance == 10_000
