"""Time arithmetic and formats shared by the engine: UTC days and day ranges, whole
elapsed seconds, and Runway's ISO timestamps. Times are epoch seconds (floats)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

EPSILON = 1e-6  # absorbs float noise when flooring elapsed seconds
DAY_SECONDS = 86400
MAX_USAGE_RANGE = 90 * DAY_SECONDS  # both usage reports cover at most 90 days


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")


def utc_midnight(ts: float) -> float:
    """The start of the UTC day ``ts`` falls in."""
    day = datetime.fromtimestamp(ts, tz=timezone.utc)
    return day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def day_range(start: float, end: float) -> list[str]:
    """Every UTC date touched by [start, end)."""
    first = datetime.fromtimestamp(start, tz=timezone.utc).date()
    last = datetime.fromtimestamp(max(start, end - EPSILON), tz=timezone.utc).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def whole_seconds(start: float, end: float) -> int:
    """Full seconds from ``start`` to ``end`` (never negative)."""
    return int(max(0.0, end - start) + EPSILON)


@functools.lru_cache(maxsize=8192)  # polled sessions render the same timestamps over and over
def iso(ts: float | None) -> str | None:
    """Epoch seconds -> ``2026-05-08T19:50:32.535Z`` (millisecond precision, like Runway)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
