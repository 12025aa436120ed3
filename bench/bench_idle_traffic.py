"""What an idle Sessions tab costs on the wire, and what compression saves on the first page.

    python bench/bench_idle_traffic.py [--seconds 30] [--sessions 0 100]

For each ledger size (0 and 100 finished sessions, nothing changing), the real studio is served on
loopback and Debian's chromium opens its Sessions tab and leaves it alone. A counting layer around
the app adds up every byte the server sends (status line, headers and body) for `--seconds`,
sorted by what it was for: Gradio's heartbeat stream, the studio's change stream
(`/api/sessions/changes`, which tells the tab when to refresh), the table's refresh events, the
rest. The baseline, measured in the same run, is the same tab with the old behaviour: a timer
whose every tick sends the whole table (`pages.sessions.build(send_unchanged=True)`).

Then the first page: `GET /` with and without `Accept-Encoding: gzip`, bytes on the wire.

PASS when, with nothing changing, the idle tab receives only heartbeats (Gradio's, and the change
stream's keep-alive lines): refresh events and the rest come to at most ENVELOPE bytes over the
whole count (one refresh's answer, in case one lands in it), at both sizes; and the compressed
first page is at most a quarter of its size. The ratios to the baseline are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from _common import serve, verdict
from playwright.sync_api import sync_playwright

from app import build_app
from pages import sessions
from tests.support import launch_chromium, studio_settings

ENVELOPE = 600  # bytes: one refresh that sends nothing (answer and headers)
MAX_PAGE_SHARE = 0.25  # the compressed first page, as a share of its size
KINDS = ("heartbeat", "changes", "events", "other")
SETTLE = 5.0  # seconds after the tab opens before counting (its first loads are not idle)


class ByteCounter:
    """An ASGI layer that counts the bytes the app sends, by the kind of path they answer."""

    def __init__(self, app: Any) -> None:
        self.app, self.state = app, app.state
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()

    @staticmethod
    def kind(path: str) -> str:
        if path.startswith("/gradio_api/heartbeat"):
            return "heartbeat"
        if path == "/api/sessions/changes":
            return "changes"
        if path.startswith(("/gradio_api/queue", "/gradio_api/run")):
            return "events"
        return "other"

    def reset(self) -> None:
        self.sent.clear()
        self.received.clear()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        kind = self.kind(scope["path"])

        async def counted_receive() -> dict:
            message = await receive()
            self.received[kind] += len(message.get("body", b""))
            return message

        async def counted_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = sum(len(k) + len(v) + 4 for k, v in message.get("headers", []))
                self.sent[kind] += 17 + headers  # "HTTP/1.1 200 OK\r\n" and the header lines
            elif message["type"] == "http.response.body":
                self.sent[kind] += len(message.get("body", b""))
            await send(message)

        await self.app(scope, counted_receive, counted_send)


def fill_ledger(path: Path, count: int, now: float) -> None:
    """`count` finished sessions over the last day (nothing left to change)."""
    from studio.calls.ledger import Ledger

    Ledger(path).close()  # creates the schema
    rows = []
    for i in range(count):
        at = now - 600 - i * 600
        rows.append((f"req{i:08d}", f"sess-{i:08d}", "music-superstar", "COMPLETED", 0, 30 + i % 90,
                     300, "{}", "simulator", f"client{i % 7}", at, at + 0.2, at + 1.2, at + 1.3,
                     at + 1.9, at + 2.0, at + 120.0, at + 120.0))
    columns = ("request_id", "session_id", "avatar_id", "status", "queued", "duration",
               "max_duration", "overrides", "mode", "client_id", "requested_at", "created_at",
               "ready_at", "consumed_at", "first_frame_at", "running_at", "ended_at", "updated_at")
    db = sqlite3.connect(path)
    with db:
        db.executemany(f"INSERT INTO sessions ({', '.join(columns)}) VALUES "
                       f"({', '.join('?' * len(columns))})", rows)
    db.close()


@contextlib.contextmanager
def studio(sessions_count: int, *, send_unchanged: bool) -> Iterator[tuple[str, ByteCounter]]:
    """The whole studio over a ledger of finished sessions, served on loopback, counted."""
    data = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    settings = studio_settings(data)
    fill_ledger(settings.ledger_path, sessions_count, time.time())
    original = sessions.build
    sessions.build = functools.partial(original, send_unchanged=send_unchanged)
    try:
        app = build_app(settings)
    finally:
        sessions.build = original
    counter = ByteCounter(app)
    with serve(counter) as url:
        yield url, counter


def idle_tab(browser: Any, url: str, counter: ByteCounter, seconds: float, rows: int) -> dict:
    """Bytes per minute the server sends to one open, idle Sessions tab."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(url)
        page.get_by_role("tab", name="Sessions", exact=True).click()
        page.locator("#sessions-caption").get_by_text("in all").wait_for(timeout=30_000)
        if rows:
            page.locator("#sessions-table [data-testid='cell-0-0']").wait_for(timeout=30_000)
        page.wait_for_timeout(SETTLE * 1000)
        counter.reset()
        page.wait_for_timeout(seconds * 1000)
        scale = 60.0 / seconds
        return {kind: counter.sent[kind] * scale for kind in KINDS} | {
            "upload": sum(counter.received.values()) * scale}
    finally:
        page.close()


