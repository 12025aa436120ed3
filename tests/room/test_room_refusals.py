"""Hostile and malformed signalling: each is refused cleanly (the status and wording a
LiveKit server uses where there is one), the room server keeps serving, and nothing leaks
(no asyncio task, no socket) once the connections are gone."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from livekit.protocol import rtc
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from simulator.room import LEFT, mint_token
from tests.room.support import Harness, run

V1_BODY = "v1 signalling is not served here; use /rtc"


class Raw:
    """A bare signalling client: a WebSocket speaking SignalRequest/SignalResponse."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[str] = []

    async def expect(self, kind: str, timeout: float = 5.0) -> rtc.SignalResponse:
        async with asyncio.timeout(timeout):
            while True:
                response = rtc.SignalResponse.FromString(await self.ws.recv())
                self.seen.append(response.WhichOneof("message"))
                if self.seen[-1] == kind:
                    return response

    async def send(self, request: rtc.SignalRequest) -> None:
        await self.ws.send(request.SerializeToString())

    async def alive(self) -> bool:
        stamp = int(time.time() * 1000)
        await self.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=stamp)))
        pong = await self.expect("pong_resp")
        return pong.pong_resp.last_ping_timestamp == stamp

    async def close_code(self, timeout: float = 5.0) -> int | None:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed:
            pass
        return self.ws.close_code


async def refused(url: str, **kwargs: object) -> tuple[int, str]:
    try:
        async with connect(url, open_timeout=5, **kwargs):
            pass
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body.decode()
    raise AssertionError("the upgrade was accepted")


async def joined(harness: Harness, room: str, token: str | None = None) -> Raw:
    ws = await connect(
        f"{harness.url}/rtc?access_token={token or harness.token(room)}",
        open_timeout=5,
        max_size=None,
    )
    raw = Raw(ws)
    join = await raw.expect("join")
    assert join.join.other_participants[0].identity == "worker:avatar"
    return raw


