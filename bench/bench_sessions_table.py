"""How fast the Sessions tab's table handler answers over a ledger of 10,000 sessions.

    python bench/bench_sessions_table.py [--rows 10000] [--calls 50]

Builds the real page (`app.build_ui`) over a ledger filled with synthetic sessions (bulk-inserted
in one transaction: 10,000 `Ledger.open_request` calls would take longer than the benchmark) and
100 account conversations, then calls the `sessions_table` handler itself, as Gradio would:

- "live": a session changes in the ledger before every call, and the shared ledger re-read
  interval is off, so every call re-reads what can still change and rebuilds the merged frame
  (the worst case of a refresh tick);
- "steady": nothing changed since the last tick;
- with a status filter and with a search text (live).

The baseline, timed in the same run, is what a handler without the shared mirror would do on
every tick: read the whole ledger and build the table row by row. PASS when the live p50 is
at most 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from app import build_ui
from pages.context import PageContext
from studio.config import load_settings
from studio.core import Studio
from studio.history import clock_duration, failure_text, status_label
from studio.ledger import Ledger
from studio.runway import PRESET_AVATARS

BUDGET_MS = 50.0
AVATARS = list(PRESET_AVATARS)
TRANSCRIPT = json.dumps([{"role": "user", "content": "Hello there, how are you today?", "timestamp": None,
                          "tool_calls": []},
                         {"role": "assistant", "content": "Very well, thank you! What shall we talk about?",
                          "timestamp": None, "tool_calls": []}] * 3)


def fill_ledger(path: Path, rows: int, now: float) -> list[str]:
    """`rows` sessions over the last 30 days, newest ones still open; returns the open ids."""
    Ledger(path).close()  # creates the schema
    rng = random.Random(6)
    records, open_ids = [], []
    for i in range(rows):
        at = now - 5 - i * (30 * 86400 / rows)
        rid = f"req{i:012d}"
        roll = rng.random()
        status = ("RUNNING" if i < 2 else "READY" if i < 3 else "NOT_READY" if i < 4 else
                  "COMPLETED" if roll < 0.72 else "FAILED" if roll < 0.86 else "CANCELLED")
        ready = at + rng.uniform(0.7, 2.2)
        ran = status in ("RUNNING", "COMPLETED")
        duration = rng.randint(10, 300) if status == "COMPLETED" else None
        code = failure = None
        if status == "FAILED":
            code, failure = rng.choice([("TALKING_AVATAR.NO_PARTICIPANT", "No participants joined the session"),
                                        ("provisioning_timeout", "Not ready within 90 s"),
                                        ("upstream_down", "Runway is having trouble")])
        if status in ("RUNNING", "READY", "NOT_READY"):
            open_ids.append(rid)
        ended = None if status in ("RUNNING", "READY", "NOT_READY") else at + (duration or 20) + 3
        records.append((
            rid, f"sess-{i:012d}", rng.choice(AVATARS), status, 0, failure, code, duration, 300,
            json.dumps({"maxDuration": 300}), "simulator", f"client{i % 50}", at, at + 0.2,
            None if status == "NOT_READY" else ready, None if status == "NOT_READY" else ready + 0.05,
            ready + 0.6 if ran else None, ready + rng.uniform(0.8, 2.5) if ran else None,
            ready + 0.5 if ran else None, ended, TRANSCRIPT if status == "COMPLETED" else None,
            ended or at,
        ))
    db = sqlite3.connect(path)
    with db:
        db.executemany(f"INSERT INTO sessions ({', '.join(RECORD_COLUMNS)})"
                       f" VALUES ({','.join('?' * len(RECORD_COLUMNS))})", records)
    db.close()
    return open_ids


RECORD_COLUMNS = (  # the order of the values in each record above
    "request_id", "session_id", "avatar_id", "status", "queued", "failure", "failure_code", "duration",
    "max_duration", "overrides", "mode", "client_id", "requested_at", "created_at", "ready_at",
    "consumed_at", "connected_at", "first_frame_at", "running_at", "ended_at", "transcript", "updated_at",
)


def conversations(now: float, count: int = 100) -> list[dict]:
    """The account's newest conversations: most are the studio's own, a few started elsewhere."""
    from datetime import datetime, timezone
    items = []
    for i in range(count):
        elsewhere = i % 10 == 0
        items.append({
            "id": f"other-{i}" if elsewhere else f"sess-{i:012d}", "name": "Conversation",
            "status": "ended", "has_tools": False, "duration": 42,
            "avatar": {"type": "runway-preset", "preset_id": AVATARS[i % len(AVATARS)], "name": "Preset"},
            "created_at": datetime.fromtimestamp(now - 60 * i, timezone.utc),
        })
    return items


class Upstream:
    """Stands in for Runway's conversations API: the benchmark measures the studio, not the network."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items

    async def list_conversations(self, limit: int) -> list[dict]:
        return self.items[:limit]


