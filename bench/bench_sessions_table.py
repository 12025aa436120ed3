"""How fast the Sessions tab's table handler answers over a ledger of 10,000 sessions, against a
naive handler that does the same work on every tick.

    python bench/bench_sessions_table.py [--rows 10000] [--calls 50] [--baseline-calls 5]

Builds the real page (`app.build_ui`) over a ledger filled with synthetic sessions (bulk-inserted
in one transaction: 10,000 `Ledger.open_request` calls would take longer than the benchmark) and
100 account conversations, then calls the `sessions_table` handler itself, as Gradio would:

- "live": a session changes in the ledger before every call, and the shared ledger re-read
  interval is off, so every call re-reads what can still change and rebuilds the merged frame
  (the worst case of a refresh tick);
- "steady": nothing changed since the last tick;
- with a status filter, a search text and a date range (live).

The baseline, timed in the same run for each case, is what a handler without the shared mirror
and frames would do on every tick: read the whole ledger, merge it with the conversations, apply
the same filters, sum the same figures and format the same newest 500 rows, row by row in plain
Python, then draw them with the page's own table, figures and caption code. Before timing, each
case checks that the baseline's answer is the handler's, value for value. Both run on one fixed
clock so that their answers can be compared.

PASS when the handler is at least 10x faster than the baseline in every case (p50 against p50).

Then the change stream's mark, which an open Sessions tab asks for every half interval
(`History.changes_mark`, no reading shared between calls): steady and after a change, against a
mark that formats every session for the table and hashes it with the figures. PASS when the
steady mark is at least 10x cheaper.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from app import build_ui
from components.session_figures import figures_html
from components.sessions_table import table_value
from pages.context import PageContext
from pages.sessions import caption_text
from server.embedded import connect_upstream
from studio.calls.ledger import Ledger
from studio.clock import FakeClock
from studio.config import load_settings
from studio.core import Studio
from studio.history import (
    DEFAULT_LIMIT,
    ELSEWHERE,
    STUDIO,
    TABLE_COLUMNS,
    Figures,
    Filters,
    SessionsView,
    avatar_label,
    avatar_names,
    clock_duration,
    epoch,
    estimated_spend,
    failure_text,
    utc_day_start,
)
from studio.history.filters import status_matches
from studio.history.words import CONVERSATION_STATUS
from studio.vocabulary import (
    COMPLETED,
    FAILURE_WORDS,
    OPEN_STATUSES,
    PRESET_AVATARS,
    RUNNING,
    TERMINAL,
    status_label,
)

MIN_SPEEDUP = 10.0
CASES = {  # name → (the handler's inputs: statuses, avatar, since, until, search), live
    "live, no filters": (([], "", None, None, ""), True),
    "steady, no filters": (([], "", None, None, ""), False),
    "live, status=FAILED": ((["FAILED"], "", None, None, ""), True),
    "live, search 'nobody'": (([], "", None, None, "nobody"), True),
    "live, last 7 days": (([], "", "now - 7d", None, ""), True),
}

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


# ----------------------------------------------------------------------------------------------
# The baseline: the same table, figures and caption, built naively on every tick


def naive_sessions(rows: list[dict], items: list[dict]) -> list[dict]:
    """The ledger's rows plus the conversations it does not know, newest first, as plain dicts."""
    sessions = [{
        "key": r["session_id"] or r["request_id"], "request_id": r["request_id"],
        "session_id": r["session_id"], "avatar_id": r["avatar_id"], "avatar_name": None,
        "status": r["status"], "queued": bool(r["queued"]), "failure_code": r["failure_code"],
        "failure": r["failure"], "duration": r["duration"], "created": r["requested_at"],
        "ready_at": r["ready_at"], "first_frame_at": r["first_frame_at"],
        "running_at": r["running_at"], "ended_at": r["ended_at"], "origin": STUDIO,
    } for r in rows]
    known = {r["session_id"] for r in rows}
    for c in items:
        if c["id"] in known:
            continue
        avatar = c.get("avatar") or {}
        sessions.append({
            "key": c["id"], "request_id": None, "session_id": c["id"],
            "avatar_id": avatar.get("preset_id") or avatar.get("presetId") or avatar.get("id"),
            "avatar_name": avatar.get("name"),
            "status": CONVERSATION_STATUS.get(c.get("status"), str(c.get("status")).upper()),
            "queued": False, "failure_code": c.get("failure_code"), "failure": c.get("failure"),
            "duration": c.get("duration"), "created": epoch(c.get("created_at")), "ready_at": None,
            "first_frame_at": None, "running_at": None, "ended_at": None, "origin": ELSEWHERE,
        })
    sessions.sort(key=lambda s: (s["created"] is None, -(s["created"] or 0.0)))
    return sessions


