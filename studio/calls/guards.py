"""Guards for a public deployment, checked before anything is sent upstream.

A refused call costs nothing at Runway. Counts come from the ledger, so they survive a restart and
every worker sees the same numbers; on a PostgreSQL ledger every replica's admissions take turns
under one advisory lock, so the caps hold for all replicas together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from studio.calls.ledger import Counts, Ledger, SlotsBusy
from studio.clock import SystemClock
from studio.config import Settings
from studio.errors import StudioError
from studio.vocabulary import REFUSED, WAITING

# Rows the per-caller and daily limits do not count: calls never let through.
NOT_COUNTED = frozenset({WAITING, REFUSED})


def caller_address(peer: str | None, forwarded_for: str | None, *, trust_proxy: bool, hops: int) -> str:
    """The caller's address: the peer, or behind `hops` trusted proxies the entry they appended.

    Each proxy appends the address it received the request from, so only the right-most `hops`
    entries of X-Forwarded-For were written by proxies we trust; anything left of them is the
    caller's own text and may be forged.
    """
    if trust_proxy and forwarded_for:
        entries = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if len(entries) >= hops:
            return entries[-hops]
    return peer or "unknown"


CALLER_WINDOW = 3600.0  # seconds: the per-caller limit counts the calls started in this window


@dataclass(frozen=True)
class LimitsNow:
    """Each guard's count next to its limit, and when the count goes down (epoch seconds)."""

    now: float
    live: int                      # calls holding a slot
    max_live: int
    caller_calls: tuple[float, ...]  # starts of this caller's counted calls in the window, oldest first
    per_caller: int                # 0: no per-caller limit
    today: int
    daily_cap: int
    day_resets: float              # the next UTC midnight

    @property
    def caller_next_leaves(self) -> float | None:
        """When the oldest of this caller's calls leaves the window (the count drops by one)."""
        return self.caller_calls[0] + CALLER_WINDOW if self.caller_calls else None

    @property
    def caller_free_at(self) -> float | None:
        """At the limit: when this caller may start a call again; otherwise None."""
        over = len(self.caller_calls) - self.per_caller
        if not self.per_caller or over < 0:
            return None
        return self.caller_calls[over] + CALLER_WINDOW


def start_of_utc_day(now: float) -> float:
    day = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


class Guards:
    def __init__(self, settings: Settings, ledger: Ledger, clock: SystemClock) -> None:
        self.settings, self.ledger, self.clock = settings, ledger, clock

    def check_avatar(self, avatar_id: str) -> None:
        """Raise a 403 `StudioError` for a character this studio does not offer."""
        allowed = self.settings.allowed_avatars
        if allowed and avatar_id not in allowed:
            raise StudioError("avatar_not_allowed", "This studio does not offer calls with that character.", 403)

    def check(self, client_id: str, counts: Counts) -> None:
        """Raise a 429 `StudioError` when the counts leave no room for another call now.

        `counts` is read inside the transaction that inserts the call's row (`Ledger.open_request`),
        so a burst of requests cannot all pass before any of them is counted.
        The slots come last: `SlotsBusy` (which a caller may wait out in line) means every other
        limit lets the call through. Callers already in line ahead get free slots first.
        """
        s, now = self.settings, self.clock.now()
        self._check_limits(client_id, counts, now)
        if counts.open() + counts.ahead() >= s.max_live_sessions:
            raise SlotsBusy(f"All {s.max_live_sessions} call slots of this studio are in use. "
                            "Wait for a free slot, or try again when a call ends.")

    def _check_limits(self, client_id: str, counts: Counts, now: float) -> None:
        s = self.settings
        if s.sessions_per_client_per_hour and counts.since(now - 3600, client_id) >= s.sessions_per_client_per_hour:
            raise StudioError(
                "client_rate_limited",
                f"You have started {s.sessions_per_client_per_hour} calls in the last hour, the most allowed. "
                "Try again later.",
                429,
            )
        if counts.since(start_of_utc_day(now)) >= s.daily_session_cap:
            raise StudioError(
                "studio_daily_cap",
                f"This studio has reached its limit of {s.daily_session_cap} calls today (UTC).",
                429,
            )

    def usage(self) -> dict[str, int]:
        """How close the guards are to their limits (for the Usage tab)."""
        now = self.clock.now()
        return {
            "live": self.ledger.count_open(),
            "max_live": self.settings.max_live_sessions,
            "today": self.ledger.count_since(start_of_utc_day(now)),
            "daily_cap": self.settings.daily_session_cap,
            "per_client_per_hour": self.settings.sessions_per_client_per_hour,
        }

    def limits_for(self, client_id: str | None) -> LimitsNow:
        """Read-only: every guard's count and limit now, for one caller (None: no caller known),
        counted as `check` counts them, with when each count goes down."""
        s, now = self.settings, self.clock.now()
        calls: tuple[float, ...] = ()
        if client_id is not None:
            rows = self.ledger.list(since=now - CALLER_WINDOW, client_id=client_id, limit=None)
            calls = tuple(sorted(r["requested_at"] for r in rows if r["status"] not in NOT_COUNTED))
        day = start_of_utc_day(now)
        return LimitsNow(
            now=now, live=self.ledger.count_open(), max_live=s.max_live_sessions,
            caller_calls=calls, per_caller=s.sessions_per_client_per_hour or 0,
            today=self.ledger.count_since(day), daily_cap=s.daily_session_cap,
            day_resets=day + 86400,
        )