def naive_table(ledger: Ledger, items: list[dict], now: float) -> pd.DataFrame:
    """The baseline: the whole ledger read and formatted row by row, on every tick."""
    own = ledger.list(limit=None)
    known = {r["session_id"] for r in own}
    table = []
    for r in own:
        used = r["duration"] if r["duration"] is not None else (
            (r["ended_at"] or now) - r["running_at"] if r["running_at"] else None)
        table.append({
            "created (UTC)": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r["requested_at"])),
            "avatar": PRESET_AVATARS.get(r["avatar_id"], r["avatar_id"]),
            "status": status_label(r["status"], r["queued"]),
            "to READY (s)": round(r["ready_at"] - r["requested_at"], 1) if r["ready_at"] else None,
            "to 1st frame (s)": round(r["first_frame_at"] - r["requested_at"], 1) if r["first_frame_at"] else None,
            "duration": clock_duration(used), "failure": failure_text(r["failure_code"], r["failure"]),
            "origin": "this studio", "id": r["session_id"] or r["request_id"],
        })
    for c in items:
        if c["id"] not in known:
            table.append({"created (UTC)": c["created_at"].strftime("%Y-%m-%d %H:%M:%S"), "id": c["id"],
                          "origin": "elsewhere", "status": c["status"]})
    return pd.DataFrame(table)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    now = time.time()
    started = time.perf_counter()
    open_ids = fill_ledger(folder / "ledger.sqlite3", args.rows, now)
    print(f"ledger: {args.rows:,} sessions written in {time.perf_counter() - started:.1f} s")

    settings = load_settings({"STUDIO_DATA_DIR": str(folder)}, dotenv_path=None)
    studio = Studio(settings)
    studio.connect()  # starts the embedded simulator; its conversations are swapped below
    items = conversations(now)
    history = studio.history
    history.conversations.gateway = Upstream(items)
    demo = build_ui(PageContext(studio=studio))
    handler = next(f.fn for f in demo.fns.values() if f.api_name == "sessions_table")

    started = time.perf_counter()
    await history.ready()
    await handler([], "", None, None, "")
    cold = (time.perf_counter() - started) * 1000
    history.mirror.min_interval = 0.0  # every call looks at the ledger: no sharing between calls

    def touch() -> None:  # an open session's browser reports a moment before each live call
        studio.ledger.record_client_event(open_ids[0], "error", time.time(), "benchmark")

    async def timed(filters: tuple, live: bool) -> list[float]:
        times = []
        for _ in range(args.calls):
            if live:
                touch()
            started = time.perf_counter()
            table, _figures, caption = await handler(*filters)
            times.append((time.perf_counter() - started) * 1000)
        assert table["data"], caption
        return times

    runs = {
        "live, no filters": await timed(([], "", None, None, ""), True),
        "steady, no filters": await timed(([], "", None, None, ""), False),
        "live, status=FAILED": await timed((["FAILED"], "", None, None, ""), True),
        "live, search 'nobody'": await timed(([], "", None, None, "nobody"), True),
        "live, last 7 days": await timed(([], "", "now - 7d", None, ""), True),
    }
    baseline = []
    for _ in range(5):
        started = time.perf_counter()
        naive_table(studio.ledger, items, time.time())
        baseline.append((time.perf_counter() - started) * 1000)

    print(f"first call after start (full ledger read; done by a background task at start-up): {cold:.0f} ms")
    print(f"{'case':<26}{'p50 ms':>9}{'p95 ms':>9}   ({args.calls} calls each)")
    for name, times in runs.items():
        print(f"{name:<26}{statistics.median(times):>9.1f}{percentile(times, 0.95):>9.1f}")
    base = statistics.median(baseline)
    live = statistics.median(runs["live, no filters"])
    print(f"{'baseline (naive, per tick)':<26}{base:>9.1f}{percentile(baseline, 0.95):>9.1f}   (5 calls)")
    print(f"speed-up over the baseline (p50, live): {base / live:.1f}x")
    worst = max(statistics.median(t) for t in runs.values())
    verdict = "PASS" if worst <= BUDGET_MS else "FAIL"
    print(f"{verdict}: slowest p50 {worst:.1f} ms against a budget of {BUDGET_MS:.0f} ms "
          f"over {args.rows:,} sessions")
    if studio.simulator:
        studio.simulator.stop()
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