def naive_keep(s: dict, filters: Filters, names: dict[str, str]) -> bool:
    """Whether the filters keep one session (the rules of `studio.history.filters`, row by row)."""
    if filters.statuses:
        matches = [status_matches(word) for word in filters.statuses]
        if not any(s["status"] in statuses and (queued is None or s["queued"] == queued)
                   for statuses, queued in matches):
            return False
    if filters.avatar:
        wanted = filters.avatar.lower()
        ids = {i.lower() for i, name in names.items() if name.lower() == wanted} | {wanted}
        if (s["avatar_id"] or "").lower() not in ids and (s["avatar_name"] or "").lower() != wanted:
            return False
    created = s["created"]
    if filters.since is not None and not (created is not None and created >= filters.since):
        return False
    if filters.until is not None and not (created is not None and created < filters.until):
        return False
    if filters.search:
        term = filters.search.lower()
        text = "\n".join(filter(None, (
            s["avatar_id"], s["avatar_name"], s["status"], status_label(s["status"], s["queued"]),
            s["failure_code"], s["failure"], FAILURE_WORDS.get(s["failure_code"] or ""),
            s["session_id"], s["request_id"], s["origin"]))).lower()
        named = any(term in name.lower() and s["avatar_id"] == i for i, name in names.items())
        if term not in text and not named:
            return False
    return True


def naive_used(s: dict, now: float) -> float:
    if s["duration"] is not None:
        return max(0.0, float(s["duration"]))
    end = now if s["status"] == RUNNING else s["ended_at"]
    if end is None or s["running_at"] is None:
        return 0.0
    return max(0.0, end - s["running_at"])


def naive_after(s: dict, moment: str) -> float | None:
    if s[moment] is None or s["created"] is None:
        return None
    return s[moment] - s["created"]


def naive_figures(selected: list[dict], now: float, settings: Any) -> Figures:
    def quantiles(values: list) -> tuple[float | None, float | None]:
        known = [v for v in values if v is not None and v >= 0]
        if not known:
            return None, None
        p50, p95 = np.percentile(known, [50, 95])
        return float(p50), float(p95)

    ended = sum(s["status"] in TERMINAL for s in selected)
    completed = sum(s["status"] == COMPLETED for s in selected)
    minutes = sum(naive_used(s, now) for s in selected) / 60.0
    credits, usd = estimated_spend(minutes, settings.credits_per_minute, settings.usd_per_credit)
    ready = quantiles([naive_after(s, "ready_at") for s in selected])
    first_frame = quantiles([naive_after(s, "first_frame_at") for s in selected])
    day = utc_day_start(now)
    return Figures(
        sessions=len(selected), today=sum((s["created"] or -math.inf) >= day for s in selected),
        ended=ended, completed=completed, success_rate=completed / ended if ended else None,
        ready_p50=ready[0], ready_p95=ready[1], frame_p50=first_frame[0],
        frame_p95=first_frame[1], minutes=minutes, credits=credits, usd=usd,
        open=sum(s["status"] in OPEN_STATUSES for s in selected),
    )


