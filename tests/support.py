"""Helpers shared by the test layers: settings in a temp dir, a live loopback server, chromium."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from studio.config import Settings, load_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    # WebRTC leaves loopback out of its candidates: on a machine whose only interface is `lo`
    # (a CI container) the browser would find no path to the simulator's room without this.
    "--allow-loopback-in-peer-connection",
]


def studio_settings(data_dir: Path, **env: str) -> Settings:
    """Settings for a test: its own data dir, quick simulator, no .env file read."""
    base = {"STUDIO_DATA_DIR": str(data_dir), "STUDIO_SIM_READY_DELAY": "1.0"}
    return load_settings({**base, **env}, dotenv_path=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    from app import server_config  # served exactly as `python app.py` serves it

    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    app.state.serving_loop = server.servers[0].get_loop()  # for call_on_server
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def call_on_server(app: Any, coroutine: Any, timeout: float = 60.0) -> Any:
    """Run one of the app's own async services on the loop that serves it (its upstream client
    belongs to that loop), from a test thread, while `serve(app)` runs."""
    return asyncio.run_coroutine_threadsafe(coroutine, app.state.serving_loop).result(timeout)


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def sim_session(studio: Any, session_id: str, action: str, transcript: list[dict] | None = None) -> None:
    """Join or leave a session through the embedded simulator's control plane: what a client in
    its room would do, for tests that need no browser (`action` is "join" or "leave")."""
    body = {"transcript": transcript} if transcript else None
    url = f"{studio.upstream.base_url}/_simulator/sessions/{session_id}/{action}"
    httpx.post(url, json=body, timeout=10).raise_for_status()


def wait_for(check: Any, timeout: float = 15.0, what: str = "", step: float = 0.05) -> Any:
    """The first truthy value of `check()`, polled until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what or check}"
        time.sleep(step)
    return value


def wait_for_row(studio: Any, session_id: str, status: str, timeout: float = 15.0) -> dict[str, Any]:
    """The ledger row once the refresher has carried it to `status`."""
    deadline = time.monotonic() + timeout
    while (row := studio.ledger.get(session_id))["status"] != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"{session_id} is {row['status']}, not {status}, after {timeout} s")
        time.sleep(0.05)
    return row


class LoopbackListener:
    """A tiny TCP server on 127.0.0.1 that counts the connections it accepts and answers each
    with `reply` (or closes it at once): what a URL pointing inside the machine would reach."""

    def __init__(self, reply: bytes | None = None) -> None:
        self.reply = reply
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # so the loop sees `stop` soon after it is set
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            with conn:
                if self.reply is not None:
                    conn.recv(65536)
                    conn.sendall(self.reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def ready_character(app: Any, form: Any, timeout: float = 15.0) -> str:
    """The id of a custom character made from `form` through the studio's own services, once READY."""
    studio = app.state.studio
    character = call_on_server(app, studio.characters.create_character(form))
    deadline = time.monotonic() + timeout
    while call_on_server(app, studio.characters.get_character(character["id"]))["status"] != "READY":
        assert time.monotonic() < deadline, "the character never became READY"
        time.sleep(0.1)
    return character["id"]


def video_snapshot_js(selector: str) -> str:
    """Browser code defining `window.snapshot()`: the size and a digest of the pixels of the
    `<video>` under `selector` (a moving character gives changing digests), or null."""
    return SNAPSHOT_JS.replace("SELECTOR", selector)


SNAPSHOT_JS = """
window.snapshot = () => {
  const video = document.querySelector('SELECTOR');
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = 136; canvas.height = 88;
  const context = canvas.getContext('2d');
  context.drawImage(video, 0, 0, 136, 88);
  const pixels = context.getImageData(0, 0, 136, 88).data;
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 7) sum = (sum * 31 + pixels[i]) % 1000000007;
  return {width: video.videoWidth, height: video.videoHeight, digest: sum};
};
"""
