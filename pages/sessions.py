"""Sessions tab: every session, live, with its timings, its failure in plain words, and its details.

While this tab is on screen, the table refreshes when the server says it would change
(`components.sessions_follower`, listening to `/api/sessions/changes`), from `studio.history`,
which serves every viewer from one server-side cache: a refresh reads the local ledger and the
shared conversations list, never Runway, and sends a viewer only what changed for them. An idle
tab receives nothing but keep-alives. A selected live session's details follow on a `gr.Timer`.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.session_details import details_html, timeline_html, transcript_html
from components.session_figures import figures_html, session_figures
from components.sessions_follower import SessionsFollower
from components.sessions_table import (
    SHOWING_JS,
    only_changed,
    session_id_of,
    sessions_table,
    table_value,
)
from components.text import md_code, md_escape, md_link, plain
from pages.context import PageContext
from studio.errors import StudioError
from studio.history import (
    STUDIO,
    TABLE_COLUMNS,
    Filters,
    SessionDetails,
    SessionsView,
    iso_utc,
    spreadsheet_safe,
)
from studio.history.filters import ENDED_WORD, OPEN_WORD, PROVISIONING, QUEUED, parse_when
from studio.vocabulary import (
    CANCELLED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    READY,
    REQUESTED,
    RUNNING,
    is_terminal,
    status_label,
)

# The status filter's choices (label, value); it also takes any status word typed in.
STATUS_CHOICES = [
    (f"{OPEN_WORD} (not ended)", OPEN_WORD),
    (QUEUED, QUEUED),
    (PROVISIONING, PROVISIONING),
    *((status_label(s), s) for s in (READY, RUNNING)),
    (f"{status_label(IN_PROGRESS)} (elsewhere)", IN_PROGRESS),
    *((status_label(s), s) for s in (COMPLETED, FAILED, CANCELLED)),
    (f"{status_label(REQUESTED)} (no answer yet)", REQUESTED),
    (f"{ENDED_WORD} (any way)", ENDED_WORD),
]
ALL_AVATARS = ("All avatars", "")
# A public demo's visitor asking for a session that is not theirs (or none at all: the same words,
# so that nobody learns which ids exist).
NOT_YOURS = "This public demo shows only your own calls, and that session is not one of them."
CSV_KEPT_SECONDS = 3600


@dataclass
class FilterInputs:
    status: gr.Dropdown
    avatar: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox
    search: gr.Textbox
    notes: tuple[gr.HTML, gr.HTML]  # under From and To: why a date does not read

    @property
    def all(self) -> list[Any]:
        return [self.status, self.avatar, self.since, self.until, self.search]


def build(ctx: PageContext, *, send_unchanged: bool = False) -> None:
    """The tab; `send_unchanged`: every table refresh sends everything (a benchmark's baseline)."""
    figures = figures_panel(ctx)
    filters = filters_panel(ctx)
    table, table_timer = table_panel(ctx, filters, figures, send_unchanged=send_unchanged)
    export_panel(ctx, table)
    selected, details_timer = details_panel(ctx, table)
    ctx.after_build.append(lambda: follow_tab(ctx, table_timer, details_timer, selected))


# ----------------------------------------------------------------------------------------------
# Panels


def figures_panel(ctx: PageContext) -> gr.HTML:
    return session_figures(ctx.studio.settings.credits_per_minute, elem_id="sessions-figures")


def filters_panel(ctx: PageContext) -> FilterInputs:
    """Status, avatar, time range and search; the avatar choices follow what the ledger holds."""
    history = ctx.studio.history
    with gr.Row(equal_height=False, elem_id="sessions-filters"):
        # Custom values: the API also takes status words ("failed", "queued", "open", "ended").
        status = gr.Dropdown(STATUS_CHOICES, value=[], multiselect=True, allow_custom_value=True,
                             label="Status (empty: all)", scale=3, min_width=200,
                             elem_id="sessions-status")
        avatar = gr.Dropdown([ALL_AVATARS, *history.avatar_choices()], value="", label="Avatar",
                             allow_custom_value=True, scale=2, min_width=170,
                             elem_id="sessions-avatar")
        since, since_note = date_field("From (UTC)", "sessions-since")
        until, until_note = date_field("To (UTC)", "sessions-until")
        search = gr.Textbox(label="Search", placeholder="avatar, status, failure, id…", scale=3,
                            min_width=200, elem_id="sessions-search")
    filters = FilterInputs(status, avatar, since, until, search, (since_note, until_note))

    def refresh_avatar_choices() -> Any:
        return gr.Dropdown(choices=[ALL_AVATARS, *history.avatar_choices()])

    ctx.tab_objects["sessions"].select(refresh_avatar_choices, None, filters.avatar, queue=False,
                                       api_visibility="private")
    date_notes(ctx, filters)
    return filters


def date_field(label: str, elem_id: str) -> tuple[gr.Textbox, gr.HTML]:
    """A date bound typed as text, with a note under it. The server reads YYYY-MM-DD, YYYY-MM-DD
    HH:MM[:SS], today and now - 7d, and says when it cannot (a date picker drops what it cannot
    read without a word)."""
    with gr.Column(scale=3, min_width=200, elem_classes="date-field"):
        field = gr.Textbox(label=label, placeholder="YYYY-MM-DD or now - 7d", elem_id=elem_id)
        note = gr.HTML("", elem_id=f"{elem_id}-note", padding=False)
    return field, note


def date_note(text: str | None, now: float, *, end: bool = False) -> str:
    """Under a date field: nothing when it reads (or is empty), else why it does not."""
    try:
        parse_when(text, now, end=end)
    except ValueError as error:
        return f"<p class='cs-error' role='alert'>⚠️ {plain(error)}. Not applied until it reads.</p>"
    return ""


def date_notes(ctx: PageContext, filters: FilterInputs) -> None:
    """Each date field's note follows what is typed in it: set while it cannot be read, cleared
    once it can."""
    clock = ctx.studio.clock
    for field, note, end in ((filters.since, filters.notes[0], False),
                             (filters.until, filters.notes[1], True)):
        field.change(lambda text, end=end: date_note(text, clock.now(), end=end), field, note,
                     queue=False, api_visibility="private")


def table_panel(
    ctx: PageContext, filters: FilterInputs, figures: gr.HTML, *, send_unchanged: bool = False,
) -> tuple[gr.Dataframe, gr.Timer | None]:
    """The caption and the live table; refreshed when the server says it changed, on the tab's
    select and on every filter.

    A tick sends only what changed since this viewer's last refresh; `send_unchanged` restores the
    old timer, ticking every interval, queued and sending everything (a benchmark's baseline,
    returned for `follow_tab` to start and pause)."""
    studio = ctx.studio
    interval = studio.settings.refresh_interval
    caption = gr.Markdown("Open this tab to load the sessions.", elem_id="sessions-caption")
    table = sessions_table()
    sent = gr.State(None)  # fingerprints of what this viewer was sent last (table, figures, caption)
    outputs = [table, figures, caption, sent]

    async def refresh(
        statuses: list[str] | None, avatar_id: str | None, since_text: str | None,
        until_text: str | None, search_text: str | None, request: gr.Request | None,
    ) -> tuple[Any, Any, str]:
        """The table, figures and caption for some filters (or a warning in the caption)."""
        try:
            wanted = Filters.parse(statuses, avatar_id, since_text, until_text, search_text,
                                   now=studio.clock.now())
        except ValueError as error:
            return gr.skip(), gr.skip(), f"⚠️ {md_escape(error)}"
        visitor = ctx.visitor(request)
        view = await studio.history.sessions_view(wanted, client=visitor)
        return (table_value(view.table),
                figures_html(view.figures, studio.settings.credits_per_minute),
                caption_text(view, wanted, interval, own_only=visitor is not None))

    async def load_table(
        statuses: list[str] | None, avatar_id: str | None, since_text: str | None,
        until_text: str | None, search_text: str | None, request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """The sessions table with the filters applied, the figures above it, and its caption."""
        return await refresh(statuses, avatar_id, since_text, until_text, search_text, request)

    async def tick(
        statuses: list[str] | None, avatar_id: str | None, since_text: str | None,
        until_text: str | None, search_text: str | None, last_sent: tuple[str, ...] | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """A timer refresh: each output only if it differs from what this viewer has."""
        values = await refresh(statuses, avatar_id, since_text, until_text, search_text, request)
        if send_unchanged:
            return (*values, gr.skip())
        changed, fingerprints = only_changed(values, last_sent)
        return (*changed, gr.skip() if fingerprints == last_sent else fingerprints)

    # (The next tick after a tab switch or a filter change sends once more what changed since the
    # previous tick: the remembered fingerprints are the timer's own.)
    gr.on(
        [ctx.tab_objects["sessions"].select, *(f.change for f in filters.all)],
        load_table, filters.all, outputs[:3],
        api_name="sessions_table", concurrency_limit=None, show_progress="hidden",
    )
    if send_unchanged:
        timer = gr.Timer(interval, active=False)
        timer.tick(tick, [*filters.all, sent], outputs, api_visibility="private", concurrency_limit=None,
                   show_progress="hidden")
        return table, timer
    # A tick only when the server says the tab would change. Not queued: one short request and
    # answer, without the queue's stream and its messages.
    follower = SessionsFollower(interval=interval, date_ids=[filters.since.elem_id, filters.until.elem_id])
    follower.sessions_changed(tick, [*filters.all, sent], outputs, api_visibility="private", queue=False,
                              concurrency_limit=None, show_progress="hidden")
    return table, None


def export_panel(ctx: PageContext, table: gr.Dataframe) -> None:
    """Export CSV: the rows the table shows, as a file to download."""
    clock = ctx.studio.clock
    with gr.Row(elem_id="sessions-export-row"):
        export = gr.Button("Export CSV", size="sm", scale=0, min_width=140,
                           elem_id="sessions-export")
        csv_file = gr.File(label="CSV of the rows shown", visible=False, scale=1,
                           elem_id="sessions-csv")

    def export_csv(shown: pd.DataFrame | None) -> Any:
        """The rows the table shows, as a CSV file (text that looks like a formula stays text)."""
        frame = shown if shown is not None else pd.DataFrame(columns=list(TABLE_COLUMNS))
        stamp = datetime.fromtimestamp(clock.now(), timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = csv_path(f"sessions-{stamp}.csv")
        spreadsheet_safe(frame).to_csv(path, index=False)
        return gr.File(value=str(path), visible=True)

    export.click(export_csv, table, csv_file, api_name="export_csv")


@dataclass
class DetailsOutputs:
    box: gr.Column
    heading: gr.Markdown
    timeline: gr.HTML
    overrides: gr.JSON
    transcript: gr.HTML
    tool_calls: gr.JSON
    recording: gr.Markdown
    cancel: gr.Button
    cancel_note: gr.Markdown
    selected: gr.Textbox
    timer: gr.Timer

    @property
    def all(self) -> list[Any]:
        return [self.box, self.heading, self.timeline, self.overrides, self.transcript,
                self.tool_calls, self.recording, self.cancel, self.selected, self.timer]


def details_panel(ctx: PageContext, table: gr.Dataframe) -> tuple[gr.Textbox, gr.Timer]:
    """The selected session's details (followed while it is open) and its Cancel button."""
    shown = details_layout(ctx.studio.settings.refresh_interval)

    async def session_details(
        session_id: str | None, request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """The details panel of one session (by session or request id)."""
        return await details_update(ctx, session_id, ctx.visitor(request))

    def pick(evt: gr.SelectData) -> tuple[str | None, str]:
        """The selected row's session id (the last column holds it in full)."""
        return session_id_of(evt.row_value), ""

    async def cancel_session(session_id: str | None, request: gr.Request | None = None) -> str:
        """Cancel a session this studio started that has not ended."""
        return await cancel_note(ctx, session_id, ctx.visitor(request))

    # Registered first so that it owns the name; the other listeners reuse the function privately.
    shown.timer.tick(session_details, shown.selected, shown.all, api_name="session_details",
                     concurrency_limit=None, show_progress="hidden")
    table.select(pick, None, [shown.selected, shown.cancel_note], queue=False,
                 api_visibility="private").then(
        session_details, shown.selected, shown.all, show_progress="hidden",
        api_visibility="private")
    shown.cancel.click(cancel_session, shown.selected, shown.cancel_note,
                       api_name="cancel_session").then(
        session_details, shown.selected, shown.all, show_progress="hidden",
        api_visibility="private")
    return shown.selected, shown.timer


def details_layout(interval: float) -> DetailsOutputs:
    # The selected session's id; a (hidden) textbox rather than a State so the API can pass one.
    selected = gr.Textbox(visible=False, label="Session id", elem_id="sessions-selected")
    with gr.Column(visible=False, elem_id="session-details") as box:
        heading = gr.Markdown(elem_id="details-heading")
        with gr.Row():
            with gr.Column(scale=1):
                timeline = details_html(elem_id="details-timeline")
                overrides = gr.JSON(label="Overrides used", elem_id="details-overrides")
            with gr.Column(scale=1):
                transcript = details_html(elem_id="details-transcript")
                tool_calls = gr.JSON(label="Tools and tool calls", visible=False,
                                     elem_id="details-tools")
        recording = gr.Markdown(elem_id="details-recording")
        with gr.Row():
            cancel = gr.Button("Cancel session", variant="stop", size="sm", visible=False, scale=0,
                               min_width=160, elem_id="details-cancel")
            note = gr.Markdown(elem_id="details-cancel-note")
    return DetailsOutputs(box, heading, timeline, overrides, transcript, tool_calls, recording,
                          cancel, note, selected, gr.Timer(interval, active=False))


def follow_tab(
    ctx: PageContext, table_timer: gr.Timer | None, details_timer: gr.Timer, selected: gr.Textbox,
) -> None:
    """Tick only while this tab is on screen. Every tab's select event re-checks what the page
    actually shows (the frontend can deliver the first tab's initial select late, after a quick
    click on this tab), then starts or pauses the timers (the table has one only as a baseline)."""
    on_screen = gr.Checkbox(visible=False, label="Sessions tab on screen")
    timers = [t for t in (table_timer, details_timer) if t is not None]

    def follow(showing: bool, session_id: str | None) -> tuple[Any, ...]:
        details = gr.Timer(active=bool(showing and session_id))
        return (gr.Timer(active=bool(showing)), details) if table_timer is not None else details

    for tab in ctx.tab_objects.values():
        tab.select(follow, [on_screen, selected], timers, js=SHOWING_JS, queue=False, api_visibility="private")


# ----------------------------------------------------------------------------------------------
# Handlers' work


def visible_to(ctx: PageContext, session_id: str, visitor: str | None) -> bool:
    """Whether a viewer may open or cancel a session: anyone, or in a public demo its caller."""
    if visitor is None:
        return True
    row = ctx.studio.ledger.get(session_id)
    return row is not None and row["client_id"] == visitor


async def details_update(ctx: PageContext, session_id: str | None, visitor: str | None) -> tuple:
    """The details panel's outputs (`DetailsOutputs.all`) for one session."""
    if not session_id:
        return (gr.Column(visible=False), *([gr.skip()] * 7), None, gr.Timer(active=False))
    try:
        if not visible_to(ctx, session_id, visitor):
            raise StudioError("not_found", NOT_YOURS, 404)
        details = await ctx.studio.history.details(session_id)
    except StudioError as error:
        problem = f"#### Session {md_code(session_id)}\n\n⚠️ {md_escape(error.message)}"
        return (gr.Column(visible=True), problem, "", None, "", gr.JSON(None, visible=False),
                "", gr.Button(visible=False), session_id, gr.Timer(active=False))
    tools = tool_calls_value(details)
    return (
        gr.Column(visible=True), heading_text(details), timeline_html(details),
        details.overrides, transcript_html(details), gr.JSON(tools, visible=tools is not None),
        recording_text(details, ctx.studio.mode),
        gr.Button(visible=details.can_cancel, interactive=details.can_cancel), details.key,
        # Follow a session that has not ended; stop once it has.
        gr.Timer(active=not is_terminal(details.status)),
    )


async def cancel_note(ctx: PageContext, session_id: str | None, visitor: str | None) -> str:
    if not session_id:
        return "Select a session first."
    if not visible_to(ctx, session_id, visitor):
        return f"⚠️ {md_escape(NOT_YOURS)}"
    try:
        row = await ctx.studio.broker.cancel(session_id)
    except StudioError as error:
        return f"⚠️ {md_escape(error.message)}"
    return f"Session {status_label(row['status'], bool(row.get('queued')))}."


def csv_path(name: str) -> Path:
    """A fresh file for an export in one temp folder, where exports older than an hour are removed
    (Gradio serves its own copy)."""
    folder = Path(tempfile.gettempdir()) / "character-studio-csv"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*/*.csv"):
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > CSV_KEPT_SECONDS:
                old.unlink()
                old.parent.rmdir()
    return Path(tempfile.mkdtemp(dir=folder)) / name


# ----------------------------------------------------------------------------------------------
# Words


def caption_text(
    view: SessionsView, filters: Filters, interval: float, *, own_only: bool = False,
) -> str:
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
        # No "as of" time: it would change, and be sent to every open tab, at each re-read.
        parts.append("Sessions started elsewhere come from Runway's account list, re-read while "
                     "anyone watches.")
    parts.append(f"Updates as sessions change while this tab is open (checked every {interval:g} s). "
                 "Times in seconds from the request.")
    return " ".join(parts)


def heading_text(details: SessionDetails) -> str:
    """The details' heading, in Markdown; every value in it is upstream text, escaped."""
    session = md_code(details.session_id) if details.session_id else "(none yet)"
    ours = details.origin == STUDIO
    lines = [f"#### {md_escape(details.avatar)}: {md_escape(details.label)}",
             f"Session {session}"
             + (f" · request {md_code(details.request_id)}" if details.request_id else "")
             + f" · started {'in this studio' if ours else 'elsewhere'}"
             + (f" · created {iso_utc(details.created)} UTC" if details.created else "")
             + (f" · in the room {details.duration}" if details.duration else "")]
    if details.failure:
        lines.append(f"**Failure:** {md_escape(details.failure)}")
    if not ours and details.status == IN_PROGRESS:
        lines.append("*Started elsewhere: cancel it where it was started.*")
    return "\n\n".join(lines)


def tool_calls_value(details: SessionDetails) -> Any:
    if not details.tool_calls and not details.tools:
        return None
    calls = json.loads(json.dumps(details.tool_calls, default=str))  # plain JSON values only
    return {"configured": details.tools, "calls": calls}


def recording_text(details: SessionDetails, mode: str) -> str:
    if details.recording_url:
        fetched = details.recording_fetched_at or time.time()
        return (f"**Recording:** {md_link('download', details.recording_url)} · link fetched "
                f"{iso_utc(fetched)} UTC; Runway's links expire 24–48 h after they are issued, "
                "so reopen these details for a fresh one.")
    if details.status == COMPLETED and mode != "live":
        return "**Recording:** none (the simulator records nothing)."
    if is_terminal(details.status):
        return "**Recording:** none available for this session."
    return "**Recording:** available once the session has ended, if Runway made one."
