"""Sessions tab: every session, live, with its timings, its failure in plain words, and its details.

The table refreshes itself while this tab is open (a `gr.Timer` paused on every other tab) from
`studio.history`, which serves every viewer from one server-side cache: a tick reads the local
ledger and the shared conversations list, never Runway.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from pages.context import PageContext
from pages.text import md_code, md_escape, md_link, plain
from studio.errors import StudioError
from studio.history import (
    NUMBER_COLUMNS,
    TABLE_COLUMNS,
    Figures,
    Filters,
    SessionDetails,
    SessionsView,
    iso_utc,
    spreadsheet_safe,
)

STATUS_CHOICES = [
    ("open (not ended)", "open"),
    ("queued", "queued"),
    ("provisioning", "provisioning"),
    ("ready", "READY"),
    ("running", "RUNNING"),
    ("in progress (elsewhere)", "IN_PROGRESS"),
    ("completed", "COMPLETED"),
    ("failed", "FAILED"),
    ("cancelled", "CANCELLED"),
    ("requested (no answer yet)", "REQUESTED"),
    ("ended (any way)", "ended"),
]
ALL_AVATARS = ("All avatars", "")
# A public demo's visitor asking for a session that is not theirs (or none at all: the same words,
# so that nobody learns which ids exist).
NOT_YOURS = "This public demo shows only your own calls, and that session is not one of them."

# Whether the Sessions table is on screen, once the tab switch has been drawn.
SHOWING_JS = """async (showing, sessionId) => {
  await new Promise((done) => setTimeout(done, 60));
  const table = document.getElementById("sessions-table");
  return [!!table && table.offsetParent !== null && table.getClientRects().length > 0, sessionId];
}"""
# Pixels, not shares: on a narrow screen the table scrolls sideways instead of breaking words.
COLUMN_WIDTHS = [192, 120, 118, 92, 98, 84, 268, 116, 92]

FIGURES_CSS = """
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.figure { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px;
          background: var(--block-background-fill); }
.figure .name { font-size: 0.8rem; opacity: 0.7; }
.figure .value { font-size: 1.35rem; font-weight: 600; line-height: 1.3; }
.figure .more { font-size: 0.78rem; opacity: 0.7; }
"""

DETAILS_CSS = """
table.timeline { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 4px;
                 border: none; }
table.timeline td, table.timeline th { padding: 3px 8px; border: none; text-align: left;
                                       border-bottom: 1px solid var(--border-color-primary); }
table.timeline th { font-weight: 500; opacity: 0.7; }
table.timeline thead, table.timeline tbody, table.timeline tr { border: none; }
table.timeline td.offset { font-variant-numeric: tabular-nums; text-align: right;
                           white-space: nowrap; }
.transcript { display: flex; flex-direction: column; gap: 6px; font-size: 0.9rem; max-height: 360px;
              overflow-y: auto; }
.transcript .line { padding: 6px 10px; border-radius: 10px; max-width: 85%; }
.transcript .user { align-self: flex-end; background: var(--color-accent-soft); }
.transcript .assistant { align-self: flex-start; background: var(--block-background-fill);
                         border: 1px solid var(--border-color-primary); }
