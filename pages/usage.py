"""Usage tab: credits and tier limits, sessions and minutes per day, estimated spend, the guards.

Loaded when the tab is opened and by its Refresh button, from values shared by every viewer
(`studio.history.organization` / `.usage`, kept 30 s and 60 s): no timer, no per-viewer polling.
"""

from __future__ import annotations

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
from studio.history import account_limits, iso_utc, usage_by_day

REFRESH_MIN_AGE = 5.0  # the Refresh button fetches again when the shown values are older than this


def build(ctx: PageContext) -> None:
    account = account_panel()
    spend, sessions_plot, minutes_plot = last_30_days_panel()
    guards = guards_panel()
    refresh_panel(ctx, account, spend, sessions_plot, minutes_plot, guards)


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
    gr.Markdown("### This studio's guards")
    return cards_html(elem_id="usage-guards")


def refresh_panel(ctx: PageContext, *panels: Any) -> None:
    """The Refresh button and its note; fills every panel when the tab opens and on Refresh."""
    with gr.Row():
        refresh = gr.Button("Refresh", size="sm", scale=0, min_width=120, elem_id="usage-refresh")
        note = gr.Markdown(elem_id="usage-note")
    outputs = [*panels, note]

    async def usage_overview() -> tuple[Any, ...]:
        """Account credits and limits, 30 days of usage, spend estimate and the studio's guards."""
        return await load(ctx)

    async def refresh_usage() -> tuple[Any, ...]:
        return await load(ctx, max_age=REFRESH_MIN_AGE)

    ctx.tab_objects["usage"].select(usage_overview, None, outputs, api_name="usage_overview",
                                    concurrency_limit=None, show_progress="hidden")
    refresh.click(refresh_usage, None, outputs, api_name="refresh_usage", concurrency_limit=None)


async def load(ctx: PageContext, max_age: float | None = None) -> tuple[Any, ...]:
    """Every panel's value, from the shared upstream values (fetched if older than `max_age`)."""
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
        spend_html = spend_cards(usage, days, settings)
    except StudioError as error:
        days = usage_by_day({})
        spend_html = placeholder(f"Could not load avatar usage: {error.message}", error=True)
    as_of = history.organization.fetched_at or history.usage.fetched_at
    plot = days.assign(date=days["date"].dt.strftime("%m-%d")) if len(days) else days
    return (account_html, spend_html, _bars(plot, "sessions"), _bars(plot, "minutes"),
            guard_cards(studio.guards.usage()), f"As of {iso_utc(as_of)} UTC." if as_of else "")


def _bars(days: pd.DataFrame, column: str) -> gr.BarPlot:
    """One column per day; the y axis starts at 0 and never collapses when every day is 0."""
    top = float(days[column].max()) if len(days) else 0.0
    return gr.BarPlot(days[["date", column]], y_lim=[0, max(1.0, top * 1.1)])
