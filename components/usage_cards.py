"""The Usage tab's cards: a small title over a big figure, notes and meters (how much of a limit
is used), for the Runway account, the last 30 days' spend and the studio's own guards."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from components.text import plain
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


def spend_cards(usage: dict[str, Any], days: pd.DataFrame, settings: Any) -> str:
    total_seconds = usage.get("total_seconds") or 0
    sessions = usage.get("total_sessions") or 0
    average = usage.get("avg_duration_seconds") or 0
    rate, per_credit = settings.credits_per_minute, settings.usd_per_credit
    credits, usd = estimated_spend(total_seconds / 60.0, rate, per_credit)
    today_minutes = float(days.iloc[-1]["minutes"]) if len(days) else 0.0
    _, today_usd = estimated_spend(today_minutes, rate, per_credit)
    cards = [
        card("sessions", "Sessions", big(f"{sessions:,}"),
             small(f"average {average // 60}:{average % 60:02d} in the room")),
        card("minutes", "Minutes in calls", big(f"{total_seconds / 60.0:,.1f}"),
             small(f"{total_seconds:,} s measured by Runway")),
        card("spend", "Estimated spend", big(f"${usd:,.2f}"),
             small(f"{credits:,.0f} credits at {rate:g} credits/min, ${per_credit:g}/credit · "
                   f"today ${today_usd:,.2f}")),
    ]
    note = ("<p class='small' style='margin-top:6px'>Runway publishes no per-minute price for "
            "Characters; the estimate uses STUDIO_CREDITS_PER_MINUTE and "
            "STUDIO_USD_PER_CREDIT.</p>")
    return f"<div class='cards'>{''.join(cards)}</div>{note}"


def guard_cards(usage: dict[str, int]) -> str:
    cards = [
        card("live", "Calls not yet ended", meter("Live now", usage["live"], usage["max_live"]),
             small("STUDIO_MAX_LIVE_SESSIONS: new calls are refused at the limit.")),
        card("daily", "Calls started today (UTC)",
             meter("Today", usage["today"], usage["daily_cap"]),
             small("STUDIO_DAILY_SESSION_CAP: new calls are refused at the limit.")),
        card("per-client", "Per caller", big(f"{usage['per_client_per_hour']:,}"),
             small("calls per hour from one address (STUDIO_SESSIONS_PER_CLIENT_PER_HOUR)")),
    ]
    return f"<div class='cards'>{''.join(cards)}</div>"
