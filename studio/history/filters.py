"""What the Sessions tab selects: date bounds as people type them, `Filters`, and the vectorised
mask that applies them to a merged frame of sessions (see `frames.py` for its columns)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from studio.history.words import avatar_names, epoch, utc_day_start
from studio.vocabulary import NOT_READY, OPEN_STATUSES, STATUS_WORDS, TERMINAL, status_label

# Filter words that stand for several statuses.
OPEN_WORD, ENDED_WORD = "open", "ended"
STATUS_GROUPS = {
    OPEN_WORD: OPEN_STATUSES, "active": OPEN_STATUSES, "live": OPEN_STATUSES,
    ENDED_WORD: TERMINAL, "terminal": TERMINAL, "finished": TERMINAL,
}
# The two ways NOT_READY reads, each also a filter word.
QUEUED, PROVISIONING = status_label(NOT_READY, queued=True), status_label(NOT_READY)
# What the avatar filter takes for "no avatar filter".
_ANY_AVATAR = {"all", "any", "all avatars"}

_NOW = re.compile(r"^\s*now\s*(?:-\s*(\d+(?:\.\d+)?)\s*([smhdw]))?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MOMENT_PATTERNS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")


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
    for pattern in _MOMENT_PATTERNS:
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
        if avatar and avatar.lower() in _ANY_AVATAR:
            avatar = None
        return cls(
            statuses=wanted, avatar=avatar, since=parse_when(since, now),
            until=parse_when(until, now, end=True), search=(search or "").strip(),
        )

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.avatar or self.since is not None or self.until is not None
                    or self.search)


def status_matches(word: str) -> tuple[frozenset[str] | None, bool | None]:
    """What one status word of the filter keeps: (statuses, queued), read case-insensitively.

    `queued` is None unless the word picks one of NOT_READY's two readings. A word that is no
    status label, group or queued/provisioning is taken as a status name ("FAILED").
    """
    lowered = word.strip().lower()
    if lowered in (QUEUED, PROVISIONING):
        return frozenset({NOT_READY}), lowered == QUEUED
    if lowered in STATUS_GROUPS:
        return frozenset(STATUS_GROUPS[lowered]), None
    return frozenset({STATUS_WORDS.get(lowered, word.strip().upper())}), None


def _status_mask(frame: pd.DataFrame, wanted: Sequence[str]) -> np.ndarray:
    status = frame["status"].to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    for word in wanted:
        statuses, queued = status_matches(word)
        kept = np.isin(status, list(statuses))
        if queued is not None:
            kept &= frame["queued"].to_numpy() == queued
        mask |= kept
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


def select_sessions(
    frame: pd.DataFrame, filters: Filters, names: dict[str, str] | None = None,
) -> pd.DataFrame:
    if not filters.active:
        return frame
    return frame[filter_mask(frame, filters, names)]


def of_client(frame: pd.DataFrame, client_id: str | None) -> pd.DataFrame:
    """Only the sessions one caller started in this studio; every session when `client_id` is None."""
    if client_id is None:
        return frame
    return frame[frame["client_id"].to_numpy() == client_id]
