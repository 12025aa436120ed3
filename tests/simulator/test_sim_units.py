"""Unit checks of the pieces under the HTTP layer: clock, config, validator, engine."""

from __future__ import annotations

import asyncio
import time

import pytest

from simulator import PRESET_AVATARS, VOICE_PRESETS, FakeClock, SimConfig, Simulator, SystemClock
from simulator.api.schemas import SESSION_CREATE
from simulator.errors import ApiError
from simulator.validation import validate


def test_fake_clock_advances_and_sleeps() -> None:
    clock = FakeClock(start=100.0)
    assert clock.now() == 100.0
    clock.advance(2.5)
    asyncio.run(clock.sleep(1.5))
    assert clock.now() == 104.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert abs(SystemClock().now() - time.time()) < 1


def test_catalogues() -> None:
    assert len(PRESET_AVATARS) == 9 and PRESET_AVATARS["cat-character"] == "Mochi"
    assert len(VOICE_PRESETS) == 30 and VOICE_PRESETS["victoria"] == "firm, professional"


def test_config_updates_accept_camel_and_snake_case() -> None:
    config = SimConfig().updated({"readyDelay": 0.5, "daily_limit": None})
    assert config.ready_delay == 0.5 and config.daily_limit is None
    with pytest.raises(ValueError):
        SimConfig().updated({"nope": 1})
    with pytest.raises(ValueError):
        SimConfig().updated({"concurrency": -1})
    assert (SimConfig.tier1().concurrency, SimConfig.tier1().daily_limit) == (1, 50)


def test_zod_like_issues() -> None:
    with pytest.raises(ApiError) as err:
        validate(SESSION_CREATE, {"model": "gwm1_avatars", "livekit": {}, "avatar": {"type": "x"}})
    issues = err.value.body["issues"]
    # livekit is a known (deprecated) key, so only its missing fields are reported.
    assert {tuple(i["path"]) for i in issues if i["code"] == "invalid_type"} == {
        ("livekit", "url"),
        ("livekit", "token"),
        ("livekit", "roomName"),
    }
    assert any(
        i["code"] == "invalid_union" and i["note"] == "No matching discriminator" for i in issues
    )
    with pytest.raises(ApiError) as err:
        validate(
            SESSION_CREATE,
            {
                "model": "gwm1_avatars",
                "lk": 1,
                "avatar": {"type": "runway-preset", "presetId": "influencer"},
            },
        )
    assert err.value.body["issues"] == [
        {"code": "unrecognized_keys", "keys": ["lk"], "path": [], "message": "Unrecognized key: lk"}
    ]
    parsed = validate(
        SESSION_CREATE,
        {"model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "influencer"}},
    )
    assert parsed["maxDuration"] == 300 and parsed["tools"] == []


def test_engine_without_http() -> None:
    clock = FakeClock()
    sim = Simulator(SimConfig(ready_delay=2, concurrency=1), clock)
    body = validate(
        SESSION_CREATE,
        {"model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "influencer"}},
    )
    first = sim.create_session(body)["id"]
    second = sim.create_session(body)["id"]
    clock.advance(2)
    assert sim.get_session(first)["status"] == "READY"
    assert sim.get_session(second) == {**sim.get_session(second), "queued": True}
    sim.cancel_session(first)
    clock.advance(2)
    assert sim.get_session(second)["status"] == "READY"
