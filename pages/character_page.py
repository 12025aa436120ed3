"""A character's own page, inside the Characters tab: everything about one character in one place.

Image and status, voice (with Play), personality and start script, knowledge (attached documents
and how much of Runway's knowledge budget they use, attach / detach / write a new one), a test
call, and the character's own sessions, which follow while the page is open. The card list
opens it (`show`) and its back link returns there; the tab owns which of the two is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.avatar_call import EMBEDDED_ROOM_OPTIONS, AvatarCall, call_config
from components.character_sheet import (
    SESSIONS_ID,
    SHEET_CSS,
    render_heading,
    render_knowledge,
    render_sessions_caption,
    render_text,
    render_voice,
    voice_player,
)
from components.clip_views import clip_html, render_list
from components.notices import message_box
from components.sessions_table import sessions_table, table_value
from components.tool_editor import ToolEditor
from pages.context import PageContext
from studio.catalog.forms import FormInvalid, voice_choice_of
from studio.catalog.presets import PRESET_SAMPLE_MISSING
from studio.errors import StudioError
from studio.history.filters import Filters
from studio.vocabulary import PROCESSING

SESSIONS_SECONDS = 2.0
CLIPS_SHOWN = 50


@dataclass
class CharacterPage:
    """What the tab needs of the page: the back link, the shown id, and how to show a character."""

    back: gr.Button
    avatar_id: gr.State
    outputs: list[Any]
    show: Any  # async (avatar_id, request) -> dict of updates to `outputs`
    hide: Any  # () -> dict of updates to `hide_outputs` (stops the sessions timer)
    hide_outputs: list[Any]


@dataclass
class Sheet:
    """The page's components, section by section."""

    back: gr.Button
    heading: gr.HTML
    voice: gr.HTML
    play: gr.Button
    audio: gr.HTML
    voice_note: gr.HTML
    personality: gr.HTML
    script: gr.HTML
    call: AvatarCall
    knowledge: gr.HTML
    document: gr.Dropdown
    attach: gr.Button
    detach: gr.Button
    new_name: gr.Textbox
    new_content: gr.Textbox
    add: gr.Button
    knowledge_status: gr.HTML
    sessions_caption: gr.HTML
    sessions: gr.Dataframe
    timer: gr.Timer
    shown_sessions: gr.State


def build_character_page(ctx: PageContext) -> CharacterPage:
    """The page's sections, built where it is called (inside the tab's page column)."""
    studio = ctx.studio
    sheet = Sheet(**_about_section(), **_knowledge_section(ctx), **_sessions_section())

    avatar_id = gr.State(None)  # the character on the page
    # More sections of a character (tools, clips) are added here.
    with gr.Accordion("Tools", open=False, elem_id="cp-tools"):
        tool_editor = ToolEditor(studio, ctx.owner_only)
        tool_editor.build()
    tool_editor.follow(avatar_id)
    _clips_section(studio, avatar_id)

    events = PageEvents(ctx, sheet, avatar_id)
    events.wire()
    return CharacterPage(back=sheet.back, avatar_id=avatar_id, outputs=events.outputs(), show=events.show,
                         hide=events.hide, hide_outputs=[sheet.timer, sheet.audio])


# -- Sections ------------------------------------------------------------------------------------

def _clips_section(studio: Any, avatar_id: gr.State) -> None:
    """The character's clips (avatar videos), newest first; they are made in the Clips tab."""
    with gr.Accordion("Clips", open=False, elem_id="cp-clips") as box:
        gr.Markdown("Videos of this character speaking a script. Make new ones in the **Clips** tab.")
        clips = clip_html(render_list([], 0), elem_id="cp-clip-list")

    def character_clips(shown_id: str | None) -> str:
        rows = studio.clips.list_clips(CLIPS_SHOWN, avatar_id=shown_id) if shown_id else []
        return render_list(rows, studio.clock.now())

    for trigger in (avatar_id.change, box.expand):
        trigger(character_clips, avatar_id, clips, show_progress="hidden", api_name=False)