def first_page(url: str) -> tuple[int, int]:
    """Bytes of `GET /` on the wire: as is, and when the browser accepts gzip."""
    with httpx.Client(base_url=url, timeout=60) as http:
        raw = http.get("/", headers={"Accept-Encoding": "identity"})
        packed = http.get("/", headers={"Accept-Encoding": "gzip"})
    assert raw.text == packed.text
    return int(raw.headers["content-length"]), int(packed.headers["content-length"])


def kb(value: float) -> str:
    return f"{value / 1024:,.1f} KB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sessions", type=int, nargs="+", default=[0, 100])
    args = parser.parse_args()

    results: dict[tuple[int, str], dict] = {}
    page_sizes: tuple[int, int] | None = None
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for count in args.sessions:
                for name, send_unchanged in (("baseline", True), ("studio", False)):
                    with studio(count, send_unchanged=send_unchanged) as (url, counter):
                        results[count, name] = idle_tab(browser, url, counter, args.seconds, count)
                        if page_sizes is None:
                            page_sizes = first_page(url)
        finally:
            browser.close()

    print(f"Idle Sessions tab, {args.seconds:g} s counted per case, bytes the server sent per minute")
    print(f"{'sessions':>8} {'case':>9} {'table events':>13} {'heartbeat':>10} {'changes':>9} {'other':>9} "
          f"{'total':>10} {'browser bodies':>14}")
    ok = True
    for count in args.sessions:
        for name in ("baseline", "studio"):
            r = results[count, name]
            total = sum(r[kind] for kind in KINDS)
            print(f"{count:>8} {name:>9} {kb(r['events']):>13} {kb(r['heartbeat']):>10} {kb(r['changes']):>9} "
                  f"{kb(r['other']):>9} {kb(total):>10} {kb(r['upload']):>14}")
        base, ours = results[count, "baseline"], results[count, "studio"]
        besides = (ours["events"] + ours["other"]) * args.seconds / 60.0  # bytes over the whole count
        passed = besides <= ENVELOPE
        ok &= passed
        base_total, our_total = (sum(r[kind] for kind in KINDS) for r in (base, ours))
        print(f"{verdict(passed)}: {count} sessions, {besides:,.0f} B in {args.seconds:g} s besides heartbeats "
              f"(target ≤ {ENVELOPE} B: nothing but heartbeats); everything together "
              f"{base_total / max(1.0, our_total):.1f}x less than the baseline")

    raw, packed = page_sizes or (0, 0)
    page_ok = packed <= raw * MAX_PAGE_SHARE
    ok &= page_ok
    print(f"\nFirst page (GET /): {kb(raw)} uncompressed, {kb(packed)} with gzip "
          f"({packed / raw:.1%}, {raw / packed:.1f}x smaller)")
    print(f"{verdict(page_ok)}: the compressed first page is at most {MAX_PAGE_SHARE:.0%} of its size")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