.transcript .role { font-size: 0.72rem; opacity: 0.65; display: block; }
.empty { opacity: 0.7; font-style: italic; }
"""


def build(ctx: PageContext) -> None:
    studio = ctx.studio
    history = studio.history
    interval = studio.settings.refresh_interval

    figures = gr.HTML(figures_html(None, studio), css_template=FIGURES_CSS,
                      elem_id="sessions-figures")
    with gr.Row(equal_height=True):
        # Custom values: the API also takes status words ("failed", "queued", "open", "ended").
        status = gr.Dropdown(STATUS_CHOICES, value=[], multiselect=True, allow_custom_value=True,
                             label="Status (empty: all)", scale=3, min_width=200,
                             elem_id="sessions-status")
        avatar = gr.Dropdown([ALL_AVATARS, *history.avatar_choices()], value="", label="Avatar",
                             allow_custom_value=True, scale=2, min_width=170,
                             elem_id="sessions-avatar")
        since = gr.DateTime(label="From (UTC)", type="string", include_time=True, scale=3,
                            min_width=240, elem_id="sessions-since")
        until = gr.DateTime(label="To (UTC)", type="string", include_time=True, scale=3,
                            min_width=240, elem_id="sessions-until")
        search = gr.Textbox(label="Search", placeholder="avatar, status, failure, id…", scale=3,
                            min_width=200, elem_id="sessions-search")
    caption = gr.Markdown("Open this tab to load the sessions.", elem_id="sessions-caption")
    table = gr.Dataframe(
        value=pd.DataFrame({c: [] for c in TABLE_COLUMNS}), headers=list(TABLE_COLUMNS),
        interactive=False, wrap=True, max_height=560, column_widths=COLUMN_WIDTHS,
        datatype=["str", "str", "str", "number", "number", "str", "str", "str", "str"],
        label="Sessions (select a row for its details)", elem_id="sessions-table",
    )
    with gr.Row():
        export = gr.Button("Export CSV", size="sm", scale=0, min_width=140,
                           elem_id="sessions-export")
        csv_file = gr.File(label="CSV of the rows shown", visible=False, scale=1,
                           elem_id="sessions-csv")

    # The selected session's id; a (hidden) textbox rather than a State so the API can pass one.
    selected = gr.Textbox(visible=False, label="Session id", elem_id="sessions-selected")
    with gr.Column(visible=False, elem_id="session-details") as details_box:
        heading = gr.Markdown(elem_id="details-heading")
        with gr.Row():
            with gr.Column(scale=1):
                timeline = gr.HTML(css_template=DETAILS_CSS, elem_id="details-timeline")
                overrides = gr.JSON(label="Overrides used", elem_id="details-overrides")
            with gr.Column(scale=1):
                transcript = gr.HTML(css_template=DETAILS_CSS, elem_id="details-transcript")
                tool_calls = gr.JSON(label="Tools and tool calls", visible=False,
                                     elem_id="details-tools")
        recording = gr.Markdown(elem_id="details-recording")
        with gr.Row():
            cancel = gr.Button("Cancel session", variant="stop", size="sm", visible=False, scale=0,
                               min_width=160, elem_id="details-cancel")
            cancel_note = gr.Markdown(elem_id="details-cancel-note")

    timer = gr.Timer(interval, active=False)
    details_timer = gr.Timer(interval, active=False)
    filters = [status, avatar, since, until, search]
    detail_outputs = [details_box, heading, timeline, overrides, transcript, tool_calls, recording,
                      cancel, selected, details_timer]

    async def sessions_table(
        statuses: list[str] | None, avatar_id: str | None, since_text: str | None,
        until_text: str | None, search_text: str | None, request: gr.Request | None = None,
    ) -> tuple[Any, str, str]:
        """The sessions table with the filters applied, the figures above it, and its caption."""
        try:
            wanted = Filters.parse(statuses, avatar_id, since_text, until_text, search_text,
                                   now=studio.clock.now())
        except ValueError as error:
            return gr.skip(), gr.skip(), f"⚠️ {md_escape(error)}"
        visitor = ctx.visitor(request)
        view = await history.sessions_view(wanted, client=visitor)
        return (table_value(view.table), figures_html(view.figures, studio),
                caption_text(view, wanted, interval, own_only=visitor is not None))

    gr.on(
        [timer.tick, ctx.tab_objects["sessions"].select, status.change, avatar.change, since.change,
         until.change, search.change],
        sessions_table, filters, [table, figures, caption],
        api_name="sessions_table", concurrency_limit=None, show_progress="hidden",
    )

    def visible_to(session_id: str, visitor: str | None) -> bool:
        """Whether a viewer may open or cancel a session: anyone, or in a public demo its caller."""
        if visitor is None:
            return True
        row = studio.ledger.get(session_id)
        return row is not None and row["client_id"] == visitor

    async def session_details(
        session_id: str | None, request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """The details panel of one session (by session or request id)."""
        if not session_id:
            return (gr.Column(visible=False), *([gr.skip()] * 7), None, gr.Timer(active=False))
        try:
            if not visible_to(session_id, ctx.visitor(request)):
                raise StudioError("not_found", NOT_YOURS, 404)
            details = await history.details(session_id)
        except StudioError as error:
            problem = f"#### Session {md_code(session_id)}\n\n⚠️ {md_escape(error.message)}"
            return (gr.Column(visible=True), problem, "", None, "", gr.JSON(None, visible=False),
                    "", gr.Button(visible=False), session_id, gr.Timer(active=False))
        tools = tool_calls_value(details)
        return (
            gr.Column(visible=True), heading_text(details), timeline_html(details),
            details.overrides, transcript_html(details), gr.JSON(tools, visible=tools is not None),
            recording_text(details, studio),
            gr.Button(visible=details.can_cancel, interactive=details.can_cancel), details.key,
            # Follow a session that has not ended; stop once it has.
            gr.Timer(active=details.status not in ("COMPLETED", "FAILED", "CANCELLED")),
        )

    def pick(evt: gr.SelectData) -> tuple[str | None, str]:
        """The selected row's session id (the last column holds it in full)."""
        row = evt.row_value or []
        return (row[-1] if row else None), ""

    # Registered first so that it owns the name; the other listeners reuse the function privately.
    details_timer.tick(session_details, selected, detail_outputs, api_name="session_details",
                       concurrency_limit=None, show_progress="hidden")
    table.select(pick, None, [selected, cancel_note], queue=False, api_visibility="private").then(
        session_details, selected, detail_outputs, show_progress="hidden", api_visibility="private")

    async def cancel_session(session_id: str | None, request: gr.Request | None = None) -> str:
        """Cancel a session this studio started that has not ended."""
        if not session_id:
            return "Select a session first."
        if not visible_to(session_id, ctx.visitor(request)):
            return f"⚠️ {md_escape(NOT_YOURS)}"
        try:
            row = await studio.broker.cancel(session_id)
        except StudioError as error:
            return f"⚠️ {md_escape(error.message)}"
        return f"Session {row['status'].lower()}."

    cancel.click(cancel_session, selected, cancel_note, api_name="cancel_session").then(
        session_details, selected, detail_outputs, show_progress="hidden", api_visibility="private")

    def export_csv(shown: pd.DataFrame | None) -> Any:
        """The rows the table shows, as a CSV file (text that looks like a formula stays text)."""
        frame = shown if shown is not None else pd.DataFrame(columns=list(TABLE_COLUMNS))
        stamp = datetime.fromtimestamp(studio.clock.now(), timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = csv_path(f"sessions-{stamp}.csv")
        spreadsheet_safe(frame).to_csv(path, index=False)
        return gr.File(value=str(path), visible=True)

    export.click(export_csv, table, csv_file, api_name="export_csv")

    def refresh_avatar_choices() -> Any:
        return gr.Dropdown(choices=[ALL_AVATARS, *history.avatar_choices()])

    # Tick only while this tab is on screen. Every tab's select event re-checks what the page
    # actually shows (the frontend can deliver the first tab's initial select late, after a quick
    # click on this tab), then starts or pauses both timers.
    on_screen = gr.Checkbox(visible=False, label="Sessions tab on screen")

    def follow_tab(showing: bool, session_id: str | None) -> tuple[Any, Any]:
        return gr.Timer(active=bool(showing)), gr.Timer(active=bool(showing and session_id))

    def wire_timers() -> None:
        for tab in ctx.tab_objects.values():
            tab.select(follow_tab, [on_screen, selected], [timer, details_timer], js=SHOWING_JS,
                       queue=False, api_visibility="private")

    ctx.tab_objects["sessions"].select(refresh_avatar_choices, None, avatar, queue=False,
                                       api_visibility="private")
    ctx.after_build.append(wire_timers)


def csv_path(name: str) -> Path:
    """A fresh file for an export in one temp folder, where exports older than an hour are removed
    (Gradio serves its own copy)."""
    folder = Path(tempfile.gettempdir()) / "character-studio-csv"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*/*.csv"):
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > 3600:
                old.unlink()
                old.parent.rmdir()
    return Path(tempfile.mkdtemp(dir=folder)) / name


# ----------------------------------------------------------------------------------------------
# Drawing

STATUS_STYLES = {
    "queued": "color: #b45309", "provisioning": "color: #b45309", "requested": "color: #b45309",
    "ready": "color: #6d28d9; font-weight: 600", "running": "color: #1d4ed8; font-weight: 600",
    "in progress": "color: #1d4ed8; font-weight: 600", "completed": "color: #15803d",
    "failed": "color: #b91c1c; font-weight: 600", "cancelled": "color: #6b7280",
}


def table_value(table: pd.DataFrame) -> dict[str, Any]:
    """The table as Gradio's dataframe payload: the full values (what selection and the CSV see)
    plus how each cell reads (one decimal for seconds, a short id, status colours)."""
    headers = list(TABLE_COLUMNS)
    if table.empty:
        return {"headers": headers, "data": [], "metadata": None}
    data = table[headers].to_numpy(dtype=object).tolist()
    number = [headers.index(c) for c in NUMBER_COLUMNS]
    status_at, id_at = headers.index("status"), headers.index("id")
    display, styling = [], []
    for values in data:
        shown = ["" if v is None else str(v) for v in values]
        for i in number:
            shown[i] = "" if values[i] is None else f"{values[i]:.1f}"
        shown[id_at] = shown[id_at][:8]
        display.append(shown)
        row_style = [""] * len(headers)
        row_style[status_at] = STATUS_STYLES.get(values[status_at], "")
        styling.append(row_style)
    metadata = {"display_value": display, "styling": styling}
    return {"headers": headers, "data": data, "metadata": metadata}



def _figure(name: str, value: str, more: str = "", key: str = "") -> str:
    return (f"<div class='figure' data-figure='{key}'><div class='name'>{plain(name)}</div>"
            f"<div class='value'>{plain(value)}</div>"
            f"<div class='more'>{plain(more)}</div></div>")


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def figures_html(figures: Figures | None, studio: Any) -> str:
    if figures is None:
        return "<div class='figures'></div>"
    f = figures
    rate = "–" if f.success_rate is None else f"{f.success_rate:.0%}"
    per_minute = studio.settings.credits_per_minute
    return "<div class='figures'>" + "".join([
        _figure("Sessions today", f"{f.today:,}", f"{f.open} open now", "today"),
        _figure("Success rate", rate, f"{f.completed} completed of {f.ended} ended", "success"),
        _figure("Time to READY", f"p50 {_secs(f.ready_p50)}", f"p95 {_secs(f.ready_p95)}", "ready"),
        _figure("Time to first frame", f"p50 {_secs(f.frame_p50)}", f"p95 {_secs(f.frame_p95)}",
                "first-frame"),
        _figure("Minutes used", f"{f.minutes:,.1f}", f"in {f.sessions:,} sessions", "minutes"),
        _figure("Estimated credits", f"{f.credits:,.0f}",
                f"≈ ${f.usd:,.2f} at {per_minute:g} credits/min", "credits"),
    ]) + "</div>"


def caption_text(view: SessionsView, filters: Filters, interval: float, *, own_only: bool = False) -> str:
    """The line under the filters; `own_only`: a public demo visitor's view of their own calls."""
    shown = len(view.table)
    scope = "matching the filters" if filters.active else "in all"
    noun = "session" if view.matching == 1 else "sessions"
    if view.matching > shown:
        counts = f"Showing the newest **{shown:,}** of **{view.matching:,}** sessions {scope}"
    else:
        counts = f"**{view.matching:,}** {noun} {scope}"
    if filters.active:
        counts += f" ({view.total:,} in all)"
    parts = [counts + "; the figures cover all of them."]
    if own_only:
        parts.append("Public demo: only the calls made from your address are shown.")
    elif view.conversations_error:
        parts.append("⚠️ Sessions started elsewhere are missing: "
                     + md_escape(view.conversations_error))
    elif view.conversations_fetched_at:
        as_of = iso_utc(view.conversations_fetched_at)[11:]
        parts.append(f"Account conversations as of {as_of} UTC.")
    parts.append(f"Refreshes every {interval:g} s while this tab is open. "
                 "Times in seconds from the request.")
    return " ".join(parts)


def heading_text(details: SessionDetails) -> str:
    """The details' heading, in Markdown; every value in it is upstream text, escaped."""
    session = md_code(details.session_id) if details.session_id else "(none yet)"
    lines = [f"#### {md_escape(details.avatar)}: {md_escape(details.label)}",
             f"Session {session}"
             + (f" · request {md_code(details.request_id)}" if details.request_id else "")
             + f" · started {'in this studio' if details.origin == 'this studio' else 'elsewhere'}"
             + (f" · created {iso_utc(details.created)} UTC" if details.created else "")
             + (f" · in the room {details.duration}" if details.duration else "")]
    if details.failure:
        lines.append(f"**Failure:** {md_escape(details.failure)}")
    if details.origin != "this studio" and details.status == "IN_PROGRESS":
        lines.append("*Started elsewhere: cancel it where it was started.*")
    return "\n\n".join(lines)


def timeline_html(details: SessionDetails) -> str:
    if not details.timeline:
        return "<b>Lifecycle</b><p class='empty'>No lifecycle events recorded.</p>"
    rows = "".join(
        f"<tr><td class='offset'>{_offset(e['offset'])}</td>"
        f"<td>{plain(e['name'].replace('_', ' '))}</td>"
        f"<td>{plain(iso_utc(e['at'])[11:])}</td>"
        f"<td>{plain(e['detail'] or '')}</td></tr>"
        for e in details.timeline
    )
    since = "after request" if details.request_id else "after creation"
    return (f"<b>Lifecycle</b><table class='timeline'><thead><tr><th>{since}</th>"
            f"<th>event</th><th>UTC</th><th>detail</th></tr></thead><tbody>{rows}</tbody></table>")


def _offset(seconds: float | None) -> str:
    return "" if seconds is None else f"+{seconds:.2f} s"


def transcript_html(details: SessionDetails) -> str:
    if not details.transcript:
        why = ("The transcript appears once the session has completed." if details.status in
               ("NOT_READY", "READY", "RUNNING", "IN_PROGRESS", "REQUESTED")
               else "No transcript: Runway keeps one only for sessions that ended cleanly.")
        return f"<b>Transcript</b><p class='empty'>{why}</p>"
    lines = "".join(
        f"<div class='line {plain(e['role'])}'>"
        f"<span class='role'>{plain(e['role'])}</span>{plain(e['content'] or '')}</div>"
        for e in details.transcript
    )
    count, source = len(details.transcript), details.transcript_source
    return (f"<b>Transcript</b> <small>({count} lines, from {source})</small>"
            f"<div class='transcript'>{lines}</div>")


def tool_calls_value(details: SessionDetails) -> Any:
    if not details.tool_calls and not details.tools:
        return None
    calls = json.loads(json.dumps(details.tool_calls, default=str))  # plain JSON values only
    return {"configured": details.tools, "calls": calls}


def recording_text(details: SessionDetails, studio: Any) -> str:
    if details.recording_url:
        fetched = details.recording_fetched_at or time.time()
        return (f"**Recording:** {md_link('download', details.recording_url)} · link fetched "
                f"{iso_utc(fetched)} UTC; Runway's links expire 24–48 h after they are issued, "
                "so reopen these details for a fresh one.")
    if details.status in ("COMPLETED",) and studio.mode != "live":
        return "**Recording:** none (the simulator records nothing)."
    if details.status in ("COMPLETED", "FAILED", "CANCELLED"):
        return "**Recording:** none available for this session."
    return "**Recording:** available once the session has ended, if Runway made one."