def _about_section() -> dict[str, Any]:
    """Back link, heading, voice with Play, personality, start script; the test call beside them."""
    with gr.Row():
        back = gr.Button("← All characters", variant="secondary", size="sm", scale=0, min_width=150,
                         elem_id="cp-back")
    heading = gr.HTML("", css_template=SHEET_CSS, elem_id="cp-heading")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            voice = gr.HTML("", css_template=SHEET_CSS, elem_id="cp-voice")
            with gr.Row():
                play = gr.Button("▶ Play voice", size="sm", variant="secondary", scale=0, min_width=130,
                                 elem_id="cp-play")
            audio = gr.HTML("", elem_id="cp-voice-audio")
            voice_note = gr.HTML("", elem_id="cp-voice-note")
            personality = gr.HTML("", css_template=SHEET_CSS, elem_id="cp-personality")
            script = gr.HTML("", css_template=SHEET_CSS, elem_id="cp-start-script")
        with gr.Column(scale=3, min_width=340):
            gr.Markdown("#### Test call")
            call = AvatarCall(elem_id="cp-call")
    return {"back": back, "heading": heading, "voice": voice, "play": play, "audio": audio,
            "voice_note": voice_note, "personality": personality, "script": script, "call": call}


def _knowledge_section(ctx: PageContext) -> dict[str, Any]:
    """The attached documents and their budget; attach, detach, or write a new one."""
    gr.Markdown("#### Knowledge")
    knowledge = gr.HTML("", css_template=SHEET_CSS, elem_id="cp-knowledge")
    editable = not ctx.public_demo
    with gr.Row(visible=editable):
        document = gr.Dropdown(label="Document", choices=[], value=None, elem_id="cp-document", scale=3,
                               min_width=260)
        attach = gr.Button("Attach", min_width=110, scale=1, elem_id="cp-attach")
        detach = gr.Button("Detach", min_width=110, scale=1, elem_id="cp-detach")
    with gr.Accordion("Write a new document for this character", open=False, visible=editable,
                      elem_id="cp-new-document"):
        new_name = gr.Textbox(label="Document name", max_lines=1, elem_id="cp-new-name")
        new_content = gr.Textbox(label="Content", lines=5, max_lines=14, elem_id="cp-new-content",
                                 placeholder="Plain text or Markdown: FAQs, product facts, policies…")
        add = gr.Button("Add and attach", variant="primary", elem_id="cp-add")
    knowledge_status = gr.HTML("", elem_id="cp-knowledge-status")
    return {"knowledge": knowledge, "document": document, "attach": attach, "detach": detach,
            "new_name": new_name, "new_content": new_content, "add": add, "knowledge_status": knowledge_status}


def _sessions_section() -> dict[str, Any]:
    """The character's own sessions, refreshed while the page is open."""
    gr.Markdown("#### Sessions")
    sessions_caption = gr.HTML("", elem_id="cp-sessions-caption")
    sessions = sessions_table(elem_id=SESSIONS_ID, label="This character's sessions", max_height=420)
    timer = gr.Timer(SESSIONS_SECONDS, active=False)
    shown_sessions = gr.State(None)  # what the table holds, so an unchanged tick sends nothing
    return {"sessions_caption": sessions_caption, "sessions": sessions, "timer": timer,
            "shown_sessions": shown_sessions}


# -- Events --------------------------------------------------------------------------------------

