"""Malformed requests, made with plain httpx: each gets the right 4xx with an
``{"error": str}`` body, and the simulator's state is unchanged afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.simulator.simtest_helpers import (
    PRESET_AVATAR,
    PRESET_VOICE,
    Sim,
    assert_refused,
    send_malformed,
    state_but_requests,
    with_,
    without,
)

UNKNOWN_UUID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
SESSION = {"model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "influencer"}}
AVATAR = {
    "name": "Ada",
    "referenceImage": "https://example.com/face.png",
    "personality": "p",
    "voice": {"type": "runway-live-preset", "presetId": "clara"},
}
VOICE = {
    "name": "V",
    "from": {"type": "text", "prompt": "A calm and friendly voice", "model": "eleven_ttv_v3"},
}
TOOL = {"type": "client_event", "name": "show", "description": "d"}


@dataclass
class Case:
    id: str
    method: str
    path: str
    status: int
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str | None] = field(default_factory=dict)
    validation: bool = False  # expect the Zod-like issues/docUrl shape


CASES = [
    # realtime sessions ---------------------------------------------------------------
    Case("session-non-json", "POST", "/v1/realtime_sessions", 400, content=b"{not json"),
    Case(
        "session-text-plain",
        "POST",
        "/v1/realtime_sessions",
        400,
        content=b"{}",
        headers={"Content-Type": "text/plain"},
    ),
    Case(
        "session-no-content-type",
        "POST",
        "/v1/realtime_sessions",
        400,
        content=b"{}",
        headers={"Content-Type": None},
    ),
    Case("session-empty-body", "POST", "/v1/realtime_sessions", 400, content=b"", validation=True),
    Case(
        "session-array-body", "POST", "/v1/realtime_sessions", 400, json=[SESSION], validation=True
    ),
    Case(
        "session-missing-model",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=without(SESSION, "model"),
        validation=True,
    ),
    Case(
        "session-wrong-model",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, model="gen4"),
        validation=True,
    ),
    Case(
        "session-unknown-preset",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, avatar={"type": "runway-preset", "presetId": "robot"}),
        validation=True,
    ),
    Case(
        "session-unknown-avatar-type",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, avatar={"type": "clone", "presetId": "influencer"}),
        validation=True,
    ),
    Case(
        "session-avatar-bad-uuid",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, avatar={"type": "custom", "avatarId": "123"}),
        validation=True,
    ),
    Case(
        "session-avatar-unknown",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, avatar={"type": "custom", "avatarId": UNKNOWN_UUID}),
    ),
    Case(
        "session-maxduration-low",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, maxDuration=9),
        validation=True,
    ),
    Case(
        "session-maxduration-high",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, maxDuration=1801),
        validation=True,
    ),
    Case(
        "session-maxduration-string",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, maxDuration="300"),
        validation=True,
    ),
    Case(
        "session-maxduration-float",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, maxDuration=30.5),
        validation=True,
    ),
    Case(
        "session-maxduration-bool",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, maxDuration=True),
        validation=True,
    ),
    Case(
        "session-empty-personality",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, personality=""),
        validation=True,
    ),
    Case(
        "session-long-startscript",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, startScript="x" * 2001),
        validation=True,
    ),
    Case(
        "session-unknown-key",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, livekitt={}),
        validation=True,
    ),
    Case(
        "session-too-many-tools",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, tools=[with_(TOOL, name=f"t{i}") for i in range(21)]),
        validation=True,
    ),
    Case(
        "session-bad-tool-name",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, tools=[with_(TOOL, name="1-bad")]),
        validation=True,
    ),
    Case(
        "session-rpc-timeout-range",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(SESSION, tools=[with_(TOOL, type="backend_rpc", timeoutSeconds=9)]),
        validation=True,
    ),
    Case(
        "session-livekit-missing-token",
        "POST",
        "/v1/realtime_sessions",
        400,
        json=with_(
            SESSION, integration={"type": "livekit", "url": "wss://lk.example.com", "roomName": "r"}
        ),
        validation=True,
    ),
    # avatars ---------------------------------------------------------------------------
    Case(
        "avatar-long-name",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, name="n" * 51),
        validation=True,
    ),
    Case(
        "avatar-http-image",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, referenceImage="http://example.com/face.png"),
        validation=True,
    ),
    Case(
        "avatar-bad-base64",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, referenceImage="data:image/png;base64,@@@@not-base64@@@@"),
    ),
    Case(
        "avatar-unknown-voice",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, voice={"type": "runway-live-preset", "presetId": "bob"}),
        validation=True,
    ),
    Case(
        "avatar-missing-personality",
        "POST",
        "/v1/avatars",
        400,
        json=without(AVATAR, "personality"),
        validation=True,
    ),
    Case(
        "avatar-too-many-documents",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, documentIds=[UNKNOWN_UUID] * 51),
        validation=True,
    ),
    Case(
        "avatar-unknown-document",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, documentIds=[UNKNOWN_UUID]),
    ),
    Case(
        "avatar-bad-image-processing",
        "POST",
        "/v1/avatars",
        400,
        json=with_(AVATAR, imageProcessing="max"),
        validation=True,
    ),
    Case("avatar-patch-empty", "PATCH", "/v1/avatars/{avatar}", 400, json={}, validation=True),
    Case(
        "avatar-patch-wrong-type",
        "PATCH",
        "/v1/avatars/{avatar}",
        400,
        json={"name": 123},
        validation=True,
    ),
    Case(
        "avatar-patch-unknown-key",
        "PATCH",
        "/v1/avatars/{avatar}",
        400,
        json={"nickname": "x"},
        validation=True,
    ),
    Case("avatar-bad-uuid", "GET", "/v1/avatars/not-a-uuid", 400, validation=True),
    Case("avatar-unknown-id", "GET", f"/v1/avatars/{UNKNOWN_UUID}", 404),
    # documents -------------------------------------------------------------------------
    Case(
        "document-empty-content",
        "POST",
        "/v1/documents",
        400,
        json={"name": "n", "content": ""},
        validation=True,
    ),
    Case(
        "document-long-name",
        "POST",
        "/v1/documents",
        400,
        json={"name": "n" * 256, "content": "c"},
        validation=True,
    ),
    Case("document-patch-empty", "PATCH", "/v1/documents/{doc}", 400, json={}, validation=True),
    Case("document-delete-bad-uuid", "DELETE", "/v1/documents/123", 400, validation=True),
    Case("document-bad-sort", "GET", "/v1/documents?sort=name", 400, validation=True),
    # voices ----------------------------------------------------------------------------
    Case(
        "voice-short-prompt",
        "POST",
        "/v1/voices",
        400,
        json=with_(
            VOICE, **{"from": {"type": "text", "prompt": "short", "model": "eleven_ttv_v3"}}
        ),
        validation=True,
    ),
    Case(
        "voice-bad-source",
        "POST",
        "/v1/voices",
        400,
        json=with_(VOICE, **{"from": {"type": "video", "prompt": "x" * 30}}),
        validation=True,
    ),
    Case(
        "voice-empty-description",
        "POST",
        "/v1/voices",
        400,
        json=with_(VOICE, description=""),
        validation=True,
    ),
    Case(
        "voice-preview-bad-model",
        "POST",
        "/v1/voices/preview",
        400,
        json={"model": "tts-1", "prompt": "A calm and friendly voice"},
        validation=True,
    ),
    # uploads, organization, pagination ---------------------------------------------------
    Case(
        "upload-bad-type",
        "POST",
        "/v1/uploads",
        400,
        json={"filename": "a.png", "type": "permanent"},
        validation=True,
    ),
    Case(
        "usage-bad-date",
        "POST",
        "/v1/organization/usage",
        400,
        json={"startDate": "yesterday"},
        validation=True,
    ),
    Case("avatar-usage-missing-dates", "GET", "/v1/avatar_usage", 400, validation=True),
    Case("limit-zero", "GET", "/v1/avatars?limit=0", 400, validation=True),
    Case("limit-too-big", "GET", "/v1/voices?limit=101", 400, validation=True),
    Case("limit-not-int", "GET", "/v1/avatar_conversations?limit=abc", 400, validation=True),
    Case("cursor-garbage", "GET", "/v1/avatars?cursor=garbage", 400, validation=True),
    Case("session-unknown-id", "GET", f"/v1/realtime_sessions/{UNKNOWN_UUID}", 404),
    Case("method-not-allowed", "PUT", "/v1/avatars", 405),
    # auth and headers ------------------------------------------------------------------
    Case("no-authorization", "GET", "/v1/organization", 401, headers={"Authorization": None}),
    Case("short-key", "GET", "/v1/organization", 401, headers={"Authorization": "Bearer key_abc"}),
    Case("basic-auth", "GET", "/v1/organization", 401, headers={"Authorization": "Basic a2V5Og=="}),
    Case("missing-version", "GET", "/v1/organization", 400, headers={"X-Runway-Version": None}),
    Case(
        "wrong-version", "GET", "/v1/organization", 400, headers={"X-Runway-Version": "2023-01-01"}
    ),
    # consume ------------------------------------------------------------------------
    Case("consume-with-api-key", "POST", "/v1/realtime_sessions/{session}/consume", 404, json={}),
    Case(
        "consume-wrong-key",
        "POST",
        "/v1/realtime_sessions/{session}/consume",
        404,
        json={},
        headers={"Authorization": "Bearer stk_wrong"},
    ),
    Case(
        "consume-wrong-content-type",
        "POST",
        "/v1/realtime_sessions/{session}/consume",
        400,
        content=b"{}",
        headers={"Authorization": "{session_key}", "Content-Type": "text/plain"},
    ),
]


@pytest.fixture
def world(sim: Sim, client) -> dict[str, str]:
    """A document, a READY avatar and a READY session, so requests have targets."""
    doc = client.documents.create(name="doc", content="content").id
    avatar = client.avatars.create(
        name="Ada",
        personality="p",
        reference_image="https://example.com/a.png",
        voice=PRESET_VOICE,
        document_ids=[doc],
    ).id
    session_id, key = sim.ready_session(client, avatar=PRESET_AVATAR)
    sim.advance(1)
    return {"doc": doc, "avatar": avatar, "session": session_id, "session_key": f"Bearer {key}"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_request(case: Case, sim: Sim, world: dict[str, str]) -> None:
    before = state_but_requests(sim.state())
    assert_refused(send_malformed(sim, case, world, case.json), case.status, case.validation)
    assert state_but_requests(sim.state()) == before
