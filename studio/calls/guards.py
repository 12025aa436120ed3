"""Guards for a public deployment, checked before anything is sent upstream.

A refused call costs nothing at Runway. Counts come from the ledger, so they survive a restart and
every worker sees the same numbers; on a PostgreSQL ledger every replica's admissions take turns
under one advisory lock, so the caps hold for all replicas together.
"""

from __future__ import annotations

from datetime import datetime, timezone

from studio.calls.ledger import Counts, Ledger
from studio.clock import SystemClock
from studio.config import Settings
from studio.errors import StudioError


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
        """
        s, now = self.settings, self.clock.now()
        if counts.open() >= s.max_live_sessions:
            raise StudioError(
                "studio_busy",
                f"All {s.max_live_sessions} call slots of this studio are in use. Try again when a call ends.",
                429,
            )
        if counts.since(now - 3600, client_id) >= s.sessions_per_client_per_hour:
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