class PageEvents:
    """What the page does: show a character, play its voice, change its knowledge, follow its sessions."""

    def __init__(self, ctx: PageContext, sheet: Sheet, avatar_id: gr.State) -> None:
        self.ctx, self.studio, self.sheet, self.avatar_id = ctx, ctx.studio, sheet, avatar_id
        self.presets = ctx.studio.presets

    def outputs(self) -> list[Any]:
        s = self.sheet
        return [self.avatar_id, s.heading, s.voice, s.audio, s.voice_note, s.personality, s.script, s.call,
                s.knowledge_status, s.timer, s.shown_sessions, s.knowledge, s.document, s.sessions,
                s.sessions_caption]

    async def show(self, shown_id: str, request: gr.Request | None = None) -> dict:
        """Everything about one character, on the page."""
        s = self.sheet
        try:
            avatar = await self.studio.characters.get_character(shown_id)
        except StudioError as error:
            return {s.heading: message_box(error.message, "error"), self.avatar_id: None}
        out = {
            self.avatar_id: shown_id, s.heading: render_heading(avatar),
            s.voice: render_voice(avatar.get("voice"), self.studio.voices.preset_description),
            s.audio: "", s.voice_note: "",
            s.personality: render_text("Personality", avatar.get("personality")),
            s.script: render_text("Start script", avatar.get("start_script"),
                                  empty="None: the character waits for the caller to speak first."),
            s.call: self.call_config(shown_id, avatar.get("name") or "Character"),
            s.knowledge_status: "", s.timer: gr.Timer(active=True), s.shown_sessions: None,
        }
        out.update(await self.knowledge_view(avatar))
        self.studio.history.remember_names({shown_id: avatar.get("name")})
        out.update(await self.sessions_view(shown_id, None, request))
        return out

    def hide(self) -> dict:
        return {self.sheet.timer: gr.Timer(active=False), self.sheet.audio: ""}

    def call_config(self, avatar_id: str, name: str) -> str:
        """The test call's card: the same configuration as the Call tab's, without overrides."""
        offline = self.studio.mode == "simulator"
        embedded_room = offline and not self.studio.settings.simulator.livekit_url
        return call_config(avatarId=avatar_id, avatarName=name, avatarImageUrl=f"/api/avatars/{avatar_id}/image",
                           maxDuration=self.studio.settings.default_max_duration, offline=offline or None,
                           roomOptions=EMBEDDED_ROOM_OPTIONS if embedded_room else None)

    async def knowledge_view(self, avatar: dict[str, Any]) -> dict:
        s = self.sheet
        try:
            documents = await self.studio.documents.list_documents()
        except StudioError as error:
            return {s.knowledge: message_box(f"Could not list documents: {error.message}", "error")}
        attached = set(avatar.get("document_ids") or [])
        return {
            s.knowledge: render_knowledge([d for d in documents if d["id"] in attached]),
            s.document: gr.Dropdown(choices=[(("✓ " if d["id"] in attached else "") + d["name"], d["id"])
                                             for d in documents], value=None),
        }

    async def sessions_view(self, shown_id: str | None, before: Any, request: gr.Request | None = None) -> dict:
        """The character's sessions; nothing ({}) when they are as shown."""
        s = self.sheet
        if not shown_id:
            return {}
        view = await self.studio.history.sessions_view(Filters(avatar=shown_id), client=self.ctx.visitor(request))
        value = table_value(view.table)
        key = repr(value["data"])
        if key == before:
            return {}
        return {s.sessions: value, s.shown_sessions: key, s.sessions_caption: render_sessions_caption(view.matching)}

    async def on_play(self, shown_id: str | None) -> tuple[Any, Any]:
        """A player for the character's voice, or why there is none (live presets: Runway has no sample)."""
        if not shown_id:
            return gr.skip(), gr.skip()
        try:
            avatar = await self.studio.characters.get_character(shown_id)
            kind, _, voice_id = (voice_choice_of(avatar.get("voice")) or "").partition(":")
            if kind == "custom":
                sample = await self.studio.voices.voice_preview_audio(voice_id)
                missing = "Runway has no sample of this custom voice yet: try again once it is READY."
            else:
                sample = await self.presets.voice_sample(voice_id)
                missing = PRESET_SAMPLE_MISSING
        except StudioError as error:
            return "", message_box(error.message, "error")
        if not sample:
            return "", message_box(missing, "info")
        return voice_player(voice_id), ""

    async def change_knowledge(self, shown_id: str | None, document_id: str | None, version: int | None,
                               attaching: bool) -> dict:
        """Attach or detach a document; the knowledge redrawn, and the signal other tabs follow."""
        s, documents = self.sheet, self.studio.documents
        if not shown_id or not document_id:
            return {s.knowledge_status: message_box("Choose a document first.", "error")}
        try:
            if attaching:
                avatar = await documents.attach_document(document_id, shown_id)
            else:
                avatar = await documents.detach_document(document_id, shown_id)
        except FormInvalid as invalid:
            return {s.knowledge_status: message_box(" ".join(invalid.errors.values()), "error")}
        except StudioError as error:
            return {s.knowledge_status: message_box(error.message, "error")}
        return {**await self.knowledge_view(avatar), self.ctx.documents_changed: (version or 0) + 1,
                s.knowledge_status: message_box("Attached." if attaching else "Detached.", "ready")}

    async def on_attach(self, shown_id, document_id, version):
        return await self.change_knowledge(shown_id, document_id, version, True)

    async def on_detach(self, shown_id, document_id, version):
        return await self.change_knowledge(shown_id, document_id, version, False)

    async def on_add(self, shown_id, name, content, version):
        """Write a new document and attach it at once."""
        s = self.sheet
        if not shown_id:
            return gr.skip()
        try:
            created = await self.studio.documents.create_document(name or "", content or "")
        except FormInvalid as invalid:
            return {s.knowledge_status: message_box("Nothing was sent: " + " ".join(invalid.errors.values()),
                                                    "error")}
        except StudioError as error:
            return {s.knowledge_status: message_box(error.message, "error")}
        out = await self.change_knowledge(shown_id, created["id"], version, True)
        return {**out, s.new_name: "", s.new_content: "", self.ctx.documents_changed: (version or 0) + 2,
                s.knowledge_status: message_box(f"Added “{created.get('name')}” and attached it.", "ready")}

    async def on_documents_changed(self, shown_id):
        """Documents changed (here or in the Knowledge tab): the shown character's knowledge again."""
        if not shown_id:
            return gr.skip()
        try:
            avatar = await self.studio.characters.get_character(shown_id)
        except StudioError:
            return gr.skip()
        return await self.knowledge_view(avatar)

    async def on_tick(self, shown_id, before, heading_html, request: gr.Request):
        """The sessions when they changed, and the heading once a PROCESSING character is done."""
        out = await self.sessions_view(shown_id, before, request)
        if shown_id and f"data-status='{PROCESSING}'" in (heading_html or ""):
            try:
                avatar = await self.studio.characters.get_character(shown_id)
            except StudioError:
                avatar = None
            if avatar is not None and avatar.get("status") != PROCESSING:
                out[self.sheet.heading] = render_heading(avatar)
        return out or gr.skip()

    def wire(self) -> None:
        s, ctx, changed_signal = self.sheet, self.ctx, self.ctx.documents_changed
        changed = [s.knowledge, s.document, s.knowledge_status, changed_signal]
        s.play.click(self.on_play, self.avatar_id, [s.audio, s.voice_note], api_name=False,
                     show_progress="minimal")
        for button, handler in ((s.attach, self.on_attach), (s.detach, self.on_detach)):
            button.click(ctx.owner_only(handler), [self.avatar_id, s.document, changed_signal], changed,
                         api_name=False, show_progress="minimal")
        s.add.click(ctx.owner_only(self.on_add), [self.avatar_id, s.new_name, s.new_content, changed_signal],
                    [*changed, s.new_name, s.new_content], api_name=False, show_progress="minimal")
        changed_signal.change(self.on_documents_changed, self.avatar_id, [s.knowledge, s.document],
                              api_name=False, show_progress="hidden")
        s.timer.tick(self.on_tick, [self.avatar_id, s.shown_sessions, s.heading],
                     [s.sessions, s.shown_sessions, s.sessions_caption, s.heading],
                     api_name=False, show_progress="hidden", concurrency_limit=None)
