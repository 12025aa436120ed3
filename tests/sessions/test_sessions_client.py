"""The Sessions and Usage tabs through their named endpoints, on a live loopback server."""

from __future__ import annotations

import time

import httpx
import pytest
from gradio_client import Client

from app import build_app
from tests.support import serve, sim_session, studio_settings, wait_for_row

SIM_KEY = "key_" + "ab" * 64
SIM_HEADERS = {"Authorization": f"Bearer {SIM_KEY}", "X-Runway-Version": "2024-11-06"}
TRANSCRIPT = [{"role": "user", "content": "What's on the menu?"},
              {"role": "assistant", "content": "Risotto, tonight only."}]
NO_FILTERS = ([], "", None, None, "")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A studio with three sessions of its own (completed, cancelled, ready) and one from elsewhere."""
    settings = studio_settings(tmp_path_factory.mktemp("sessions"), STUDIO_REFRESH_INTERVAL="0.5", STUDIO_HISTORY_TTL="2.5",
                               STUDIO_SIM_READY_DELAY="0.3")
    app = build_app(settings)
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        ids = {}
        for name, avatar in (("completed", "music-superstar"), ("cancelled", "cat-character"),
                             ("ready", "music-superstar")):
            answer = http.post("/api/avatar/session", json={"avatarId": avatar})
            assert answer.status_code == 200, answer.text
            ids[name] = answer.json()["sessionId"]
        studio = app.state.studio
        sim_session(studio, ids["completed"], "join")
        wait_for_row(studio, ids["completed"], "RUNNING")  # the timeline shows each moment
        sim_session(studio, ids["completed"], "leave", TRANSCRIPT)
        wait_for_row(studio, ids["completed"], "COMPLETED")
        assert http.post(f"/api/sessions/{ids['cancelled']}/cancel").status_code == 200
        # A session another app started on the same account: only the conversations API knows it.
        simulator = app.state.studio.upstream.base_url
        elsewhere = httpx.post(f"{simulator}/v1/realtime_sessions", headers=SIM_HEADERS, json={
            "model": "gwm1_avatars", "avatar": {"type": "runway-preset", "presetId": "fashion-designer"}})
        assert elsewhere.status_code == 200, elsewhere.text
        ids["elsewhere"] = elsewhere.json()["id"]
        client = Client(url, verbose=False)
        try:
            yield client, ids, app.state.studio
        finally:
            client.close()  # its heartbeat stream would hold the server's shutdown open


def table_of(client, *filters):
    table, figures, caption = client.predict(*filters, api_name="/sessions_table")
    rows = [dict(zip(table["headers"], row)) for row in table["data"]]
    return {row["id"]: row for row in rows}, figures, caption


def test_the_table_merges_the_ledger_and_sessions_started_elsewhere(studio):
    client, ids, _ = studio
    deadline = time.monotonic() + 15
    rows, figures, caption = table_of(client, *NO_FILTERS)
    while ids["elsewhere"] not in rows and time.monotonic() < deadline:  # the shared cache's TTL
        time.sleep(0.5)
        rows, figures, caption = table_of(client, *NO_FILTERS)
    assert set(rows) == set(ids.values())
    assert rows[ids["completed"]]["status"] == "completed"
    assert rows[ids["cancelled"]]["status"] == "cancelled"
    assert rows[ids["cancelled"]]["failure"] == "cancelled: Cancelled from the studio"
    assert rows[ids["ready"]]["status"] == "ready"
    assert rows[ids["elsewhere"]]["origin"] == "elsewhere" and rows[ids["elsewhere"]]["avatar"] == "Sofia"
    assert rows[ids["completed"]]["origin"] == "this studio"
    assert 0 < rows[ids["completed"]]["to READY (s)"] < 10
    assert caption.startswith("**4** sessions in all;"), caption
    assert "data-figure='success'" in figures and "50%" in figures  # 1 completed of 2 ended


def test_filters_are_applied_by_the_named_endpoint(studio):
    client, ids, _ = studio
    rows, _, caption = table_of(client, ["COMPLETED"], "", None, None, "")
    assert list(rows) == [ids["completed"]]
    assert caption.startswith("**1** session matching the filters (4 in all);"), caption
    rows, _, _ = table_of(client, ["cancelled", "READY"], "", None, None, "")
    assert set(rows) == {ids["cancelled"], ids["ready"]}
    rows, _, _ = table_of(client, [], "cat-character", None, None, "")
    assert list(rows) == [ids["cancelled"]]
    rows, _, _ = table_of(client, [], "", None, None, "Cancelled from")
    assert list(rows) == [ids["cancelled"]]
    rows, _, _ = table_of(client, [], "", "now - 1h", None, "")
    assert ids["completed"] in rows
    rows, _, _ = table_of(client, [], "", None, "2020-01-01", "")
    assert rows == {}
    _, _, caption = client.predict([], "", "last tuesday", None, "", api_name="/sessions_table")
    assert "not a date" in caption


def test_details_show_the_timeline_overrides_and_transcript(studio):
    client, ids, _ = studio
    outputs = client.predict(ids["completed"], api_name="/session_details")
    heading, timeline, overrides, transcript = outputs[:4]  # (the layout column is not an output)
    assert "completed" in heading and ids["completed"] in heading
    for moment in ("requested", "created", "ready", "consumed", "running", "completed"):
        assert f"<td>{moment}</td>" in timeline
    assert overrides == {"maxDuration": 300}
    assert "Risotto, tonight only." in transcript
    elsewhere = client.predict(ids["elsewhere"], api_name="/session_details")
    assert "started elsewhere" in elsewhere[0]


def test_cancel_ends_an_open_session_and_the_usage_tab_reads_the_account(studio):
    client, ids, studio_object = studio
    note = client.predict(ids["ready"], api_name="/cancel_session")
    assert note == "Session cancelled."
    assert studio_object.ledger.get(ids["ready"])["status"] == "CANCELLED"
    account, spend, sessions_plot, _, guards, stamp = client.predict(api_name="/usage_overview")
    assert "Credit balance" in account and "Sessions created today" in account
    assert "Estimated spend" in spend
    bars = sessions_plot["value"]["data"]
    assert len(bars) == 30 and bars[-1][1] >= 4
    assert sessions_plot["y_lim"][0] == 0 and sessions_plot["y_lim"][1] >= bars[-1][1]
    assert "Live now" in guards and "/ 100" in guards and stamp.startswith("As of")
