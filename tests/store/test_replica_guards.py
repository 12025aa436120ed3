"""Three studio processes on one PostgreSQL: the guards hold across all of them."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.store.replicas import Fleet

HIGH = {"STUDIO_MAX_LIVE_SESSIONS": "100", "STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "100",
        "STUDIO_DAILY_SESSION_CAP": "100"}


async def _starts(urls: list[str], count: int) -> list[httpx.Response]:
    """`count` session starts at once, spread round-robin over the replicas."""
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(
            client.post(f"{urls[i % len(urls)]}/api/avatar/session", json={"avatarId": "music-superstar"})
            for i in range(count)))


def tally(answers: list[httpx.Response]) -> dict[object, int]:
    out: dict[object, int] = {}
    for answer in answers:
        key = 200 if answer.status_code == 200 else (answer.status_code, answer.json().get("code"))
        out[key] = out.get(key, 0) + 1
    return out


@pytest.mark.parametrize(("limit", "allowed", "code"), [
    ({"STUDIO_MAX_LIVE_SESSIONS": "3"}, 3, "studio_busy"),
    ({"STUDIO_DAILY_SESSION_CAP": "4"}, 4, "studio_daily_cap"),
    ({"STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "5"}, 5, "client_rate_limited"),
])
def test_sixty_starts_over_three_replicas_get_exactly_the_cap(pg_url, tmp_path, limit, allowed, code):
    fleet = Fleet(pg_url, tmp_path / "data", count=3, env=HIGH | limit).start()
    try:
        answers = asyncio.run(_starts(fleet.urls, 60))
        assert tally(answers) == {200: allowed, (429, code): 60 - allowed}
        assert all(set(a.json()) >= {"sessionId", "serverUrl", "token", "roomName"}
                   for a in answers if a.status_code == 200)
        state = fleet.sim_state()
        assert len(state["sessions"]) == allowed
        assert state["requests"].get("POST /v1/realtime_sessions") == allowed
    finally:
        fleet.stop()
