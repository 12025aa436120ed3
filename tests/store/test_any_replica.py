"""Any replica serves any request: a call started on replica A is reported on, followed, shown in
Sessions and cancelled on replica B; the upstream listings behind Sessions and Usage are fetched
once per interval for both."""

from __future__ import annotations

import time

import httpx
from gradio_client import Client

from tests.store.replicas import Fleet

NO_FILTERS = ([], "", None, None, "")


def test_a_call_started_on_one_replica_is_served_by_the_other(pg_url, tmp_path):
    fleet = Fleet(pg_url, tmp_path / "data", count=2).start()
    a, b = fleet.urls
    try:
        _upstream_listings_are_fetched_once_for_both(fleet)
        request_id = "req-replica-0001"
        started = httpx.post(f"{a}/api/avatar/session", json={"avatarId": "music-superstar",
                                                             "requestId": request_id}, timeout=30)
        assert started.status_code == 200, started.text
        session_id = started.json()["sessionId"]

        progress = httpx.get(f"{b}/api/calls/{request_id}", timeout=10)
        assert progress.status_code == 200, progress.text
        reported = httpx.post(f"{b}/api/sessions/{session_id}/events", json={"event": "connected"}, timeout=10)
        assert reported.status_code == 204, reported.text
        listed = httpx.get(f"{b}/api/sessions", timeout=10).json()
        assert session_id in str(listed)
        detail = httpx.get(f"{b}/api/sessions/{session_id}", timeout=10).json()
        assert detail["connected_at"] is not None
        assert {"requested", "created", "consumed", "browser_connected"} <= {e["name"] for e in detail["events"]}

        sessions_tab = Client(b, verbose=False)
        deadline, ids = time.monotonic() + 15, []
        while session_id not in ids and time.monotonic() < deadline:
            table, _, _ = sessions_tab.predict(*NO_FILTERS, api_name="/sessions_table")
            ids = [dict(zip(table["headers"], row))["id"] for row in table["data"]]
            time.sleep(0.3)
        assert session_id in ids

        cancelled = httpx.post(f"{b}/api/sessions/{session_id}/cancel", timeout=10)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
        on_a = httpx.get(f"{a}/api/sessions/{session_id}", timeout=10).json()
        assert on_a["status"] == "CANCELLED"
        upstream = fleet.sim_state()["sessions"]
        statuses = [s["status"] for s in (upstream.values() if isinstance(upstream, dict) else upstream)]
        assert statuses == ["CANCELLED"]
    finally:
        fleet.stop()


def _upstream_listings_are_fetched_once_for_both(fleet: Fleet) -> None:
    """Within one interval (10 s), two replicas' Sessions and Usage tabs, read twice each, cost
    Runway one conversations listing, one usage query and one organization read in all."""
    started = time.monotonic()
    for url in fleet.urls * 2:
        tab = Client(url, verbose=False)
        tab.predict(*NO_FILTERS, api_name="/sessions_table")
        tab.predict(api_name="/usage_overview")
    assert time.monotonic() - started < 9, "too slow to stay within one interval"
    counts = fleet.sim_state()["requests"]
    assert counts.get("GET /v1/avatar_conversations") == 1, counts
    assert counts.get("GET /v1/avatar_usage") == 1, counts
    assert counts.get("GET /v1/organization") == 1, counts