def naive_row(s: dict, now: float, names: dict[str, str]) -> dict:
    def seconds(moment: str) -> float | None:
        value = naive_after(s, moment)
        return None if value is None else round(value, 1)

    ran = s["status"] in (RUNNING, COMPLETED) or s["duration"] is not None or (
        s["running_at"] is not None)
    return {
        "created (UTC)": "" if s["created"] is None else time.strftime(
            "%Y-%m-%d %H:%M:%S", time.gmtime(s["created"])),
        "avatar": avatar_label(s["avatar_id"], s["avatar_name"] or names.get(s["avatar_id"])),
        "status": status_label(s["status"], s["queued"]),
        "to READY (s)": seconds("ready_at"), "to 1st frame (s)": seconds("first_frame_at"),
        "duration": clock_duration(naive_used(s, now)) if ran else "",
        "failure": failure_text(s["failure_code"], s["failure"]),
        "origin": s["origin"], "id": s["key"],
    }


def naive_handler(studio: Studio, items: list[dict], inputs: tuple) -> tuple[Any, str, str]:
    """What `sessions_table` answers, computed the obvious way from scratch."""
    now, settings = studio.clock.now(), studio.settings
    wanted = Filters.parse(*inputs, now=now)
    names = dict(PRESET_AVATARS) | avatar_names(items)
    sessions = naive_sessions(studio.ledger.list(limit=None), items)
    selected = [s for s in sessions if naive_keep(s, wanted, names)] if wanted.active else sessions
    rows = [naive_row(s, now, names) for s in selected[:DEFAULT_LIMIT]]
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS), dtype=object)
    figures = naive_figures(selected, now, settings)
    view = SessionsView(table, figures, len(selected), len(sessions),
                        studio.history.conversations.error,
                        studio.history.conversations.fetched_at)
    return (table_value(table),
            figures_html(figures, settings.credits_per_minute),
            caption_text(view, wanted, settings.refresh_interval))


# ----------------------------------------------------------------------------------------------
# Timing


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_studio(rows: int) -> tuple[Studio, list[dict], list[str], Any]:
    """A studio over a filled ledger, on a clock fixed at the ledger's "now"; its conversations
    are the benchmark's own list. Returns it, the conversations, the open ids and how to stop."""
    folder = Path(tempfile.mkdtemp(prefix="bench-sessions-"))
    now = time.time()
    started = time.perf_counter()
    open_ids = fill_ledger(folder / "ledger.sqlite3", rows, now)
    print(f"ledger: {rows:,} sessions written in {time.perf_counter() - started:.1f} s")
    settings = load_settings({"STUDIO_DATA_DIR": str(folder)}, dotenv_path=None)
    upstream, stop = connect_upstream(settings)  # the embedded simulator, on its own clock
    studio = Studio(settings, upstream, clock=FakeClock(now))
    items = conversations(now)
    studio.history.conversations.fetch_list = lambda: Upstream(items).list_conversations(100)
    return studio, items, open_ids, stop


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--baseline-calls", type=int, default=5)
    args = parser.parse_args()

    studio, items, open_ids, stop = build_studio(args.rows)
    history = studio.history
    demo = build_ui(PageContext(studio=studio))
    handler = next(f.fn for f in demo.fns.values() if f.api_name == "sessions_table")

    started = time.perf_counter()
    await history.ready()
    await handler(*CASES["live, no filters"][0])
    cold = (time.perf_counter() - started) * 1000
    history.mirror.min_interval = 0.0  # every call looks at the ledger: no sharing between calls

    def touch() -> None:  # an open session's browser reports a moment before each live call
        studio.ledger.record_client_event(open_ids[0], "error", time.time(), "benchmark")

    async def timed(call: Any, inputs: tuple, live: bool, count: int) -> list[float]:
        times = []
        for _ in range(count):
            if live:
                touch()
            started = time.perf_counter()
            answer = call(*inputs)
            if asyncio.iscoroutine(answer):
                answer = await answer
            times.append((time.perf_counter() - started) * 1000)
        assert answer[0]["data"], answer[2]
        return times

    ours, naive = {}, {}
    for name, (inputs, live) in CASES.items():
        expected = await handler(*inputs)
        got = naive_handler(studio, items, inputs)
        assert got == expected, f"{name}: the baseline does not answer what the handler answers"
        ours[name] = await timed(handler, inputs, live, args.calls)
        naive[name] = await timed(lambda *i: naive_handler(studio, items, i), inputs, live,
                                  args.baseline_calls)
    marks, old_marks = await time_marks(history, touch, args.calls)
    stop()
    return max(report(ours, naive, cold, args), report_marks(marks, old_marks))


