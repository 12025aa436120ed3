"""One refresher for all replicas: SIGKILL the leader with 5 calls live, another takes over."""

from __future__ import annotations

import time

import httpx
import psycopg

from studio.calls.ledger import Ledger
from studio.store.base import advisory_key
from tests.store.replicas import Fleet
from tests.support import wait_for

POLL = "GET /v1/realtime_sessions/{id}"
INTERVAL = 1.0


def leader_pid(url: str) -> int | None:
    """The OS pid of the replica holding the refresher lock (its connections carry their pid)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s",
            (advisory_key("lead:refresher") & 0xFFFFFFFF,)).fetchone()
    return int(row[0].rsplit(" ", 1)[1]) if row else None


def polls_per_session_per_interval(fleet: Fleet, sessions: int, seconds: float) -> float:
    before = fleet.sim_state()["requests"].get(POLL, 0)
    time.sleep(seconds)
    return (fleet.sim_state()["requests"].get(POLL, 0) - before) / sessions / (seconds / INTERVAL)


def test_the_leader_dies_and_another_replica_carries_every_call_to_its_end(pg_url, tmp_path):
    fleet = Fleet(pg_url, tmp_path / "data", count=3, env={
        "STUDIO_MAX_LIVE_SESSIONS": "20", "STUDIO_REFRESH_INTERVAL": str(INTERVAL)},
        sim_args=("--ready-delay", "0.3", "--concurrency", "100", "--no-participant-timeout", "600")).start()
    ledger = Ledger(pg_url)
    try:
        ids = []
        for i in range(5):
            answer = httpx.post(f"{fleet.urls[i % 3]}/api/avatar/session", json={"avatarId": "music-superstar"},
                                timeout=30)
            assert answer.status_code == 200, answer.text
            ids.append(answer.json()["sessionId"])
            fleet.sim_control(f"sessions/{ids[-1]}/join")
        wait_for(lambda: all(ledger.get(i)["status"] == "RUNNING" for i in ids), 10)
        # Three replicas, one of them polling: about one poll per session per interval.
        assert 0.5 <= polls_per_session_per_interval(fleet, 5, 4.0) <= 1.35

        pids = [p.pid for p in fleet.processes]
        leader = pids.index(wait_for(lambda: leader_pid(pg_url), 5))
        fleet.kill(leader)
        successor = wait_for(lambda: leader_pid(pg_url), 10, "another replica to lead")
        assert successor in pids and pids.index(successor) != leader
        assert 0.5 <= polls_per_session_per_interval(fleet, 5, 3.0) <= 1.35

        for session_id in ids:
            fleet.sim_control(f"sessions/{session_id}/leave")
        wait_for(lambda: all(ledger.get(i)["status"] == "COMPLETED" for i in ids), 10, "every call COMPLETED")
        # Each transcript is fetched right after its COMPLETED is stored, by the new leader.
        wait_for(lambda: all(ledger.get(i)["transcript"] for i in ids), 3)
    finally:
        ledger.close()
        fleet.stop()
