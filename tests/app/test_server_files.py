"""A file input names only a file this client uploaded, never a path on the server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from app import build_app
from tests.support import serve, studio_settings


def call_events(client: httpx.Client, api_name: str, data: list) -> list[tuple[str, str]]:
    """Call a Gradio endpoint through its HTTP API and read its event stream to the end."""
    started = client.post(f"/gradio_api/call/{api_name}", json={"data": data})
    started.raise_for_status()
    stream = client.get(f"/gradio_api/call/{api_name}/{started.json()['event_id']}")
    events, name = [], ""
    for line in stream.text.splitlines():
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((name, line.split(":", 1)[1].strip()))
    return events


def test_a_server_path_given_as_an_input_file_is_refused(tmp_path):
    secret = tmp_path / "outside" / "secret-sample.wav"
    secret.parent.mkdir()
    secret.write_bytes(b"RIFF-not-for-clients")
    app = build_app(studio_settings(tmp_path / "data"))
    forged = {"path": str(secret), "meta": {"_type": "gradio.FileData"}, "orig_name": "sample.wav"}
    with serve(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        events = call_events(client, "clone_voice", ["Stolen", forged, "", 0, [], None])
    assert events[-1][0] == "error", events
    uploads = Path(os.environ["GRADIO_TEMP_DIR"]).rglob("*")
    copies = [p for p in uploads if p.is_file() and p.read_bytes() == secret.read_bytes()]
    assert copies == []
    assert "RIFF-not-for-clients" not in json.dumps(events)