def whole_table_mark(history: Any) -> str:
    """The baseline mark: every session formatted for the table, then hashed with the figures."""
    view = history.view(Filters(), limit=None)
    rows = pd.util.hash_pandas_object(view.table, index=False).to_numpy().tobytes()
    return hashlib.blake2b(rows + repr((view.figures, view.total)).encode(), digest_size=12).hexdigest()


async def time_marks(history: Any, touch: Any, calls: int) -> tuple[dict, dict]:
    """The change stream's mark (what an open Sessions tab costs each half interval), steady and
    after a change, against formatting every session for each reading."""
    ours: dict[str, list[float]] = {"steady": [], "live": []}
    baseline: dict[str, list[float]] = {"steady": [], "live": []}
    for case in ("steady", "live"):
        for _ in range(calls):
            if case == "live":
                touch()
            history._marks.clear()  # no reading shared between calls
            started = time.perf_counter()
            await history.changes_mark()
            ours[case].append((time.perf_counter() - started) * 1000)
            if case == "live":
                touch()
            started = time.perf_counter()
            whole_table_mark(history)
            baseline[case].append((time.perf_counter() - started) * 1000)
    return ours, baseline


def report_marks(ours: dict, baseline: dict) -> int:
    print(f"\n{'change mark':<24}{'p50 ms':>9}{'baseline p50':>14}{'speed-up':>10}")
    speedups = {}
    for case, times in ours.items():
        speedups[case] = statistics.median(baseline[case]) / statistics.median(times)
        print(f"{case:<24}{statistics.median(times):>9.1f}{statistics.median(baseline[case]):>14.1f}"
              f"{speedups[case]:>9.1f}x")
    verdict = "PASS" if speedups["steady"] >= MIN_SPEEDUP else "FAIL"
    print(f"{verdict}: an idle Sessions tab's mark is {speedups['steady']:.1f}x cheaper than formatting "
          f"every session (needed {MIN_SPEEDUP:g}x)")
    return 0 if verdict == "PASS" else 1


def report(ours: dict, naive: dict, cold: float, args: Any) -> int:
    print(f"first call after start (full ledger read; done by a background task at start-up): "
          f"{cold:.0f} ms")
    print(f"{'case':<24}{'p50 ms':>9}{'p95 ms':>9}{'baseline p50':>14}{'p95':>9}{'speed-up':>10}"
          f"   ({args.calls} calls, baseline {args.baseline_calls})")
    speedups = {}
    for name, times in ours.items():
        p50, base = statistics.median(times), statistics.median(naive[name])
        speedups[name] = base / p50
        print(f"{name:<24}{p50:>9.1f}{percentile(times, 0.95):>9.1f}{base:>14.1f}"
              f"{percentile(naive[name], 0.95):>9.1f}{speedups[name]:>9.1f}x")
    worst = min(speedups, key=speedups.get)
    verdict = "PASS" if speedups[worst] >= MIN_SPEEDUP else "FAIL"
    print(f"{verdict}: the handler is at least {speedups[worst]:.1f}x faster than the same work "
          f"done naively (smallest: {worst}; needed {MIN_SPEEDUP:g}x) over {args.rows:,} sessions")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
