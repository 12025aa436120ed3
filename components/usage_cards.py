"""The Usage tab's cards: a small title over a big figure, notes and meters (how much of a limit
is used), for the Runway account, the last 30 days' spend and the studio's own guards."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import gradio as gr
import pandas as pd

from components.text import plain
from studio.calls.guards import LimitsNow
from studio.history import AccountLimits, estimated_spend
from studio.vocabulary import MODEL

CSS = """
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 14px;
        background: var(--block-background-fill); }
.card h4 { margin: 0 0 4px; font-size: 0.85rem; font-weight: 500; opacity: 0.75; }
.card .big { font-size: 1.45rem; font-weight: 600; }
.card .small { font-size: 0.8rem; opacity: 0.75; }
.meter { margin-top: 8px; }
.meter .label { display: flex; justify-content: space-between; font-size: 0.82rem; }
.meter .bar { height: 8px; border-radius: 4px; background: var(--border-color-primary);
              overflow: hidden; }
.meter .fill { height: 100%; border-radius: 4px; background: #3b82f6; }
.meter .fill.warn { background: #f59e0b; }
.meter .fill.full { background: #dc2626; }
.error { color: #b91c1c; }
"""
WARN_SHARE = 0.8  # a meter turns amber from this share of its limit, red at the limit


def cards_html(value: str = "", **kwargs: Any) -> gr.HTML:
    """A `gr.HTML` styled for cards; keyword arguments go to gr.HTML."""
    return gr.HTML(value, css_template=CSS, **kwargs)


def placeholder(text: str, *, error: bool = False) -> str:
    return f"<p class='{'error' if error else 'small'}'>{plain(text)}</p>"


def meter(label: str, used: float | None, limit: float | None, unit: str = "") -> str:
    """A labelled bar: how much of a limit is used (no limit: the count alone)."""
    used_text = "–" if used is None else f"{used:,.0f}"
    if not limit:
        return (f"<div class='meter'><div class='label'><span>{plain(label)}</span>"
                f"<span>{used_text}{unit} · no limit</span></div></div>")
    share = 0.0 if used is None else min(1.0, used / limit)
    level = "full" if share >= 1.0 else "warn" if share >= WARN_SHARE else ""
    name = plain(label)
    amount = f"{used_text} / {limit:,.0f}{unit} ({share:.0%})"
    fill = f"<div class='fill {level}' style='width:{share * 100:.1f}%'></div>"
    return (f"<div class='meter' data-meter='{name}'><div class='label'><span>{name}</span>"
            f"<span>{amount}</span></div><div class='bar'>{fill}</div></div>")


def card(key: str, title: str, *parts: str) -> str:
    """One card: a small title over whatever HTML parts follow (already escaped)."""
    body = "".join(parts)
    return f"<div class='card' data-card='{key}'><h4>{plain(title)}</h4>{body}</div>"


def big(text: str) -> str:
    return f"<div class='big'>{plain(text)}</div>"


def small(text: str) -> str:
    return f"<div class='small'>{text}</div>"


def account_cards(limits: AccountLimits, settings: Any) -> str:
    balance = limits.credit_balance
    worth = ""
    if balance is not None:
        worth = f"≈ ${balance * settings.usd_per_credit:,.2f}"
        if settings.credits_per_minute:
            worth += f" · about {balance / settings.credits_per_minute:,.0f} call minutes"
    concurrent = "no limit" if limits.max_concurrent is None else f"{limits.max_concurrent:,}"
    cap = limits.max_monthly_spend
    spend_cap = "–" if cap is None else f"{cap:,} credits"
    cards = [
        card("balance", "Credit balance", big("–" if balance is None else f"{balance:,}"),
             small(worth)),
        card("tier", f"Tier limits ({MODEL})",
             small(f"Live sessions at once: <b>{concurrent}</b> (more wait in a queue)"),
             small(f"Largest monthly credit purchase: <b>{spend_cap}</b>"),
             meter("Sessions created today", limits.used_today, limits.max_daily)),
    ]
    return f"<div class='cards'>{''.join(cards)}</div>"


def spend_cards(usage: dict[str, Any], days: pd.DataFrame, settings: Any, clips: Any = None,
                *, connected_calls: int = 0) -> str:
    """Calls (Runway's avatar usage) and, when given, the studio's clips (`ClipTotals`)."""
    total_seconds = usage.get("total_seconds") or 0
    sessions = usage.get("total_sessions") or 0
    average = usage.get("avg_duration_seconds") or 0
    rate, per_credit = settings.credits_per_minute, settings.usd_per_credit
    credits, usd = estimated_spend(total_seconds / 60.0, rate, per_credit)
    # Runway also charges each call as it connects: the studio counts its own (`connected_calls`).
    start_credits = connected_calls * settings.credits_per_call
    credits, usd = credits + start_credits, usd + start_credits * per_credit
    today_minutes = float(days.iloc[-1]["minutes"]) if len(days) else 0.0
    _, today_usd = estimated_spend(today_minutes, rate, per_credit)
    clip_credits = clips.credits if clips is not None else 0.0
    spend_note = f"{credits:,.0f} credits (see below), ${per_credit:g}/credit · today ${today_usd:,.2f}"
    if clips is not None:
        spend_note = (f"calls {credits:,.0f} credits (see below) · clips {clip_credits:,.0f} "
                      f"credits · ${per_credit:g}/credit · calls today ${today_usd:,.2f}")
    cards = [
        card("sessions", "Sessions", big(f"{sessions:,}"),
             small(f"average {average // 60}:{average % 60:02d} in the room")),
        card("minutes", "Minutes in calls", big(f"{total_seconds / 60.0:,.1f}"),
             small(f"{total_seconds:,} s measured by Runway")),
        card("spend", "Estimated spend", big(f"${usd + clip_credits * per_credit:,.2f}"), small(spend_note)),
    ]
    if clips is not None:
        cards.insert(2, card("clips", "Clips rendered", big(f"{clips.clips:,}"),
                             small(f"{clips.succeeded:,} ready · {clip_credits:,.0f} credits "
                                   f"(${clip_credits * per_credit:,.2f}) · {clips.seconds / 60:,.1f} min of video")))
    note = spend_note_html(settings, connected_calls, start_credits)
    return f"<div class='cards'>{''.join(cards)}</div>{note}"


def spend_note_html(settings: Any, connected_calls: int, start_credits: float) -> str:
    """How the estimate is made, and why the balance can drop by a different amount."""
    return (
        "<p style='margin-top:6px; font-size:0.8rem; opacity:0.8' data-note='spend'>"
        "How the estimate is made: "
        f"{settings.credits_per_call:g} credits each time a call connects (<b>{connected_calls:,}</b> "
        f"calls from this studio: {start_credits:,.0f} credits, whether or not anyone joined) plus "
        f"{settings.credits_per_minute:g} credits a minute with someone in the room. The balance "
        "can still move differently: Runway bills the room in whole 6-second steps; calls started "
        "outside this studio count here by their minutes only; a call still live counts here once "
        "it ends; and other Runway work on the same account (videos, voices) spends credits too. "
        "Runway publishes no price for Characters: the rates are STUDIO_CREDITS_PER_CALL and "
        "STUDIO_CREDITS_PER_MINUTE.</p>")


def guard_cards(limits: LimitsNow) -> str:
    """The studio's own limits: each count over its limit, and when the count goes down."""
    now = limits.now
    cards = [
        card("live", "Calls live now", meter("Live now", limits.live, limits.max_live),
             small("A slot frees as soon as a call ends; at the limit a new caller can wait "
                   "in line for one (STUDIO_MAX_LIVE_SESSIONS).")),
        card("per-client", "Your calls this hour", _caller_meter(limits), small(_caller_reset(limits))),
        card("daily", "Calls started today (UTC)",
             meter("Today", limits.today, limits.daily_cap),
             small(f"Resets at midnight UTC, {_when(limits.day_resets, now)} "
                   "(STUDIO_DAILY_SESSION_CAP).")),
    ]
    return f"<div class='cards'>{''.join(cards)}</div>"


def _caller_meter(limits: LimitsNow) -> str:
    return meter("From your address", len(limits.caller_calls), limits.per_caller or None)


def _caller_reset(limits: LimitsNow) -> str:
    """When this caller's hourly count goes down, in plain words."""
    rule = (f"At most {limits.per_caller:,} calls an hour from one address"
            if limits.per_caller else "No per-caller limit")
    if not limits.caller_calls:
        return f"{rule}; none from your address in the last hour."
    words = f"{rule}. Your oldest call this hour stops counting {_when(limits.caller_next_leaves, limits.now)}"
    free_at = limits.caller_free_at
    if free_at is not None:
        words += f"; you can call again {_when(free_at, limits.now)}"
    return words + " (STUDIO_SESSIONS_PER_CLIENT_PER_HOUR)."


def _when(at: float | None, now: float) -> str:
    """"at 14:05 UTC (in 23 min)": a moment soon, with how long until it."""
    if at is None:
        return ""
    clock = datetime.fromtimestamp(at, timezone.utc).strftime("%H:%M")
    minutes = max(0, math.ceil((at - now) / 60))
    wait = f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
    return f"at <b>{clock} UTC</b> (in {wait})"
