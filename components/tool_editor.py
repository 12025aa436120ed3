"""The tool editor: a character's tools (Runway session `tools`), kept by the studio and sent with
every session it creates for that character, and how the studio answers each backend RPC tool.

Build it inside the caller's layout, then `follow(avatar_id_state)`; writes go through the
`owner_only` wrapper the page passes in (a public demo refuses them on the server). Every
definition is checked against Runway's limits before it is stored, with plain words that name
the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gradio as gr

from components.text import md_code, md_escape
from studio.actions.answers import ANSWER_LABELS, FIXED, FORWARD, default_answer, parse_reply_text
from studio.actions.store import ToolEntry
from studio.actions.templates import TEMPLATES, template
from studio.actions.tools import (
    BACKEND_RPC,
    CLIENT_EVENT,
    TIMEOUT_DEFAULT,
    ToolsInvalid,
    validate_tool,
    voice_warnings,
)
from studio.errors import StudioError
from studio.vocabulary import PRESET_AVATARS

NEW = "➕ New tool"
TYPE_CHOICES = [("Client event (the browser reacts)", CLIENT_EVENT),
                ("Backend RPC (the studio answers)", BACKEND_RPC)]
ANSWER_CHOICES = [(label, kind) for kind, label in ANSWER_LABELS.items()]
PARAMETERS_HELP = ('Parameters as JSON: a list of {"type", "name", "description", "required"}; type is '
                   'string (optional "enum": [...]), integer, number, boolean, array (needs '
                   '"items": {"type": ...}) or object (needs "properties": [...]).')
EMPTY_TOOL = {"type": CLIENT_EVENT, "name": "", "description": "", "parameters": []}


class ToolEditor:
    def __init__(self, studio: Any, owner_only: Callable[[Any], Any]) -> None:
        self.studio, self.owner_only = studio, owner_only
        self.store = studio.actions.store

    def build(self) -> None:
        """The editor's components, laid out where it is called."""
        self.summary = gr.Markdown("Choose a character to see its tools.", elem_id="tools-summary")
        with gr.Row(equal_height=False):
            self.template = gr.Dropdown(label="Start from a template", scale=3, elem_id="tools-template",
                                        choices=[(t["label"], key) for key, t in TEMPLATES.items()])
            self.use_template = gr.Button("Use template", size="sm", scale=1, min_width=120,
                                          elem_id="tools-use-template")
        self.pick = gr.Dropdown(label="Tool", choices=[NEW], value=NEW, elem_id="tools-pick")
        with gr.Group():
            with gr.Row():
                self.kind = gr.Radio(TYPE_CHOICES, value=CLIENT_EVENT, label="Type", elem_id="tools-kind")
                self.enabled = gr.Checkbox(True, label="Send with every call", elem_id="tools-enabled")
            with gr.Row():
                self.name = gr.Textbox(label="Name", max_lines=1, placeholder="show_product",
                                       elem_id="tools-name")
                self.timeout = gr.Number(TIMEOUT_DEFAULT, label="timeoutSeconds (1–8)", minimum=1, maximum=8,
                                         visible=False, elem_id="tools-timeout")
            self.description = gr.Textbox(label="Description: when the character should use it", lines=2,
                                          elem_id="tools-description")
            self.parameters = gr.Code("[]", language="json", label="Parameters", lines=6, interactive=True,
                                      elem_id="tools-parameters")
            gr.Markdown(PARAMETERS_HELP)
        with gr.Group(visible=False) as self.answer_box:
            self.answer_kind = gr.Radio(ANSWER_CHOICES, value=FIXED, label="How the studio answers",
                                        elem_id="tools-answer-kind")
            self.reply = gr.Code("{}", language="json", lines=4, interactive=True, elem_id="tools-reply",
                                 label="Reply (JSON; a template may use {parameter} placeholders)")
            with gr.Row(visible=False) as self.forward_row:
                self.url = gr.Textbox(label="Your endpoint (https://…)", max_lines=1, elem_id="tools-url")
                self.forward_timeout = gr.Number(None, label="Endpoint timeout (s, below timeoutSeconds)",
                                                 elem_id="tools-forward-timeout")
        with gr.Row():
            self.save = gr.Button("Save tool", variant="primary", size="sm", elem_id="tools-save")
            self.remove = gr.Button("Remove tool", variant="stop", size="sm", elem_id="tools-remove")
        self.status = gr.Markdown(elem_id="tools-status")
        self.form = [self.kind, self.enabled, self.name, self.timeout, self.description, self.parameters,
                     self.answer_kind, self.reply, self.url, self.forward_timeout]

    def follow(self, avatar_id: gr.State) -> None:
        """Load the tools of the character whose id is in `avatar_id`, and save them there."""
        shown = [self.summary, self.pick, *self.form, self.status]
        avatar_id.change(self.load, avatar_id, shown, show_progress="hidden", api_name=False)
        self.pick.input(self.show_tool, [avatar_id, self.pick], [*self.form, self.status],
                        show_progress="hidden", api_name=False)
        self.use_template.click(self.from_template, self.template, [self.pick, *self.form, self.status],
                                show_progress="hidden", api_name=False)
        self.kind.change(self.shape, [self.kind, self.answer_kind],
                         [self.timeout, self.answer_box, self.forward_row], show_progress="hidden",
                         api_name=False)
        self.answer_kind.change(self.shape, [self.kind, self.answer_kind],
                                [self.timeout, self.answer_box, self.forward_row], show_progress="hidden",
                                api_name=False)
        self.save.click(self.owner_only(self.save_tool), [avatar_id, self.pick, *self.form],
                        [self.summary, self.pick, self.status], api_name=False)
        self.remove.click(self.owner_only(self.remove_tool), [avatar_id, self.pick], shown, api_name=False)

    # Handlers -------------------------------------------------------------------------------------

    async def load(self, avatar_id: str | None) -> tuple:
        entries = self.store.tools(avatar_id) if avatar_id else []
        summary = await self._summary(avatar_id, entries)
        first = entries[0].name if entries else NEW
        return (summary, gr.Dropdown(choices=[NEW, *(e.name for e in entries)], value=first),
                *self._form(entries[0] if entries else None), "")

    def show_tool(self, avatar_id: str | None, picked: str) -> tuple:
        entry = next((e for e in self.store.tools(avatar_id or "") if e.name == picked), None)
        return *self._form(entry), ""

    def from_template(self, key: str | None) -> tuple:
        if not key:
            return gr.skip(), *([gr.skip()] * len(self.form)), "Choose a template first."
        tool, answer = template(key)
        note = f"Template {md_code(tool['name'])} loaded: change what you need, then **Save tool**."
        return NEW, *self._form(ToolEntry(tool, True, answer)), note

    def shape(self, kind: str, answer_kind: str) -> tuple:
        rpc = kind == BACKEND_RPC
        return (gr.Number(visible=rpc), gr.Group(visible=rpc),
                gr.Row(visible=rpc and answer_kind == FORWARD))

    async def save_tool(self, avatar_id: str | None, picked: str, *form: Any) -> tuple:
        if not avatar_id:
            return gr.skip(), gr.skip(), "⚠️ Choose a character first."
        try:
            entry = _entry_from_form(*form)
            validate_tool(entry.tool)  # this tool's own problems first, named as "the tool"
        except ToolsInvalid as invalid:
            return gr.skip(), gr.skip(), _problems(invalid)
        entries = [e for e in self.store.tools(avatar_id) if e.name != picked or picked == NEW]
        position = next((i for i, e in enumerate(self.store.tools(avatar_id)) if e.name == picked), len(entries))
        entries.insert(min(position, len(entries)), entry)
        try:
            saved = self.store.save_tools(avatar_id, entries, self.studio.clock.now())
        except ToolsInvalid as invalid:
            return gr.skip(), gr.skip(), _problems(invalid)
        names = [e.name for e in saved]
        return (await self._summary(avatar_id, saved), gr.Dropdown(choices=[NEW, *names], value=entry.name),
                f"✅ Saved {md_code(entry.name)}: every new call of this character gets it"
                + ("." if entry.enabled else " once it is switched on."))

    async def remove_tool(self, avatar_id: str | None, picked: str) -> tuple:
        if not avatar_id or picked == NEW:
            return (*[gr.skip()] * (len(self.form) + 2), "Choose a saved tool to remove.")
        kept = [e for e in self.store.tools(avatar_id) if e.name != picked]
        self.store.save_tools(avatar_id, kept, self.studio.clock.now())
        *shown, _ = await self.load(avatar_id)
        return (*shown, f"Removed {md_code(picked)}.")

    # Pieces ---------------------------------------------------------------------------------------

    def _form(self, entry: ToolEntry | None) -> tuple:
        tool = entry.tool if entry else EMPTY_TOOL
        rpc = tool["type"] == BACKEND_RPC
        answer = (entry.answer if entry and entry.answer else default_answer(tool)) if rpc else {"kind": FIXED}
        reply = answer.get("reply", {})
        return (
            tool["type"], entry.enabled if entry else True, tool["name"],
            gr.Number(tool.get("timeoutSeconds", TIMEOUT_DEFAULT), visible=rpc), tool["description"],
            json.dumps(tool.get("parameters", []), indent=2), answer["kind"],
            json.dumps(reply, indent=2), answer.get("url", ""), answer.get("timeoutSeconds"),
        )

    async def _summary(self, avatar_id: str | None, entries: list[ToolEntry]) -> str:
        if not avatar_id:
            return "Choose a character to see its tools."
        if not entries:
            return ("**No tools yet.** Start from a template or a new tool: the studio sends a "
                    "character's tools with every call it starts.")
        lines = [f"- {md_code(e.name)}: {e.tool['type'].replace('_', ' ')}"
                 + ("" if e.enabled else " *(off)*") for e in entries]
        warnings = voice_warnings([e.tool for e in entries if e.enabled], await self._voice(avatar_id))
        heading = f"**{len(entries)} tool{'s' if len(entries) != 1 else ''}** (sent with every call, up to 20):"
        return "\n".join([heading, *lines, *(f"\n⚠️ {w}" for w in warnings)])

    async def _voice(self, avatar_id: str) -> dict[str, Any] | None:
        if avatar_id in PRESET_AVATARS:
            return None
        try:
            return (await self.studio.characters.get_character(avatar_id)).get("voice")
        except StudioError:
            return None


def _entry_from_form(kind: str, enabled: bool, name: str, timeout: float | None, description: str,
                     parameters: str, answer_kind: str, reply: str, url: str,
                     forward_timeout: float | None) -> ToolEntry:
    """A tool entry from the form's values; JSON mistakes become plain `ToolsInvalid` words."""
    tool: dict[str, Any] = {"type": kind, "name": (name or "").strip(), "description": (description or "").strip(),
                            "parameters": parse_reply_text(parameters or "[]", "The parameters list")}
    if kind != BACKEND_RPC:
        return ToolEntry(tool, bool(enabled))
    tool["timeoutSeconds"] = timeout if timeout is not None else TIMEOUT_DEFAULT
    if answer_kind == FORWARD:
        answer: dict[str, Any] = {"kind": FORWARD, "url": (url or "").strip()}
        if forward_timeout:
            answer["timeoutSeconds"] = forward_timeout
    else:
        answer = {"kind": answer_kind, "reply": parse_reply_text(reply or "{}", "The reply")}
    return ToolEntry(tool, bool(enabled), answer)


def _problems(invalid: ToolsInvalid) -> str:
    return "⚠️ **Not saved.**\n" + "\n".join(f"- {md_escape(p.message)}" for p in invalid.problems)
