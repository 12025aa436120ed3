"""The studio compresses what it sends when the browser asks (the first page, its config, JSON),
and its event streams still stream: Gradio's queue events and heartbeat arrive as they happen,
uncompressed, and an event run through gradio_client completes. Loopback only."""

from __future__ import annotations

import json

import httpx
import pytest
from gradio_client import Client

from app import build_app
from tests.support import serve, studio_settings

NO_FILTERS = [[], "", "", "", ""]


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    app = build_app(studio_settings(tmp_path_factory.mktemp("gzip")))
    with serve(app) as url:
        yield app, url


def test_the_first_page_is_sent_compressed_when_asked(studio):
    _, url = studio
    with httpx.Client(base_url=url, timeout=30) as http:
        packed = http.get("/", headers={"Accept-Encoding": "gzip"})
        plain = http.get("/", headers={"Accept-Encoding": "identity"})
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.text == plain.text and "Character Studio" in packed.text
    sent = int(packed.headers["content-length"])
    assert sent * 4 < len(plain.content), (sent, len(plain.content))


def test_json_answers_are_compressed_too(studio):
    _, url = studio
    with httpx.Client(base_url=url, timeout=30) as http:
        config = http.get("/config", headers={"Accept-Encoding": "gzip"})
        sessions = http.get("/api/sessions", headers={"Accept-Encoding": "gzip"})
    assert config.headers["content-encoding"] == "gzip" and config.json()["components"]
    assert sessions.status_code == 200 and isinstance(sessions.json(), (list, dict))


def test_a_gradio_event_still_streams_uncompressed(studio):
    _, url = studio
    with httpx.Client(base_url=url, timeout=30, headers={"Accept-Encoding": "gzip"}) as http:
        started = http.post("/gradio_api/call/sessions_table", json={"data": NO_FILTERS})
        event_id = started.json()["event_id"]
        with http.stream("GET", f"/gradio_api/call/sessions_table/{event_id}") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers
            lines = [line for line in stream.iter_lines() if line]
    assert "event: complete" in lines
    data = json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))
    assert data[0]["headers"][0] == "created (UTC)"


def test_the_heartbeat_arrives_while_its_stream_is_open(studio):
    """A compressor that buffered the stream would hold every beat until the stream ends."""
    _, url = studio
    with httpx.Client(base_url=url, timeout=httpx.Timeout(10, read=8),
                      headers={"Accept-Encoding": "gzip"}) as http, \
            http.stream("GET", "/gradio_api/heartbeat/compression-test") as stream:
        assert "content-encoding" not in stream.headers
        first = next(line for line in stream.iter_lines() if line)
    assert first.startswith(("event:", "data:", ":"))


def test_gradio_client_runs_an_event_end_to_end(studio):
    _, url = studio
    table, figures, caption = Client(url + "/", verbose=False).predict(
        *NO_FILTERS, api_name="/sessions_table")
    assert table["data"] == [] and "sessions in all" in caption and "figures" in figures
