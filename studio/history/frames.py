"""Sessions as pandas frames: ledger rows and conversation list items in one schema, merged
(`merge_sessions`), and formatted for people (`display_frame`; `sessions_frame` does it all) or for
a spreadsheet (`spreadsheet_safe`). Pure functions: no I/O, no clock but the `now` they are given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from studio.history.filters import Filters, select_sessions
from studio.history.words import (
    CONVERSATION_STATUS,
    ELSEWHERE,
    STUDIO,
    avatar_label,
    avatar_names,
    clock_duration,
    conversation_avatar_id,
    epoch,
    failure_text,
)
from studio.vocabulary import COMPLETED, FAILURE_WORDS, RUNNING, status_label

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

# The table people see, in order. `id` is the session id (the request id before Runway answered).
TABLE_COLUMNS = (
    "created (UTC)", "avatar", "status", "to READY (s)", "to 1st frame (s)", "duration", "failure",
    "origin", "id",
)
NUMBER_COLUMNS = ("to READY (s)", "to 1st frame (s)")

DEFAULT_LIMIT = 500

_TEXT_COLUMNS = ("key", "request_id", "session_id", "avatar_id", "avatar_name", "status",
                 "failure_code", "failure", "origin", "client_id")
_MOMENTS = ("created_at", "ready_at", "first_frame_at", "running_at", "ended_at")
_SEARCHED = ("avatar_id", "avatar_name", "status", "queued", "failure_code", "failure",
             "session_id", "request_id", "origin")


# ----------------------------------------------------------------------------------------------
# Rows → frames


def search_text(frame: pd.DataFrame) -> pd.Series:
    """One lower-case text per row that the search box looks in (names are matched apart)."""
    texts = [
        "\n".join(filter(None, (avatar, name, status, status_label(status, queued), code, failure,
                                FAILURE_WORDS.get(code or ""), session, request, origin))).lower()
        for avatar, name, status, queued, code, failure, session, request, origin
        in zip(*(frame[c].tolist() for c in _SEARCHED))
    ]
    return pd.Series(texts, dtype=object, index=frame.index)


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


def empty_frame() -> pd.DataFrame:
    return _frame({column: [] for column in RAW_COLUMNS})


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
            "avatar_id": conversation_avatar_id(avatar), "avatar_name": avatar.get("name"),
            "status": CONVERSATION_STATUS.get(item.get("status"), str(item.get("status")).upper()),
            "failure_code": item.get("failure_code"), "failure": item.get("failure"),
            "duration": item.get("duration"), "created": created, "created_at": created,
            "origin": ELSEWHERE,
        }
        for column in RAW_COLUMNS:
            columns[column].append(values.get(column))
    return _frame(columns)


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
    running = frame["status"].to_numpy() == RUNNING
    elapsed = np.where(running, now, frame["ended_at"].to_numpy()) - frame["running_at"].to_numpy()
    used = np.where(np.isnan(duration), elapsed, duration)
    return np.nan_to_num(np.clip(used, 0, None), nan=0.0)


# ----------------------------------------------------------------------------------------------
# Frames → the table people see


def _utc_texts(seconds: np.ndarray) -> list[str]:
    stamps = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [s.replace("T", " ") if s != "NaT" else "" for s in stamps]


def _seconds(values: np.ndarray) -> pd.Series:
    """Seconds with one decimal; None (not NaN, which JSON cannot carry) when unknown."""
    return pd.Series([None if math.isnan(v) else round(float(v), 1) for v in values], dtype=object)


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
    ran = (np.isin(shown["status"].to_numpy(), [RUNNING, COMPLETED])
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
