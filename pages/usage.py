"""Usage tab: credits and tier limits, sessions and minutes per day, estimated spend, the guards.

Loaded when the tab is opened and by its Refresh button, from values shared by every viewer
(`studio.history.organization` / `.usage`, kept 30 s and 60 s): no timer, no per-viewer polling.
"""

from __future__ import annotations

import asyncio
from typing import Any

import gradio as gr
import pandas as pd

from components.usage_cards import (
    account_cards,
    cards_html,
    guard_cards,
    placeholder,
    spend_cards,
)
from pages.context import PageContext
from studio.errors import StudioError
from studio.history import account_limits, iso_utc, usage_by_day, utc_day_start
from studio.history.service import USAGE_DAYS

CLIP_WINDOW = 30 * 86400.0  # clips count in the last 30 days' spend, as calls do
REFRESH_MIN_AGE = 5.0  # the Refresh button fetches again when the shown values are older than this


def build(ctx: PageContext) -> None:
    refresh, note = toolbar()  # first, so a phone shows it without scrolling
    guards = guards_panel()
    account = account_panel()
    spend, sessions_plot, minutes_plot = last_30_days_panel()
    refresh_panel(ctx, refresh, note, account, spend, sessions_plot, minutes_plot, guards)


def toolbar() -> tuple[gr.Button, gr.Markdown]:
    with gr.Row(equal_height=True):
        refresh = gr.Button("Refresh", size="sm", scale=0, min_width=120, elem_id="usage-refresh")
        note = gr.Markdown(elem_id="usage-note")
    return refresh, note


def account_panel() -> gr.HTML:
    gr.Markdown("### Runway account", elem_id="usage-account-title")
    return cards_html(placeholder("Open this tab to load the account."), elem_id="usage-account")


def last_30_days_panel() -> tuple[gr.HTML, gr.BarPlot, gr.BarPlot]:
    gr.Markdown("### Last 30 days (UTC)")
    spend = cards_html(elem_id="usage-spend")
    with gr.Row():
        # No initial frame: an empty float column would fix the x axis as numbers, not days.
        sessions_plot = gr.BarPlot(
            None, x="date", y="sessions", title="Sessions per day", x_title="day (UTC)",
            y_title="sessions", height=280, x_label_angle=-45, elem_id="usage-sessions-plot",
        )
        minutes_plot = gr.BarPlot(
            None, x="date", y="minutes", title="Minutes in calls per day", x_title="day (UTC)",
            y_title="minutes", height=280, x_label_angle=-45, elem_id="usage-minutes-plot",
        )
    return spend, sessions_plot, minutes_plot


def guards_panel() -> gr.HTML:
    gr.Markdown("### This studio's limits")
    return cards_html(placeholder("Open this tab to load the limits."), elem_id="usage-guards")


def refresh_panel(ctx: PageContext, refresh: gr.Button, note: gr.Markdown, *panels: Any) -> None:
    """Fills every panel when the tab opens and on Refresh."""
    outputs = [*panels, note]

    async def usage_overview(request: gr.Request | None = None) -> tuple[Any, ...]:
        """Account credits and limits, 30 days of usage, spend estimate and the studio's limits."""
        return await load(ctx, caller=caller_of(ctx, request))

    async def refresh_usage(request: gr.Request | None = None) -> tuple[Any, ...]:
        return await load(ctx, max_age=REFRESH_MIN_AGE, caller=caller_of(ctx, request))

    ctx.tab_objects["usage"].select(usage_overview, None, outputs, api_name="usage_overview",
                                    concurrency_limit=None, show_progress="hidden")
    refresh.click(refresh_usage, None, outputs, api_name="refresh_usage", concurrency_limit=None)


def caller_of(ctx: PageContext, request: gr.Request | None) -> str | None:
    """The anonymised id the per-caller limit counts this viewer's calls under."""
    if request is None:
        return None
    peer = request.client.host if request.client else None
    return ctx.studio.caller_id(peer, request.headers.get("x-forwarded-for"))


def connected_calls(ctx: PageContext) -> int:
    """This studio's calls that connected (credentials issued) in the usage window's days."""
    since = utc_day_start(ctx.studio.clock.now()) - (USAGE_DAYS - 1) * 86400
    rows = ctx.studio.ledger.list(since=since, limit=None)
    return sum(1 for row in rows if row.get("consumed_at") is not None)


async def load(
    ctx: PageContext, max_age: float | None = None, caller: str | None = None,
) -> tuple[Any, ...]:
    """Every panel's value, from the shared upstream values (fetched if older than `max_age`);
    `caller`: whose calls the per-caller limit shows."""
    studio = ctx.studio
    history, settings = studio.history, studio.settings
    try:
        organization = await history.organization.get(max_age=max_age)
        account_html = account_cards(account_limits(organization), settings)
    except StudioError as error:
        account_html = placeholder(f"Could not load the organization: {error.message}", error=True)
    try:
        usage = await history.usage.get(max_age=max_age)
        days = usage_by_day(usage)
        clips = studio.clips.totals(since=studio.clock.now() - CLIP_WINDOW)  # the studio's own clips
        spend_html = spend_cards(usage, days, settings, clips,
                                 connected_calls=await asyncio.to_thread(connected_calls, ctx))
    except StudioError as error:
        days = usage_by_day({})
        spend_html = placeholder(f"Could not load avatar usage: {error.message}", error=True)
    as_of = history.organization.fetched_at or history.usage.fetched_at
    plot = days.assign(date=days["date"].dt.strftime("%m-%d")) if len(days) else days
    return (account_html, spend_html, _bars(plot, "sessions"), _bars(plot, "minutes"),
            guard_cards(studio.guards.limits_for(caller)), f"As of {iso_utc(as_of)} UTC." if as_of else "")


def _bars(days: pd.DataFrame, column: str) -> gr.BarPlot:
    """One column per day; the y axis starts at 0 and never collapses when every day is 0."""
    top = float(days[column].max()) if len(days) else 0.0
    return gr.BarPlot(days[["date", column]], y_lim=[0, max(1.0, top * 1.1)])
