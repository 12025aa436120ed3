"""Session history: the ledger merged with the account's avatar conversations, as tables, figures.

Two layers live here, neither of which knows about the UI:

- pure functions that turn ledger rows and conversation list items into one frame of sessions
  (`merge_sessions`), select from it (`select_sessions`, driven by `Filters`), format it for a table
  (`display_frame`; `sessions_frame` does all three; `spreadsheet_safe` readies it for a CSV), and
  sum it up (`session_figures`, `usage_by_day`, `session_details`);
- the shared, server-side caches that feed them, so that however many people watch the Sessions
  tab, Runway sees one conversations listing per TTL and the ledger is read incrementally:
  `ConversationsCache`, `LedgerMirror`, `SharedValue`, bundled by `History`.

Times are epoch seconds from the studio's clock; the "day" is the UTC day, as for the guards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from studio.background import cancel_and_wait
from studio.errors import StudioError
from studio.ledger import OPEN, TERMINAL
from studio.runway import PRESET_AVATARS

log = logging.getLogger(__name__)

# A status only conversations started elsewhere have: the list API says "in_progress" and no more.
IN_PROGRESS = "IN_PROGRESS"
OPEN_STATUSES = frozenset(OPEN) | {IN_PROGRESS}
TERMINAL_STATUSES = frozenset(TERMINAL)
STATUSES = ("REQUESTED", "NOT_READY", "READY", "RUNNING", IN_PROGRESS, "COMPLETED", "FAILED",
            "CANCELLED")

STUDIO, ELSEWHERE = "this studio", "elsewhere"

_LABELS = {
    "REQUESTED": "requested", "READY": "ready", "RUNNING": "running", IN_PROGRESS: "in progress",
    "COMPLETED": "completed", "FAILED": "failed", "CANCELLED": "cancelled",
}
# What the filter accepts besides the statuses themselves (case-insensitive).
_STATUS_WORDS = {label: status for status, label in _LABELS.items()} | {"not ready": "NOT_READY"}
# Filter words that stand for several statuses.
_STATUS_GROUPS = {
    "open": OPEN_STATUSES, "active": OPEN_STATUSES, "live": OPEN_STATUSES,
    "ended": TERMINAL_STATUSES, "terminal": TERMINAL_STATUSES, "finished": TERMINAL_STATUSES,
}
_CONVERSATION_STATUS = {"in_progress": IN_PROGRESS, "ended": "COMPLETED", "failed": "FAILED"}

# Failure codes the ledger holds (Runway's own and the studio's), in plain words.
FAILURE_WORDS: dict[str, str] = {
    "TALKING_AVATAR.NO_PARTICIPANT": "Nobody joined within 20 s",
    "provisioning_timeout": "Runway did not get the session ready in time",
    "client_gone": "The caller left before the session was ready",
    "cancelled": "Cancelled from the studio",
    "interrupted": "The studio restarted before Runway answered",
    "vanished": "Runway no longer knows this session",
    "session_failed": "Runway could not start the session",
    "session_cancelled": "Cancelled before it was ready",
    "session_ended": "Ended before the call could start",
    "consume_failed": "Could not collect the call credentials",
    "upstream_down": "Runway was having trouble",
    "upstream_timeout": "Runway did not answer in time",
    "upstream_unreachable": "Could not reach Runway",
    "upstream_error": "Runway answered with an unexpected error",
    "rate_limited": "Runway was rate limiting requests",
    "daily_cap": "The Runway account reached its daily session limit",
    "no_credits": "The Runway account ran out of credits",
    "bad_api_key": "Runway rejected the API key",
    "permission_denied": "Runway refused access",
    "invalid_request": "Runway refused the request",
    "studio_busy": "All of the studio's call slots were in use",
    "studio_daily_cap": "The studio reached its daily call limit",
    "client_rate_limited": "This caller started too many calls in the last hour",
    "avatar_not_found": "There is no character with that id",
    "avatar_not_ready": "The character was still being processed",
    "avatar_failed": "The character cannot take calls",
}

# The columns of a ledger or conversations frame; times are epoch floats, NaN when unknown.
# `created` is when the session was asked for (the studio's request, or Runway's createdAt);
# `client_id` is the anonymised caller of a studio session (None for sessions started elsewhere).
RAW_COLUMNS = (
    "key", "request_id", "session_id", "avatar_id", "avatar_name", "status", "queued",
    "failure_code", "failure", "duration", "created", "created_at", "ready_at", "first_frame_at",
    "running_at", "ended_at", "origin", "client_id",
)
# Frames also carry `search` (what the search box looks in); `merge_sessions` adds the two
# latencies, in seconds from `created`: `to_ready`, `to_first_frame`.
_TIME_COLUMNS = ("created", "created_at", "ready_at", "first_frame_at", "running_at", "ended_at")

# The table people see, in order. `id` is the session id (the request id before Runway answered).
TABLE_COLUMNS = (
    "created (UTC)", "avatar", "status", "to READY (s)", "to 1st frame (s)", "duration", "failure",
    "origin", "id",
)
NUMBER_COLUMNS = ("to READY (s)", "to 1st frame (s)")

DEFAULT_LIMIT = 500


# ----------------------------------------------------------------------------------------------
# Words


def status_label(status: str, queued: bool = False) -> str:
    """NOT_READY reads as queued (waiting for a slot) or provisioning; others in lower case."""
    if status == "NOT_READY":
        return "queued" if queued else "provisioning"
    return _LABELS.get(status, str(status).lower())


def explain_failure(code: str | None, failure: str | None = None) -> str:
    """A failure code in plain words; unknown codes keep Runway's own text, or show as they are."""
    if not code:
        return failure or ""
    return FAILURE_WORDS.get(code) or failure or ""


