"""The Call tab's tool activity: the backend RPC calls the studio answered in this browser's
current call (tool, arguments, answer or error, latency), followed by a timer that sends nothing
when nothing changed; and, offline, a QA control that makes the simulated character use a tool
with given arguments (through the simulator's control plane)."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from components.text import md_code, md_escape, plain
from studio.errors import StudioError
from studio.history import iso_utc
from studio.vocabulary import TERMINAL

CSS = """
table.tool-activity { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
table.tool-activity th, table.tool-activity td { padding: 4px 8px; text-align: left; vertical-align: top;
    border-bottom: 1px solid var(--border-color-primary); }
table.tool-activity th { font-weight: 500; opacity: 0.7; }
table.tool-activity code { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 0.8rem; }
table.tool-activity td.tool code { white-space: nowrap; }
table.tool-activity td.tool small { display: block; }
table.tool-activity td.latency { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.tool-activity .error { color: var(--error-text-color, #c0392b); }
.tool-activity-empty { opacity: 0.7; font-style: italic; }
@media (max-width: 640px) {  /* a phone: each call is a small card of labelled lines */
  table.tool-activity thead { display: none; }
  table.tool-activity tr { display: block; padding: 6px 0; border-bottom: 1px solid var(--border-color-primary); }
  table.tool-activity td { display: flex; gap: 8px; border: none; padding: 1px 4px; }
  table.tool-activity td::before { content: attr(data-label); flex: 0 0 5.5em; opacity: 0.7; }
  table.tool-activity td.latency { text-align: left; }
}
"""
EMPTY = "<p class='tool-activity-empty'>No tool calls yet in this call.</p>"
LIVE_NOTE = ("*Making the character call a tool is available offline only: on Runway its own model "
             "decides when to use a tool.*")
POLL_SECONDS = 1.0


def activity_html(calls: list[dict[str, Any]], problem: str | None = None) -> str:
    """The calls as a table; every value is caller or endpoint text, so every value is escaped."""
    note = f"<p class='error'>⚠️ {plain(problem)}</p>" if problem else ""
    if not calls:
        return note + EMPTY
    rows = "".join(
        f"<tr data-tool='{plain(c['tool'])}'><td data-label='UTC'>{plain(iso_utc(c['at'])[11:19])}</td>"
        f"<td class='tool' data-label='tool'><code>{plain(c['tool'])}</code> "
        f"<small>{plain(c['kind'].replace('_', ' '))}</small></td>"
        f"<td data-label='arguments'><code>{plain(_json(c['arguments']))}</code></td>"
        + (f"<td class='error' data-label='error'>{plain(c['error'])}</td>" if c.get("error")
           else f"<td data-label='answer'><code>{plain(_json(c['answer']) if c['answer'] is not None else '')}"
                "</code></td>")
        + f"<td class='latency' data-label='latency'>{_latency(c.get('latency_ms'))}</td></tr>"
        for c in calls
    )
    return (note + "<table class='tool-activity'><thead><tr><th>UTC</th><th>tool</th><th>arguments</th>"
            f"<th>answer</th><th>latency</th></tr></thead><tbody>{rows}</tbody></table>")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _latency(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"


class ToolActivity:
    """Build inside the Call tab's layout: `ToolActivity(studio, avatar_dropdown).build(ctx)`; with
    the page context, the activity is followed only while the Call tab is on screen."""

    def __init__(self, studio: Any, avatar: gr.Dropdown) -> None:
        self.studio, self.avatar = studio, avatar
        self.offline = bool(studio.upstream.simulated)

    def build(self, ctx: Any = None) -> None:
        with gr.Accordion("Tool calls in this call", open=True, elem_id="tool-activity-box"):
            shown = gr.HTML(EMPTY, css_template=CSS, elem_id="tool-activity")
            seen = gr.State("")
            timer = gr.Timer(POLL_SECONDS, active=ctx is None)
            timer.tick(self.poll, [self.avatar, seen], [shown, seen], show_progress="hidden",
                       api_name=False, queue=False)
            self._qa_control()
        if ctx is not None:  # every tab exists only once the whole page is built
            ctx.after_build.append(lambda: self._follow_tabs(ctx.tab_objects, timer))

    @staticmethod
    def _follow_tabs(tabs: dict[str, Any], timer: gr.Timer) -> None:
        for name, tab in tabs.items():
            tab.select(lambda on=(name == "call"): gr.Timer(active=on), None, timer, queue=False,
                       show_progress="hidden", api_visibility="private")

    def current_session(self, avatar_id: str, request: gr.Request | None) -> dict[str, Any] | None:
        """This browser's newest session with the character (the call on screen)."""
        client = request.client if request is not None else None
        forwarded = request.headers.get("x-forwarded-for") if request is not None else None
        caller = self.studio.caller_id(client.host if client else None, forwarded)
        rows = self.studio.ledger.list(avatar=avatar_id, client_id=caller, limit=1)
        return rows[0] if rows and rows[0]["session_id"] else None

    def poll(self, avatar_id: str, seen: str, request: gr.Request) -> tuple[Any, Any]:
        row = self.current_session(avatar_id, request)
        if row is None:
            return (gr.skip(), gr.skip()) if seen == "none" else (EMPTY, "none")
        session_id = row["session_id"]
        count, newest = self.studio.actions.store.latest_call_at(session_id)
        problem = self.studio.actions.backend_problems.get(session_id)
        signature = f"{session_id}:{count}:{newest}:{problem or ''}"
        if signature == seen:
            return gr.skip(), gr.skip()  # nothing new: no update goes to the page
        return activity_html(self.studio.actions.store.calls(session_id), problem), signature

    # QA: make the simulated character use a tool -----------------------------------------------

    def _qa_control(self) -> None:
        if not self.offline:
            gr.Markdown(LIVE_NOTE, elem_id="tool-qa-live-note")
            return
        with gr.Row(equal_height=False, elem_id="tool-qa"):
            names = self._tool_names(self.avatar.value)
            tool = gr.Dropdown(label="Make it call this tool", choices=names, value=names[0] if names else None,
                               allow_custom_value=True, scale=1, elem_id="tool-qa-tool")
            arguments = gr.Code("{}", language="json", label="with these arguments (JSON)", lines=2,
                                interactive=True, elem_id="tool-qa-args")
        run = gr.Button("Call the tool now", size="sm", elem_id="tool-qa-run")
        outcome = gr.Markdown(elem_id="tool-qa-outcome")
        self.avatar.change(self.tool_choices, self.avatar, tool, show_progress="hidden", api_name=False)
        tool.focus(self.tool_choices, [self.avatar, tool], tool, show_progress="hidden", api_name=False)
        run.click(self.use_tool, [self.avatar, tool, arguments], outcome, api_name=False)

    def _tool_names(self, avatar_id: Any) -> list[str]:
        if not isinstance(avatar_id, str) or not avatar_id:
            return []
        return [e.name for e in self.studio.actions.store.tools(avatar_id) if e.enabled]

    def tool_choices(self, avatar_id: str, current: str | None = None) -> Any:
        """The character's tools now (they may have been edited since), keeping the one chosen."""
        names = self._tool_names(avatar_id)
        return gr.Dropdown(choices=names, value=current if current in names else (names[0] if names else None))

    async def use_tool(self, avatar_id: str, tool: str, arguments: str, request: gr.Request) -> str:
        row = self.current_session(avatar_id, request)
        if row is None or row["status"] in TERMINAL:
            return "⚠️ Start a call first: the tool is used in the call on screen."
        if not tool:
            return "⚠️ Choose a tool."
        try:
            args = json.loads(arguments or "{}")
        except ValueError as error:
            return f"⚠️ The arguments are not valid JSON: {md_escape(str(error))}"
        if not isinstance(args, dict):
            return "⚠️ The arguments must be a JSON object, such as {\"order_id\": \"A1\"}."
        try:
            outcome = await self.studio.actions.use_tool(row["session_id"], tool, args, simulated=self.offline)
        except StudioError as error:
            return f"⚠️ {md_escape(error.message)}"
        record = outcome.get("call") or {}
        if record.get("error"):
            return f"Called {md_code(tool)}: it failed: {md_escape(record['error'])}"
        result = record.get("result")
        shown = f": the answer was {md_code(json.dumps(result, ensure_ascii=False))}" if result is not None else "."
        return f"Called {md_code(tool)}{shown}"
