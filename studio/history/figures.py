"""Sums over sessions and over the account: the Sessions tab's figures and the Usage tab's days,
limits and spend (pure functions over frames and Runway's answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from studio.history.frames import seconds_used
from studio.history.words import utc_day_start
from studio.vocabulary import COMPLETED, MODEL, NOT_ADMITTED, OPEN_STATUSES, TERMINAL


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
    ended = int(np.isin(status, list(TERMINAL - NOT_ADMITTED)).sum())  # refusals are not failed calls
    completed = int((status == COMPLETED).sum())
    minutes = float(seconds_used(selected, now).sum()) / 60.0
    credits, usd = estimated_spend(minutes, credits_per_minute, usd_per_credit)
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
        usd=usd,
        open=int(np.isin(status, list(OPEN_STATUSES)).sum()),
    )


def _quantiles(values: np.ndarray) -> tuple[float | None, float | None]:
    known = values[values >= 0]  # NaN compares false: unknown values drop out
    if not len(known):
        return None, None
    p50, p95 = np.percentile(known, [50, 95])
    return float(p50), float(p95)


def estimated_spend(
    minutes: float, credits_per_minute: float, usd_per_credit: float,
) -> tuple[float, float]:
    """Credits and dollars for some call minutes, at the studio's configured rates."""
    credits = minutes * credits_per_minute
    return credits, credits * usd_per_credit


# ----------------------------------------------------------------------------------------------
# The account (Usage tab)


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


def account_limits(organization: dict[str, Any], model: str = MODEL) -> AccountLimits:
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