def failure_text(code: str | None, failure: str | None = None) -> str:
    """`code: plain words` for the table (the code alone when there are no words for it)."""
    if not code:
        return ""
    words = explain_failure(code, failure)
    return f"{code}: {words}" if words and words != code else code


def clock_duration(seconds: float | None) -> str:
    """Seconds as m:ss ("" when unknown)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def avatar_label(avatar_id: str | None, name: str | None = None) -> str:
    if name:
        return name
    if not avatar_id:
        return "unknown"
    if avatar_id in PRESET_AVATARS:
        return PRESET_AVATARS[avatar_id]
    return avatar_id[:8] + "…" if len(avatar_id) > 12 else avatar_id


def utc_day_start(at: float) -> float:
    day = datetime.fromtimestamp(at, timezone.utc)
    return day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def epoch(value: Any) -> float | None:
    """A datetime, ISO string or number as epoch seconds (naive datetimes are UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    raise TypeError(f"not a time: {value!r}")


def iso_utc(at: float | None) -> str:
    if at is None:
        return ""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# ----------------------------------------------------------------------------------------------
# Filters

_NOW = re.compile(r"^\s*now\s*(?:-\s*(\d+(?:\.\d+)?)\s*([smhdw]))?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(value: Any, now: float, *, end: bool = False) -> float | None:
    """A date-range bound as epoch seconds, read as UTC.

    Accepts epoch numbers, datetimes, "YYYY-MM-DD" (a whole day: `end=True` gives the next
    midnight, so the day is included), "YYYY-MM-DD HH:MM[:SS]", "now" and "now - 7d" (s/m/h/d/w).
    Raises ValueError with plain words for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float, datetime)):
        return epoch(value)
    text = str(value).strip()
    match = _NOW.match(text)
    if match:
        amount = float(match.group(1) or 0)
        return now - amount * _UNITS[(match.group(2) or "s").lower()]
    if text.lower() == "today":
        start = utc_day_start(now)
        return start + 86400 if end else start
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(text, pattern).replace(tzinfo=timezone.utc).timestamp()
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date: use YYYY-MM-DD, YYYY-MM-DD HH:MM or now - 7d") from None
    return (day + timedelta(days=1)).timestamp() if end else day.timestamp()


@dataclass(frozen=True)
class Filters:
    """What the Sessions tab shows: statuses (any of), one avatar, a time range, a search text."""

    statuses: tuple[str, ...] = ()
    avatar: str | None = None
    since: float | None = None
    until: float | None = None
    search: str = ""

    @classmethod
    def parse(
        cls, statuses: Iterable[str] | str | None = None, avatar: str | None = None,
        since: Any = None, until: Any = None, search: str | None = None, *, now: float,
    ) -> Filters:
        """Filters from what a person typed or picked; raises ValueError for an unreadable date."""
        if isinstance(statuses, str):
            statuses = [statuses]
        wanted = tuple(s.strip() for s in statuses or () if s and s.strip())
        avatar = (avatar or "").strip() or None
        if avatar and avatar.lower() in {"all", "any", "all avatars"}:
            avatar = None
        return cls(
            statuses=wanted, avatar=avatar, since=parse_when(since, now),
            until=parse_when(until, now, end=True), search=(search or "").strip(),
        )

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.avatar or self.since is not None or self.until is not None
                    or self.search)


def _status_mask(frame: pd.DataFrame, wanted: Sequence[str]) -> np.ndarray:
    status = frame["status"].to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    for raw in wanted:
        word = raw.strip().lower()
        if word in ("queued", "provisioning"):
            queued = frame["queued"].to_numpy()
            mask |= (status == "NOT_READY") & (queued == (word == "queued"))
        elif word in _STATUS_GROUPS:
            mask |= np.isin(status, list(_STATUS_GROUPS[word]))
        else:
            mask |= status == _STATUS_WORDS.get(word, raw.strip().upper())
    return mask


def filter_mask(
    frame: pd.DataFrame, filters: Filters, names: dict[str, str] | None = None,
) -> np.ndarray:
    """Which rows of a merged frame the filters keep (vectorised; an empty filter keeps all).

    `names` (avatar id → display name) lets the avatar filter and the search match names too.
    """
    mask = np.ones(len(frame), dtype=bool)
    names = names if names is not None else avatar_names([])
    if filters.statuses:
        mask &= _status_mask(frame, filters.statuses)
    if filters.avatar:
        wanted = filters.avatar.lower()
        ids = {i.lower() for i, name in names.items() if name.lower() == wanted} | {wanted}
        by_id = frame["avatar_id"].str.lower().isin(ids)
        mask &= (by_id | (frame["avatar_name"].str.lower() == wanted)).to_numpy()
    created = frame["created"].to_numpy()
    if filters.since is not None:
        mask &= created >= filters.since
    if filters.until is not None:
        mask &= created < filters.until
    if filters.search:
        term = filters.search.lower()
        found = frame["search"].str.contains(term, regex=False).to_numpy(dtype=bool)
        named = [i for i, name in names.items() if term in name.lower()]
        if named:
            found = found | frame["avatar_id"].isin(named).to_numpy()
        mask &= found
    return mask


def search_text(frame: pd.DataFrame) -> pd.Series:
    """One lower-case text per row that the search box looks in (names are matched apart)."""
    columns = ("avatar_id", "avatar_name", "status", "queued", "failure_code", "failure",
               "session_id", "request_id", "origin")
    texts = [
        "\n".join(filter(None, (avatar, name, status, status_label(status, queued), code, failure,
                                FAILURE_WORDS.get(code or ""), session, request, origin))).lower()
        for avatar, name, status, queued, code, failure, session, request, origin
        in zip(*(frame[c].tolist() for c in columns))
    ]
    return pd.Series(texts, dtype=object, index=frame.index)


# ----------------------------------------------------------------------------------------------
# Frames

_TEXT_COLUMNS = ("key", "request_id", "session_id", "avatar_id", "avatar_name", "status",
                 "failure_code", "failure", "origin", "client_id")
_MOMENTS = ("created_at", "ready_at", "first_frame_at", "running_at", "ended_at")


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """A frame in the RAW_COLUMNS schema from plain column lists (None for unknown values)."""
    data: dict[str, Any] = {}
    for column in RAW_COLUMNS:
        values = columns.get(column)
        if column in _TEXT_COLUMNS:
            data[column] = pd.Series(values, dtype=object)
        elif column == "queued":
            data[column] = np.array([bool(v) for v in values], dtype=bool)
        else:
            data[column] = np.array([np.nan if v is None else v for v in values], dtype="float64")
    frame = pd.DataFrame(data)
    frame["search"] = search_text(frame)
    return frame


def ledger_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Ledger rows (`Ledger.list`) as a frame in the merged schema (origin: this studio)."""
    if not len(rows):
        return empty_frame()
    get = lambda name: [r.get(name) for r in rows]
    return _frame({
        "key": [r["session_id"] or r["request_id"] for r in rows],
        "request_id": get("request_id"), "session_id": get("session_id"),
        "avatar_id": get("avatar_id"), "avatar_name": [None] * len(rows), "status": get("status"),
        "queued": get("queued"), "failure_code": get("failure_code"), "failure": get("failure"),
        "duration": get("duration"), "created": get("requested_at"),
        **{c: get(c) for c in _MOMENTS},
        "origin": [STUDIO] * len(rows), "client_id": get("client_id"),
    })


def conversations_frame(conversations: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Avatar conversation list items (snake_case, from the gateway) in the merged schema."""
    if not conversations:
        return empty_frame()
    columns: dict[str, list[Any]] = {c: [] for c in RAW_COLUMNS}
    for item in conversations:
        avatar = item.get("avatar") or {}
        created = epoch(item.get("created_at", item.get("createdAt")))
        values = {
            "key": item["id"], "session_id": item["id"],
            "avatar_id": avatar.get("preset_id") or avatar.get("presetId") or avatar.get("id"),
            "avatar_name": avatar.get("name"),
            "status": _CONVERSATION_STATUS.get(item.get("status"), str(item.get("status")).upper()),
            "failure_code": item.get("failure_code"), "failure": item.get("failure"),
            "duration": item.get("duration"), "created": created, "created_at": created,
            "origin": ELSEWHERE,
        }
        for column in RAW_COLUMNS:
            columns[column].append(values.get(column))
    return _frame(columns)


def empty_frame() -> pd.DataFrame:
    return _frame({column: [] for column in RAW_COLUMNS})


_FINGERPRINT = ("request_id", "status", "queued", "updated_at", "ready_at", "first_frame_at",
                "running_at", "ended_at", "duration", "failure_code")


def avatar_names(conversations: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Avatar id → display name, from presets and whatever conversations name."""
    names = dict(PRESET_AVATARS)
    for item in conversations:
        avatar = item.get("avatar") or {}
        avatar_id = avatar.get("id") or avatar.get("preset_id") or avatar.get("presetId")
        if avatar_id and avatar.get("name") and avatar_id not in PRESET_AVATARS:
            names[avatar_id] = avatar["name"]
    return names


def merge_sessions(
    ledger: pd.DataFrame | Sequence[dict[str, Any]],
    conversations: Sequence[dict[str, Any]] | pd.DataFrame,
) -> pd.DataFrame:
    """The studio's ledger plus the account's conversations it does not know (started elsewhere).

    Newest first. A conversation with the id of a ledger row is the same session: the ledger,
    which the studio watched closely, wins. Adds `to_ready` and `to_first_frame` (seconds from
    the request).
    """
    own = ledger if isinstance(ledger, pd.DataFrame) else ledger_frame(ledger)
    theirs = (conversations if isinstance(conversations, pd.DataFrame)
              else conversations_frame(conversations))
    foreign = theirs[~theirs["session_id"].isin(own["session_id"])] if len(theirs) else theirs
    merged = pd.concat([own, foreign], ignore_index=True) if len(foreign) else own.copy(deep=False)
    if not merged["created"].is_monotonic_decreasing:  # the ledger comes sorted; skip the work then
        order = np.argsort(-merged["created"].to_numpy(), kind="stable")
        merged = merged.take(order).reset_index(drop=True)
    merged["to_ready"] = merged["ready_at"] - merged["created"]
    merged["to_first_frame"] = merged["first_frame_at"] - merged["created"]
    return merged


def seconds_used(frame: pd.DataFrame, now: float) -> np.ndarray:
    """Time in the room: Runway's duration once known, else since RUNNING was first seen."""
    duration = frame["duration"].to_numpy()
    running = frame["status"].to_numpy() == "RUNNING"
    elapsed = np.where(running, now, frame["ended_at"].to_numpy()) - frame["running_at"].to_numpy()
    used = np.where(np.isnan(duration), elapsed, duration)
    return np.nan_to_num(np.clip(used, 0, None), nan=0.0)


def of_client(frame: pd.DataFrame, client_id: str | None) -> pd.DataFrame:
    """Only the sessions one caller started in this studio; every session when `client_id` is None."""
    if client_id is None:
        return frame
    return frame[frame["client_id"].to_numpy() == client_id]


def select_sessions(
    frame: pd.DataFrame, filters: Filters, names: dict[str, str] | None = None,
) -> pd.DataFrame:
    if not filters.active:
        return frame
    return frame[filter_mask(frame, filters, names)]


def _utc_texts(seconds: np.ndarray) -> list[str]:
    stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [s.replace("T", " ") if s != "NaT" else "" for s in stamps]


def display_frame(
    selected: pd.DataFrame, now: float, limit: int | None = DEFAULT_LIMIT,
    names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The newest `limit` selected sessions, formatted for people (TABLE_COLUMNS)."""
    shown = (selected.head(limit) if limit else selected).reset_index(drop=True)
    if not len(shown):
        return pd.DataFrame({column: pd.Series([], dtype=object) for column in TABLE_COLUMNS})
    names = names if names is not None else avatar_names([])
    used = seconds_used(shown, now)
    statuses, queued = shown["status"].tolist(), shown["queued"].tolist()
    ran = (np.isin(shown["status"].to_numpy(), ["RUNNING", "COMPLETED"])
           | ~np.isnan(shown["duration"].to_numpy()) | ~np.isnan(shown["running_at"].to_numpy()))
    avatars = zip(shown["avatar_id"], shown["avatar_name"])
    return pd.DataFrame({
        "created (UTC)": _utc_texts(shown["created"].to_numpy()),
        "avatar": [avatar_label(i, n or names.get(i)) for i, n in avatars],
        "status": [status_label(s, q) for s, q in zip(statuses, queued)],
        "to READY (s)": _seconds(shown["to_ready"].to_numpy()),
        "to 1st frame (s)": _seconds(shown["to_first_frame"].to_numpy()),
        "duration": [clock_duration(s) if r else "" for s, r in zip(used, ran)],
        "failure": [failure_text(c, f) for c, f in zip(shown["failure_code"], shown["failure"])],
        "origin": shown["origin"].tolist(),
        "id": shown["key"].tolist(),
    })


# What a spreadsheet reads as the start of a formula in a CSV cell (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` for a CSV export: text a spreadsheet would run as a formula (a character named
    `=HYPERLINK(…)`) gets a leading `'`, so it shows as text; numbers stay numbers."""
    return frame.map(_text_cell)


def _text_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _seconds(values: np.ndarray) -> pd.Series:
    """Seconds with one decimal; None (not NaN, which JSON cannot carry) when unknown."""
    return pd.Series([None if math.isnan(v) else round(float(v), 1) for v in values], dtype=object)


def sessions_frame(
    rows: pd.DataFrame | Sequence[dict[str, Any]],
    conversations: Sequence[dict[str, Any]],
    filters: Filters | None,
    now: float,
    limit: int | None = None,
) -> pd.DataFrame:
    """Ledger rows + conversation list items → the Sessions table (filtered, newest first)."""
    names = avatar_names(conversations)
    merged = merge_sessions(rows, conversations)
    return display_frame(select_sessions(merged, filters or Filters(), names), now, limit, names)


# ----------------------------------------------------------------------------------------------
# Figures


@dataclass(frozen=True)
class Figures:
    sessions: int              # sessions the figures cover
    today: int                 # of which started today (UTC)
    ended: int
    completed: int
    success_rate: float | None  # completed / ended
    ready_p50: float | None
    ready_p95: float | None
    frame_p50: float | None
    frame_p95: float | None
    minutes: float
    credits: float
    usd: float
    open: int


def session_figures(
    selected: pd.DataFrame, now: float, *, credits_per_minute: float, usd_per_credit: float,
) -> Figures:
    """Counts, success rate, p50/p95 latencies, minutes and estimated spend of some sessions."""
    status = selected["status"].to_numpy()
    ended = int(np.isin(status, list(TERMINAL_STATUSES)).sum())
    completed = int((status == "COMPLETED").sum())
    minutes = float(seconds_used(selected, now).sum()) / 60.0
    credits = minutes * credits_per_minute
    ready = _quantiles(selected["to_ready"].to_numpy())
    first_frame = _quantiles(selected["to_first_frame"].to_numpy())
    return Figures(
        sessions=len(selected),
        today=int((selected["created"].to_numpy() >= utc_day_start(now)).sum()),
        ended=ended,
        completed=completed,
        success_rate=completed / ended if ended else None,
        ready_p50=ready[0], ready_p95=ready[1],
        frame_p50=first_frame[0], frame_p95=first_frame[1],
        minutes=minutes,
        credits=credits,
        usd=credits * usd_per_credit,
        open=int(np.isin(status, list(OPEN_STATUSES)).sum()),
    )


def _quantiles(values: np.ndarray) -> tuple[float | None, float | None]:
    known = values[values >= 0]  # NaN compares false: unknown values drop out
    if not len(known):
        return None, None
    p50, p95 = np.percentile(known, [50, 95])
    return float(p50), float(p95)


# ----------------------------------------------------------------------------------------------
# Details of one session


@dataclass
class SessionDetails:
    key: str
    origin: str
    avatar: str
    status: str                  # canonical
    label: str                   # as shown in the table
    can_cancel: bool
    created: float | None
    failure: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)  # {at, offset, name, detail}
    overrides: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {role, content, timestamp}
    transcript_source: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    recording_url: str | None = None
    recording_fetched_at: float | None = None
    duration: str = ""
    request_id: str | None = None
    session_id: str | None = None


def session_details(
    row: dict[str, Any] | None,
    events: Sequence[dict[str, Any]],
    conversation: dict[str, Any] | None,
    now: float,
    *,
    fetched_at: float | None = None,
) -> SessionDetails:
    """Everything the details panel shows of one session (a ledger row, a conversation, or both)."""
    if row is None and conversation is None:
        raise ValueError("a session needs a ledger row or a conversation")
    conversation = conversation or {}
    avatar = conversation.get("avatar") or {}
    if row is not None:
        status, queued = row["status"], bool(row.get("queued"))
        created = row.get("requested_at")
        avatar_id, origin = row.get("avatar_id"), STUDIO
        failure_code, failure = row.get("failure_code"), row.get("failure")
        seconds = row.get("duration")
        if seconds is None and row.get("running_at"):
            seconds = (row.get("ended_at") or now) - row["running_at"]
    else:
        status = _CONVERSATION_STATUS.get(conversation.get("status"), IN_PROGRESS)
        queued, origin = False, ELSEWHERE
        created = epoch(conversation.get("created_at"))
        avatar_id = avatar.get("preset_id") or avatar.get("presetId") or avatar.get("id")
        failure_code, failure = conversation.get("failure_code"), conversation.get("failure")
        seconds = conversation.get("duration")
    timeline = [
        {"at": e["at"], "offset": (e["at"] - created) if created else None, "name": e["name"],
         "detail": e.get("detail") or ""}
        for e in events
    ] or _conversation_timeline(conversation, created)
    transcript, source = [], ""
    if row is not None and row.get("transcript"):
        transcript, source = [_entry(e) for e in row["transcript"]], "the studio's ledger"
    elif conversation.get("transcript"):
        transcript = [_entry(e) for e in conversation["transcript"]]
        source = "Runway's conversations API"
    tool_calls = [
        call | {"at": entry.get("timestamp")}
        for entry in (conversation.get("transcript") or row and row.get("transcript") or [])
        for call in _tool_calls(entry)
    ]
    return SessionDetails(
        key=(row and (row.get("session_id") or row["request_id"])) or conversation["id"],
        origin=origin,
        avatar=avatar_label(avatar_id, avatar.get("name")),
        status=status,
        label=status_label(status, queued),
        can_cancel=row is not None and status in ("NOT_READY", "READY", "RUNNING"),
        created=created,
        failure=failure_text(failure_code, failure),
        timeline=timeline,
        overrides=(dict(row.get("overrides") or {}) if row is not None
                   else _conversation_overrides(conversation)),
        transcript=transcript,
        transcript_source=source,
        tools=list(conversation.get("tools") or []),
        tool_calls=tool_calls,
        recording_url=conversation.get("recording_url"),
        recording_fetched_at=fetched_at if conversation.get("recording_url") else None,
        duration=clock_duration(seconds),
        request_id=row.get("request_id") if row else None,
        session_id=(row.get("session_id") if row else conversation.get("id")),
    )


def _conversation_timeline(
    conversation: dict[str, Any], created: float | None,
) -> list[dict[str, Any]]:
    moments = [("created", conversation.get("created_at")),
               ("started", conversation.get("started_at")), ("ended", conversation.get("ended_at"))]
    out = []
    for name, value in moments:
        at = epoch(value)
        if at is not None:
            offset = at - created if created else None
            out.append({"at": at, "offset": offset, "name": name, "detail": ""})
    return out


def _conversation_overrides(conversation: dict[str, Any]) -> dict[str, Any]:
    if conversation.get("max_duration"):
        return {"maxDuration": conversation["max_duration"]}
    return {}


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    stamp = entry.get("timestamp")
    return {"role": entry.get("role") or "", "content": entry.get("content") or "",
            "timestamp": stamp.isoformat() if hasattr(stamp, "isoformat") else stamp}


def _tool_calls(entry: dict[str, Any]) -> list[dict[str, Any]]:
    calls = entry.get("tool_calls") or entry.get("toolCalls") or []
    answers = entry.get("tool_results") or entry.get("toolResults") or []
    results = {r.get("id") or r.get("name"): r for r in answers}
    out = []
    for call in calls:
        result = results.get(call.get("id") or call.get("name")) or {}
        out.append({"name": call.get("name"), "arguments": call.get("arguments") or {},
                    "result": result.get("result"), "error": result.get("error")})
    return out


# ----------------------------------------------------------------------------------------------
# Usage tab


def usage_by_day(usage: dict[str, Any]) -> pd.DataFrame:
    """`avatar_usage` → one row per UTC day: date, sessions, minutes."""
    days = usage.get("by_day") or usage.get("byDay") or []
    records = []
    for day in days:
        value = day.get("date")
        if isinstance(value, (date, datetime)):
            value = value.isoformat()[:10]
        records.append({"date": pd.Timestamp(value), "sessions": int(day.get("sessions") or 0),
                        "minutes": round((day.get("seconds") or 0) / 60.0, 2)})
    return pd.DataFrame.from_records(records, columns=["date", "sessions", "minutes"])


@dataclass(frozen=True)
class AccountLimits:
    credit_balance: int | None
    max_concurrent: int | None
    max_daily: int | None
    used_today: int | None
    max_monthly_spend: int | None


def account_limits(organization: dict[str, Any], model: str = "gwm1_avatars") -> AccountLimits:
    """The organization's balance and its tier limits and usage for the avatars model."""
    tier = organization.get("tier") or {}
    limits = (tier.get("models") or {}).get(model) or {}
    used = ((organization.get("usage") or {}).get("models") or {}).get(model) or {}
    return AccountLimits(
        credit_balance=organization.get("credit_balance"),
        max_concurrent=limits.get("max_concurrent_generations"),
        max_daily=limits.get("max_daily_generations"),
        used_today=used.get("daily_generations"),
        max_monthly_spend=tier.get("max_monthly_credit_spend"),
    )


def estimated_spend(
    minutes: float, credits_per_minute: float, usd_per_credit: float,
) -> tuple[float, float]:
    credits = minutes * credits_per_minute
    return credits, credits * usd_per_credit


# ----------------------------------------------------------------------------------------------
# Shared caches


class ConversationsCache:
    """The newest avatar conversations and per-id details, shared by every viewer.

    While anyone has read the list in the last `idle_after` seconds, one background task fetches
    it every `ttl` seconds: the upstream rate is the same for one viewer or a hundred, and zero
    when nobody watches. A read that finds nothing fresh (first use, or after an idle spell)
    fetches inline; concurrent readers share that one fetch.
    """

    def __init__(
        self, gateway: Any, *, ttl: float = 10.0, idle_after: float = 60.0, limit: int = 100,
        detail_ttl: float = 600.0, detail_slots: int = 256,
    ) -> None:
        self.gateway, self.ttl, self.idle_after, self.limit = gateway, ttl, idle_after, limit
        self.detail_ttl, self.detail_slots = detail_ttl, detail_slots
        self.items: list[dict[str, Any]] = []
        self.names: dict[str, str] = dict(PRESET_AVATARS)
        self.version = 0
        self.fetched_at: float | None = None    # wall clock of the last good fetch (for people)
        self.error: str | None = None
        self.upstream_calls = 0
        self._attempted: float | None = None  # monotonic time of the last attempt (scheduling)
        self._last_read = -math.inf
        self._inflight: asyncio.Future | None = None
        self._details: OrderedDict[str, tuple[float, float, dict[str, Any]]] = OrderedDict()
        self._detail_locks = KeyedLocks()
        self._task: asyncio.Task | None = None

    # The list -----------------------------------------------------------------------------

    async def latest(self) -> list[dict[str, Any]]:
        """The cached list, fetched first if it is missing or stale."""
        self._last_read = time.monotonic()
        stale_after = self.ttl * (1.5 if self.running else 1.0)  # leave the beat to the task
        never = self.version == 0 and self.error is None
        if self._attempted is None or never or time.monotonic() - self._attempted >= stale_after:
            await self.refresh(min_age=self.ttl / 2)
        return self.items

    async def refresh(self, min_age: float = 0.0) -> None:
        """Fetch the list now, unless a fetch is under way (then wait for it) or one ended less
        than `min_age` seconds ago. A viewer that goes away does not cancel the shared fetch."""
        if self._inflight is None or self._inflight.done():
            if self._attempted is not None and time.monotonic() - self._attempted < min_age and (
                    self.version or self.error):
                return
            self._inflight = asyncio.ensure_future(self._fetch())
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        self._attempted = time.monotonic()
        self.upstream_calls += 1
        try:
            items = await self.gateway.list_conversations(self.limit)
        except StudioError as error:
            self.error = error.message
            return
        except Exception as error:  # never let the table die of a cache
            log.exception("listing conversations failed")
            self.error = f"Could not list conversations ({type(error).__name__})."
            return
        self.items, self.error, self.fetched_at = items, None, time.time()
        self.names.update(avatar_names(items))
        self.version += 1

    @property
    def wanted(self) -> bool:
        return time.monotonic() - self._last_read < self.idle_after

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="conversations-cache")

    async def stop(self) -> None:
        await cancel_and_wait(self._task, self._inflight)
        self._task = self._inflight = None

    async def _run(self) -> None:
        while True:
            age = math.inf if self._attempted is None else time.monotonic() - self._attempted
            if self.wanted and age >= self.ttl * 0.98:
                await self.refresh()
                age = 0.0
            await asyncio.sleep(max(0.05, self.ttl - age) if self.wanted else min(self.ttl, 1.0))

    # Details --------------------------------------------------------------------------------

    async def details(
        self, conversation_id: str, *, settled: bool = False,
    ) -> tuple[dict[str, Any] | None, float | None]:
        """One conversation's details and when they were fetched; (None, None) if Runway has none.

        Details of a conversation still in progress are kept `ttl` seconds, finished ones
        `detail_ttl` (their recording link stays valid for a day or more). `settled` says the
        session is known to have ended, so a copy taken while it was in progress is refetched.
        """
        async with self._detail_locks.hold(conversation_id):
            cached = self._details.get(conversation_id)
            if cached:
                monotonic_at, wall_at, value = cached
                in_progress = value.get("status") == "in_progress"
                keep = self.ttl if in_progress else self.detail_ttl
                if time.monotonic() - monotonic_at < keep and not (settled and in_progress):
                    self._details.move_to_end(conversation_id)
                    return value, wall_at
            self.upstream_calls += 1
            try:
                value = await self.gateway.get_conversation(conversation_id)
            except StudioError as error:
                if error.code == "not_found":
                    return None, None
                raise
            self._details[conversation_id] = (time.monotonic(), time.time(), value)
            while len(self._details) > self.detail_slots:
                self._details.popitem(last=False)
            return value, self._details[conversation_id][1]


class KeyedLocks:
    """One asyncio lock per key, kept only while someone holds or waits for it (junk keys leave nothing)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._entries.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._entries[key]


class LedgerMirror:
    """The ledger as one typed frame, kept current by reading only what can still change.

    A full read decodes every row (slow for thousands), so it happens once and then rarely,
    off the event loop. Rows requested before `cutoff` had all ended by that read and cannot
    change any more (terminal rows never move; late browser reports land within minutes), so each
    refresh re-reads only the rows requested since the cutoff, at most every `min_interval` s,
    shared by all viewers.
    """

    def __init__(
        self, ledger: Any, clock: Any, *, settle: float = 900.0, resync_every: float = 900.0,
        min_interval: float = 0.25,
    ) -> None:
        self.ledger, self.clock = ledger, clock
        self.settle, self.resync_every, self.min_interval = settle, resync_every, min_interval
        self.version = 0
        self._lock = threading.Lock()
        self._frozen: pd.DataFrame | None = None
        self._cutoff = -math.inf
        self._synced = -math.inf            # monotonic time of the last full read
        self._checked = -math.inf           # monotonic time of the last incremental read
        self._live_key: tuple[Any, ...] | None = None
        self._frame: pd.DataFrame = empty_frame()

    @property
    def loaded(self) -> bool:
        return self._frozen is not None

    @property
    def resync_due(self) -> bool:
        return time.monotonic() - self._synced >= self.resync_every

    def full_read(self) -> None:
        """Read every row (blocking; call it in a thread from async code)."""
        now = self.clock.now()
        started = time.monotonic()
        everything = ledger_frame(self.ledger.list(limit=None))
        open_rows = everything[~everything["status"].isin(TERMINAL)]
        cutoff = now - self.settle
        if len(open_rows):
            cutoff = min(cutoff, float(open_rows["created"].min()))
        frozen = everything[everything["created"] < cutoff]
        with self._lock:
            self._frozen, self._cutoff, self._synced = frozen, cutoff, started
            self._checked, self._live_key = -math.inf, None
        self.frame()

    def frame(self) -> pd.DataFrame:
        """The whole ledger as a frame (newest first), current to within `min_interval` s."""
        if self._frozen is None:
            self.full_read()
        if time.monotonic() - self._checked < self.min_interval:
            return self._frame
        with self._lock:
            if time.monotonic() - self._checked < self.min_interval:
                return self._frame
            rows = self.ledger.list(since=self._cutoff, limit=None)
            key = (id(self._frozen), *(tuple(r[c] for c in _FINGERPRINT) for r in rows))
            if key != self._live_key:
                live = ledger_frame(rows)
                parts = [p for p in (live, self._frozen) if len(p)]
                self._frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (
                    parts[0].reset_index(drop=True) if parts else empty_frame())
                self._live_key = key
                self.version += 1
            self._checked = time.monotonic()
            return self._frame


class SharedValue:
    """One upstream value (organization, usage) shared by every viewer for `ttl` seconds."""

    def __init__(self, fetch: Callable[[], Awaitable[Any]], ttl: float) -> None:
        self.fetch, self.ttl = fetch, ttl
        self.value: Any = None
        self.error: str | None = None
        self.fetched_at: float | None = None
        self.upstream_calls = 0
        self._attempted: float | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self, *, max_age: float | None = None) -> Any:
        """The value, fetched again if older than `max_age` (default: the TTL). Raises StudioError
        only when there has never been a value."""
        limit = self.ttl if max_age is None else max_age
        lock = self._lock = self._lock or asyncio.Lock()
        async with lock:
            if self._attempted is None or time.monotonic() - self._attempted >= limit:
                self._attempted = time.monotonic()
                self.upstream_calls += 1
                try:
                    self.value, self.error, self.fetched_at = await self.fetch(), None, time.time()
                except StudioError as error:
                    self.error = error.message
            if self.value is None and self.error:
                raise StudioError("upstream_error", self.error, 502)
            return self.value


@dataclass(frozen=True)
class SessionsView:
    """What the Sessions tab draws from one refresh."""

    table: pd.DataFrame
    figures: Figures
    matching: int
    total: int
    conversations_error: str | None
    conversations_fetched_at: float | None


class History:
    """The Sessions and Usage tabs' data, shared by every viewer (one per studio)."""

    def __init__(
        self, settings: Any, ledger: Any, gateway: Any, clock: Any, *, ttl: float = 10.0,
    ) -> None:
        self.settings, self.ledger, self.gateway, self.clock = settings, ledger, gateway, clock
        self.mirror = LedgerMirror(ledger, clock)
        self.conversations = ConversationsCache(gateway, ttl=ttl)
        self.organization = SharedValue(gateway.organization, ttl=30.0)
        self.usage = SharedValue(self._usage_30_days, ttl=60.0)
        self._merged_key: tuple[int, int] | None = None
        self._merged: pd.DataFrame = merge_sessions(empty_frame(), empty_frame())
        self._conversations_key: int | None = None
        self._conversations_frame: pd.DataFrame = empty_frame()
        self._merge_lock = threading.Lock()
        self._load_lock: asyncio.Lock | None = None
        self._task: asyncio.Task | None = None

    # Lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background work (call from the running event loop)."""
        self.conversations.start()
        if self._task is None:
            self._task = asyncio.create_task(self._resync(), name="ledger-mirror")

    async def _resync(self) -> None:
        try:
            await self.ready()  # read the ledger once now, not on the first viewer's tick
        except Exception:  # a viewer's tick will try again
            log.exception("the first read of the ledger failed")
        while True:
            await asyncio.sleep(min(self.mirror.resync_every, 60.0))
            if self.mirror.loaded and self.mirror.resync_due:
                try:
                    await asyncio.to_thread(self.mirror.full_read)
                except Exception:
                    log.exception("re-reading the ledger failed")

    async def stop(self) -> None:
        await self.conversations.stop()
        await cancel_and_wait(self._task)
        self._task = None

    async def ready(self) -> None:
        """Load the ledger mirror once, off the event loop."""
        if self.mirror.loaded:
            return
        lock = self._load_lock = self._load_lock or asyncio.Lock()
        async with lock:
            if not self.mirror.loaded:
                await asyncio.to_thread(self.mirror.full_read)

    # Sessions -------------------------------------------------------------------------------

    def merged(self) -> pd.DataFrame:
        """The ledger merged with the cached conversations (recomputed only when either changed)."""
        ledger = self.mirror.frame()
        with self._merge_lock:
            if self._conversations_key != self.conversations.version:
                self._conversations_frame = conversations_frame(self.conversations.items)
                self._conversations_key = self.conversations.version
            key = (self.mirror.version, self.conversations.version)
            if key != self._merged_key:
                self._merged = merge_sessions(ledger, self._conversations_frame)
                self._merged_key = key
            return self._merged

    def view(
        self, filters: Filters, *, limit: int | None = DEFAULT_LIMIT, client: str | None = None,
    ) -> SessionsView:
        """The table, figures and counts for some filters, from the caches (no upstream call).

        With `client`, everything (counts and figures included) covers only that caller's sessions.
        """
        now = self.clock.now()
        merged, names = of_client(self.merged(), client), self.conversations.names
        selected = select_sessions(merged, filters, names)
        figures = session_figures(
            selected, now, credits_per_minute=self.settings.credits_per_minute,
            usd_per_credit=self.settings.usd_per_credit,
        )
        return SessionsView(
            table=display_frame(selected, now, limit, names), figures=figures,
            matching=len(selected), total=len(merged), conversations_error=self.conversations.error,
            conversations_fetched_at=self.conversations.fetched_at,
        )

    async def sessions_view(
        self, filters: Filters, *, limit: int | None = DEFAULT_LIMIT, client: str | None = None,
    ) -> SessionsView:
        await self.ready()
        await self.conversations.latest()
        return self.view(filters, limit=limit, client=client)

    async def details(self, any_id: str) -> SessionDetails:
        """One session's details: the ledger's timeline plus what the conversations API knows."""
        row = self.ledger.get(any_id)
        events = self.ledger.events(row["request_id"]) if row else []
        session_id = row["session_id"] if row else any_id
        conversation, fetched_at = None, None
        if session_id:
            try:
                conversation, fetched_at = await self.conversations.details(
                    session_id, settled=bool(row and row["status"] in TERMINAL_STATUSES))
            except StudioError as error:
                if row is None:
                    raise
                log.info("conversation %s unavailable: %s", session_id, error.message)
        if row is None and conversation is None:
            raise StudioError("not_found", "Neither the studio nor Runway knows that session.", 404)
        return session_details(row, events, conversation, self.clock.now(), fetched_at=fetched_at)

    def avatar_choices(self) -> list[tuple[str, str]]:
        """(label, avatar id) of every avatar in the ledger or the conversations, then presets."""
        merged = self._merged
        seen = merged["avatar_id"].dropna().unique().tolist() if len(merged) else []
        names = self.conversations.names
        ordered = list(dict.fromkeys([*seen, *PRESET_AVATARS]))
        return [(avatar_label(a, names.get(a)), a) for a in ordered]

    # Usage ------------------------------------------------------------------------------------

    async def _usage_30_days(self) -> dict[str, Any]:
        today = datetime.fromtimestamp(utc_day_start(self.clock.now()), timezone.utc)
        end_day = today + timedelta(days=1)
        return await self.gateway.avatar_usage(end_day - timedelta(days=30), end_day)