def forged(claims: dict[str, object], header: dict[str, object] | None = None) -> str:
    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64(header or {'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def still_serving(harness: Harness) -> None:
    """A fresh room still accepts a join and answers pings."""
    room, session = harness.open(start_script="Hi.")
    raw = await joined(harness, room)
    assert await raw.alive()
    await raw.ws.close()
    assert harness.hooks.wait_end(session).reason == LEFT


# ------------------------------------------------------------------ refused at the upgrade


def _bad_tokens(harness: Harness, room: str) -> dict[str, tuple[str, int, str]]:
    key, secret = harness.server.settings.api_key, harness.server.settings.api_secret
    now = time.time()
    return {
        "missing": ("", 401, "invalid authorization header"),
        "garbage": ("not.a.jwt", 401, "invalid authorization token"),
        "wrong signature": (
            mint_token(key, "another-secret", room=room, identity="u"),
            401,
            "cryptographic primitive",
        ),
        "expired": (
            mint_token(key, secret, room=room, identity="u", ttl=60, now=now - 3600),
            401,
            "token is expired",
        ),
        "not yet valid": (
            mint_token(key, secret, room=room, identity="u", now=now + 3600),
            401,
            "not valid yet",
        ),
        "unknown api key": (
            mint_token("APIother", secret, room=room, identity="u"),
            401,
            "invalid API key",
        ),
        "alg none": (
            forged(
                {"iss": key, "sub": "u", "exp": now + 60, "video": {"room": room, "roomJoin": True}}
            ),
            401,
            "unexpected signature algorithm",
        ),
        "no join grant": (
            mint_token(key, secret, room=room, identity="u").split(".")[0] + ".x.y",
            401,
            "invalid authorization token",
        ),
        "oversized": ("a" * 20000, 400, ""),  # refused by the HTTP layer's line limit
        "wrong room": (
            mint_token(key, secret, room="room-nobody-opened", identity="u"),
            404,
            "requested room does not exist",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "garbage",
        "wrong signature",
        "expired",
        "not yet valid",
        "unknown api key",
        "alg none",
        "no join grant",
        "oversized",
        "wrong room",
    ],
)
def test_bad_tokens_are_refused_like_livekit(harness: Harness, case: str) -> None:
    room, session = harness.open()
    token, status, words = _bad_tokens(harness, room)[case]

    async def scenario() -> None:
        got_status, body = await refused(f"{harness.url}/rtc?access_token={token}")
        assert (got_status, words in body) == (status, True), body
        response = await asyncio.to_thread(
            httpx.get,
            f"{harness.http}/rtc/validate",
            headers={"authorization": f"Bearer {token}"} if token else {},
            timeout=5,
        )
        expected = (401, "malformed token") if case == "oversized" else (status, words)
        assert (response.status_code, expected[1] in response.text) == (expected[0], True), (
            response.text
        )

    run(scenario())
    assert session not in harness.hooks.joins
    harness.server.close_room(room)


def test_a_token_without_the_join_grant_is_denied(harness: Harness) -> None:
    key, secret = harness.server.settings.api_key, harness.server.settings.api_secret
    import hashlib
    import hmac

    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(
        json.dumps(
            {"iss": key, "sub": "u", "exp": time.time() + 60, "video": {"room": "r"}}
        ).encode()
    ).rstrip(b"=")
    signature = base64.urlsafe_b64encode(
        hmac.new(secret.encode(), head + b"." + body, hashlib.sha256).digest()
    ).rstrip(b"=")
    token = b".".join([head, body, signature]).decode()
    assert run(refused(f"{harness.url}/rtc?access_token={token}")) == (401, "permissions denied")


def test_the_official_sdk_reports_a_refused_token(harness: Harness) -> None:
    from livekit import rtc as lk

    room, _ = harness.open()
    token = mint_token(harness.server.settings.api_key, "wrong", room=room, identity="u")

    async def scenario() -> str:
        client = lk.Room()
        try:
            await client.connect(harness.url, token)
        except lk.ConnectError as exc:
            return str(exc)
        raise AssertionError("connected with a forged token")

    assert "401" in run(scenario()) or "invalid" in run(scenario()).lower()
    harness.server.close_room(room)


def test_v1_path_is_404_so_clients_fall_back_to_v0(harness: Harness) -> None:
    room, _ = harness.open()
    token = harness.token(room)
    assert run(refused(f"{harness.url}/rtc/v1?access_token={token}&join_request=AAAA")) == (
        404,
        V1_BODY,
    )
    response = httpx.get(
        f"{harness.http}/rtc/v1/validate", params={"access_token": token}, timeout=5
    )
    assert response.status_code == 404 and "requested room does not exist" not in response.text
    plain = httpx.get(f"{harness.http}/rtc", params={"access_token": token}, timeout=5)
    assert 400 <= plain.status_code < 500  # not a WebSocket upgrade
    assert (
        httpx.get(f"{harness.http}/rtc/validate", params={"access_token": token}, timeout=5).text
        == "success"
    )
    run(still_serving(harness))
    harness.server.close_room(room)


def test_reused_token_and_finished_room(harness: Harness) -> None:
    room, session = harness.open(start_script="Hi.")
    token = harness.token(room)

    async def scenario() -> None:
        raw = await joined(harness, room, token)
        status, body = await refused(
            f"{harness.url}/rtc?access_token={token}"
        )  # two clients, one token
        assert (status, "already been used" in body) == (401, True)
        assert await raw.alive()  # the first client is unharmed
        await raw.ws.close()
        harness.hooks.wait_end(session)
        assert await refused(f"{harness.url}/rtc?access_token={token}") == (401, body)
        fresh = harness.token(room, identity="user:other")
        assert await refused(f"{harness.url}/rtc?access_token={fresh}") == (
            404,
            "requested room does not exist",
        )

    run(scenario())


def test_join_refused_by_the_simulator_closes_the_room(harness: Harness) -> None:
    room, session = harness.open()
    harness.hooks.refuse.add(session)
    assert run(refused(f"{harness.url}/rtc?access_token={harness.token(room)}"))[0] == 404
    assert harness.server.room(room) is None


# ------------------------------------------------------------------ refused on a live connection


async def _garbage(raw: Raw) -> int | None:
    await raw.ws.send(b"\xff\xfe\xfd garbage \x00\x01")
    return await raw.close_code()


async def _bad_json(raw: Raw) -> int | None:
    await raw.ws.send("{not json")
    return await raw.close_code()


async def _oversized(raw: Raw) -> int | None:
    await raw.ws.send(b"\x0a" + b"\x00" * (512 * 1024))
    return await raw.close_code()


async def _wrong_message(raw: Raw) -> int | None:
    speakers = rtc.SpeakersChanged(speakers=[{"sid": "PA_x", "level": 1.0, "active": True}])
    await raw.ws.send(rtc.SignalResponse(speakers_changed=speakers).SerializeToString())
    return await raw.close_code()  # field 10 of a SignalRequest is UpdateVideoLayers: undecodable


async def _bad_offer(raw: Raw) -> int | None:
    await raw.send(
        rtc.SignalRequest(offer=rtc.SessionDescription(type="offer", sdp="v=0\r\nnonsense", id=7))
    )
    await raw.send(
        rtc.SignalRequest(offer=rtc.SessionDescription(type="answer", sdp="x" * 70000, id=8))
    )
    assert await raw.alive()
    return None


async def _unexpected_answer(raw: Raw) -> int | None:
    await raw.send(
        rtc.SignalRequest(answer=rtc.SessionDescription(type="answer", sdp="v=0\r\n", id=1))
    )
    await raw.send(rtc.SignalRequest(answer=rtc.SessionDescription(type="offer", sdp="", id=99)))
    assert await raw.alive()
    return None


async def _bad_trickles(raw: Raw) -> int | None:
    for init in [
        "{",
        "[]",
        '{"candidate": 5}',
        '{"candidate": "candidate:1 1 udp 1 8.8.8.8 9 typ host"}',
        "x" * 9000,
        '{"candidate":"bogus"}',
    ]:
        await raw.send(
            rtc.SignalRequest(
                trickle=rtc.TrickleRequest(candidateInit=init, target=rtc.SignalTarget.SUBSCRIBER)
            )
        )
    assert await raw.alive()
    return None


async def _track_flood(raw: Raw) -> int | None:
    for index in range(20):
        await raw.send(
            rtc.SignalRequest(
                add_track=rtc.AddTrackRequest(cid=f"c{index}", name="mic", type=0, source=2)
            )
        )
    await raw.send(
        rtc.SignalRequest(add_track=rtc.AddTrackRequest(cid="c0", type=0))
    )  # duplicate cid
    await raw.send(
        rtc.SignalRequest(add_track=rtc.AddTrackRequest(cid="", type=7))
    )  # no cid, bad type
    assert await raw.alive()
    published = raw.seen.count("track_published")
    assert published == 8, raw.seen
    return None


async def _unknown_mute_and_subscription(raw: Raw) -> int | None:
    await raw.send(rtc.SignalRequest(mute=rtc.MuteTrackRequest(sid="TR_nope", muted=True)))
    await raw.send(
        rtc.SignalRequest(
            subscription=rtc.UpdateSubscription(track_sids=["TR_x"] * 100, subscribe=True)
        )
    )
    await raw.send(
        rtc.SignalRequest(update_metadata=rtc.UpdateParticipantMetadata(metadata="m" * 10000))
    )
    assert await raw.alive()
    return None


async def _ping_storm(raw: Raw) -> int | None:
    for stamp in range(300):
        await raw.send(rtc.SignalRequest(ping=stamp))
    assert await raw.alive()
    return None


async def _leave_then_talk(raw: Raw) -> int | None:
    await raw.send(rtc.SignalRequest(leave=rtc.LeaveRequest(reason=1)))
    try:
        await raw.send(rtc.SignalRequest(ping_req=rtc.Ping(timestamp=1)))
    except ConnectionClosed:
        pass
    return await raw.close_code()


async def _abrupt_close(raw: Raw) -> int | None:
    raw.ws.transport.abort()
    return None


async def _empty_and_json_frames(raw: Raw) -> int | None:
    await raw.ws.send(b"")  # an empty SignalRequest: nothing to do
    await raw.ws.send(json.dumps({"pingReq": {"timestamp": "5"}}))  # protobuf JSON is accepted
    await raw.expect("pong_resp")
    assert await raw.alive()
    return None


LIVE_CASES: dict[str, tuple[Callable[[Raw], Awaitable[int | None]], int | None]] = {
    "garbage frame": (_garbage, 1007),
    "text frame, not JSON": (_bad_json, 1007),
    "oversized frame": (_oversized, 1009),
    "a SignalResponse sent as a request": (_wrong_message, 1007),
    "malformed offers": (_bad_offer, None),
    "unexpected answers": (_unexpected_answer, None),
    "malformed and foreign trickles": (_bad_trickles, None),
    "track flood": (_track_flood, None),
    "unknown mute, subscription, huge metadata": (_unknown_mute_and_subscription, None),
    "ping storm": (_ping_storm, None),
    "leave, then talk": (_leave_then_talk, 1000),
    "abrupt TCP close": (_abrupt_close, None),
    "empty and JSON frames": (_empty_and_json_frames, None),
}


@pytest.mark.parametrize("case", list(LIVE_CASES))
def test_hostile_signalling_on_a_live_connection(harness: Harness, case: str) -> None:
    action, code = LIVE_CASES[case]
    room, session = harness.open(start_script="Hi.")

    async def scenario() -> None:
        raw = await joined(harness, room)
        await raw.expect("offer")
        assert await action(raw) == code
        await raw.ws.close()
        await still_serving(harness)

    run(scenario(), timeout=30)
    assert harness.hooks.wait_end(session).reason == LEFT


def test_nothing_leaks_after_hostile_traffic(harness: Harness) -> None:
    """Tasks on the server's loop and the process's file descriptors return to where they
    were after a batch of refused upgrades and hostile live connections."""

    def settle() -> dict[str, object]:
        deadline = time.monotonic() + 5
        while True:
            state = harness.server_tasks()
            if (
                not [t for t in state["tasks"] if t.startswith("room-")]
                or time.monotonic() > deadline
            ):
                return state
            time.sleep(0.05)

    before_tasks, before_fds = settle(), open_fds()
    for case in ("garbage frame", "malformed offers", "abrupt TCP close", "leave, then talk"):
        test_hostile_signalling_on_a_live_connection(harness, case)
    for case in ("expired", "wrong room", "garbage"):
        test_bad_tokens_are_refused_like_livekit(harness, case)
    after_tasks = settle()
    assert [t for t in after_tasks["tasks"] if t.startswith("room-")] == []
    assert len(after_tasks["tasks"]) == len(before_tasks["tasks"]), (before_tasks, after_tasks)
    assert after_tasks["stats"]["clients"] == 0 and after_tasks["stats"]["live"] == 0
    deadline = time.monotonic() + 5
    while open_fds() > before_fds and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_fds() <= before_fds
