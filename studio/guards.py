"""Guards for a public deployment, checked before anything is sent upstream.

A refused call costs nothing at Runway. Counts come from the ledger, so they survive a restart and
every worker sees the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timezone

from studio.clock import SystemClock
from studio.config import Settings
from studio.errors import StudioError
from studio.ledger import Ledger


def start_of_utc_day(now: float) -> float:
    day = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


class Guards:
    def __init__(self, settings: Settings, ledger: Ledger, clock: SystemClock) -> None:
        self.settings, self.ledger, self.clock = settings, ledger, clock

    def check(self, avatar_id: str, client_id: str) -> None:
        """Raise a `StudioError` (403 or 429) when this call may not start now."""
        s, now = self.settings, self.clock.now()
        if s.allowed_avatars and avatar_id not in s.allowed_avatars:
            raise StudioError("avatar_not_allowed", "This studio does not offer calls with that character.", 403)
        if self.ledger.count_open() >= s.max_live_sessions:
            raise StudioError(
                "studio_busy",
                f"All {s.max_live_sessions} call slots of this studio are in use. Try again when a call ends.",
                429,
            )
        if self.ledger.count_since(now - 3600, client_id) >= s.sessions_per_client_per_hour:
            raise StudioError(
                "client_rate_limited",
                f"You have started {s.sessions_per_client_per_hour} calls in the last hour, the most allowed. "
                "Try again later.",
                429,
            )
        if self.ledger.count_since(start_of_utc_day(now)) >= s.daily_session_cap:
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
