"""Characters tab: every custom character and the 9 presets, and the form that makes and edits them.

Left: the character cards (thumbnail, name, voice, live status, what to try next after a failure)
with Call / Edit / Duplicate / Delete, then the presets (portraits where the upstream has them)
with Call. Right: the create / edit form (reference image with pre-flight and a crop preview the
person can move, the current image while editing, voice with a sample, personality, start script,
knowledge, image processing) and the custom-voice studio. A click on a card opens that
character's page (`pages.character_page`) in place of the list; its back link returns. In a
public demo only the cards, their Call and the pages stay: the form is hidden and every write
handler refuses (`PageContext.owner_only`).

Publishes `ctx.characters_changed` (grows whenever characters are created, edited, duplicated,
deleted, or finish processing); listens to `ctx.documents_changed`; a card's Call sets
`ctx.call_avatar` and opens the Call tab.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.avatar_call import character_choices
from components.character_cards import (
    CharacterCards,
    PresetCards,
    render_cards,
    render_presets,
    render_summary,
)
from components.character_editor import DEFAULT_VOICE, CharacterEditor, current_image_html
from components.notices import message_box, render_progress, shown
from components.text import error_note, md_escape, plain
from components.voice_studio import VoiceStudio
from pages.character_page import CharacterPage, build_character_page
from pages.context import PageContext
from studio.catalog.characters import avatar_fingerprint, is_processing
from studio.catalog.forms import FormInvalid, voice_choice_of
from studio.errors import StudioError
from studio.vocabulary import PROCESSING

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
NEW_CHARACTER_JS = """() => {
  const form = document.getElementById('cs-form-panel');
  if (form) form.scrollIntoView({behavior: 'smooth', block: 'start'});
  const name = document.querySelector('#cs-name input');
  if (name) setTimeout(() => name.focus({preventScroll: true}), 400);
}"""


def build(ctx: PageContext) -> None:
    # The way in: every character's card, and the form (a public demo changes nothing: no form).
    with gr.Column(elem_id="cs-list-view") as list_view, gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            cards = cards_panel(ctx)
        with gr.Column(scale=2, min_width=380, visible=not ctx.public_demo):
            form = form_panel(ctx)
            voices = voice_panel(ctx, form)
    with gr.Column(visible=False, elem_id="cs-character-page") as page_view:  # one character's page
        page = build_character_page(ctx)
    board = Board(ctx, cards, form)
    listing_events(ctx, board, voices)
    submit_events(ctx, board)
    edit_events(ctx, board)
    delete_events(ctx, board)
    page_events(ctx, board, page, list_view, page_view)
    call_shortcuts(ctx, cards)


# -- Panels --------------------------------------------------------------------------------------

@dataclass
class Cards:
    summary: gr.HTML
    refresh: gr.Button
    cards: CharacterCards
    presets: PresetCards


def cards_panel(ctx: PageContext) -> Cards:
    with gr.Row(equal_height=True, elem_id="cs-list-head"):
        gr.Markdown("### Your characters", elem_classes="cs-section-title")
        summary = gr.HTML(render_summary([]), elem_id="cs-summary")
        refresh = gr.Button("Refresh", size="sm", variant="secondary", scale=0, min_width=90, elem_id="cs-refresh")
        # On a phone the form is far below the cards: this brings it up.
        new = gr.Button("+ New character", size="sm", variant="primary", scale=0, min_width=140,
                        elem_id="cs-new", visible=not ctx.public_demo)
    new.click(None, None, None, js=NEW_CHARACTER_JS)
    cards = CharacterCards(elem_id="cs-cards")
    gr.Markdown("### Preset avatars", elem_classes="cs-section-title")
    gr.Markdown("Runway's nine ready-made characters. They need no setup: call them right away.",
                elem_classes="cs-muted")
    presets = PresetCards(elem_id="cs-presets")
    return Cards(summary, refresh, cards, presets)


def form_panel(ctx: PageContext) -> CharacterEditor:
    return CharacterEditor(ctx.studio.voices, owner_only=ctx.owner_only, presets=ctx.studio.presets)


def voice_panel(ctx: PageContext, form: CharacterEditor) -> VoiceStudio:
    with gr.Accordion("Custom voices: design or clone", open=False, elem_id="cs-voices"):
        return VoiceStudio(ctx.studio.voices, form.voice, owner_only=ctx.owner_only,
                           opened=ctx.tab_objects["characters"])


# -- What the panels share -----------------------------------------------------------------------

def unique(*groups: list[Any]) -> list[Any]:
    """Outputs from several lists, each component once (Gradio refuses duplicates)."""
    seen: list[Any] = []
    for group in groups:
        seen.extend(component for component in group if all(component is not other for other in seen))
    return seen


class Board:
    """The cards as shown, and what every event group redraws: the listing (cards, summary, the
    poll timer, the form's progress box) and the form's mode (creating, or editing one)."""

    def __init__(self, ctx: PageContext, cards: Cards, form: CharacterEditor) -> None:
        self.ctx, self.cards, self.form = ctx, cards, form
        self.characters, self.documents = ctx.studio.characters, ctx.studio.documents
        self.editable = not ctx.public_demo
        self.timer = gr.Timer(POLL_SECONDS, active=False)  # runs only while a character is PROCESSING
        self.armed = gr.State(None)    # avatar id whose Delete is armed
        self.editing = gr.State(None)  # avatar id being edited, None while creating
        self.watch = gr.State(None)    # avatar id whose progress the form shows
        self.shown = gr.State(None)    # fingerprint of the cards on screen
        self.changed = ctx.characters_changed
        self.follow = [self.armed, self.watch, self.shown, self.changed]  # what a redraw reads
        self.listing = [cards.cards, cards.summary, self.timer, self.shown, self.changed, form.progress]
        self.mode = [self.editing, self.watch, form.title, form.submit, form.cancel, form.progress]

    async def snapshot(self, armed_id, watch_id, fingerprint, version, force=True, report=False) -> dict:
        """List characters; redraw only what changed. With `report`, the form's progress box
        follows the watched character's status changes."""
        try:
            avatars = await self.characters.list_characters()
            self.ctx.studio.history.remember_names({a["id"]: a.get("name") for a in avatars})
        except StudioError as error:
            return {self.cards.summary: f"<span class='cs-error'>Could not list characters: {plain(error.message)}</span>",
                    self.timer: gr.Timer(active=False)}
        out: dict = {}
        new_print = (avatar_fingerprint(avatars), armed_id)
        if force or new_print != fingerprint:
            thumbs = await self.characters.thumbnails(avatars)
            out[self.cards.cards] = render_cards(avatars, thumbs, armed_id, self.editable)
            out[self.cards.summary] = render_summary(avatars)
            out[self.shown] = new_print
            if fingerprint is not None and new_print[0] != fingerprint[0]:
                out[self.changed] = (version or 0) + 1
        out[self.timer] = gr.Timer(active=is_processing(avatars))
        watched = next((a for a in avatars if a["id"] == watch_id), None) if report else None
        before = {entry[0]: entry[1] for entry in (fingerprint[0] if fingerprint else ())}
        if watched is not None and before.get(watch_id) != watched.get("status"):
            out[self.form.progress] = render_progress(watched)  # only on a change: messages stay
        return out

    async def form_choices(self, current_voice, current_docs) -> dict:
        """Voice and document choices, keeping what is selected."""
        form, out = self.form, {}
        try:
            voice_options = self.ctx.studio.voices.voice_choices(await self.ctx.studio.voices.list_voices())
            keep = current_voice if current_voice in {v for _, v in voice_options} else DEFAULT_VOICE
            out[form.voice] = gr.Dropdown(choices=voice_options, value=keep)
        except StudioError as error:
            log.warning("voices unavailable: %s", error.message)
        try:
            doc_options = await self.documents.document_choices()
            known = {value for _, value in doc_options}
            out[form.documents] = gr.Dropdown(choices=doc_options,
                                              value=[d for d in (current_docs or []) if d in known])
        except StudioError as error:
            log.warning("documents unavailable: %s", error.message)
        return out

    async def preset_faces(self) -> Any:
        """The presets' portraits where the upstream has them (the simulator); live they keep initials."""
        thumbs = await self.ctx.studio.presets.portrait_thumbnails()
        return render_presets(thumbs) if any(thumbs.values()) else gr.skip()

    def creating(self) -> dict:
        """The form back in create mode."""
        return {self.editing: None, self.form.title: "### Create a character",
                self.form.submit: gr.Button(value="Create character"), self.form.cancel: gr.Button(visible=False)}


# -- Events --------------------------------------------------------------------------------------

def listing_events(ctx: PageContext, board: Board, voices: VoiceStudio) -> None:
    """The cards: on load, Refresh, while one is PROCESSING, and when documents change."""
    choosers = [board.form.voice, board.form.documents]

    async def list_characters(armed_id, watch_id, fingerprint, version):
        return await board.snapshot(armed_id, watch_id, fingerprint, version)

    async def tick(armed_id, watch_id, fingerprint, version):
        return await board.snapshot(armed_id, watch_id, fingerprint, version, force=False, report=True)

    async def on_load():
        return {**await board.snapshot(None, None, None, 0), **await board.form_choices(DEFAULT_VOICE, [])}

    board.cards.refresh.click(list_characters, board.follow, board.listing, api_name="list_characters",
                              show_progress="hidden")
    board.timer.tick(tick, board.follow, board.listing, api_name=False, show_progress="hidden",
                     concurrency_limit=None)
    gr.on(None, on_load, None, unique(board.listing, choosers), api_name=False, show_progress="hidden")
    gr.on(None, board.preset_faces, None, board.cards.presets, api_name=False, show_progress="hidden")
    for source in (ctx.tab_objects["characters"].select, voices.voices_changed.change,
                   ctx.documents_changed.change):
        source(board.form_choices, choosers, choosers, api_name=False, show_progress="hidden")
    ctx.documents_changed.change(list_characters, board.follow, board.listing, api_name=False,
                                 show_progress="hidden")


def submit_events(ctx: PageContext, board: Board) -> None:
    """Create, or save the character being edited."""
    form = board.form

    async def on_submit(editing_id, armed_id, fingerprint, version, *values):
        out: dict = {box: error_note(None) for box in form.error_boxes}
        try:
            if editing_id:
                avatar = await board.characters.update_character(editing_id, CharacterEditor.read(*values))
                done = f"Saved “{avatar.get('name')}”."
            else:
                avatar = await board.characters.create_character(CharacterEditor.read(*values))
                done = None
        except FormInvalid as invalid:
            for key, message in invalid.errors.items():
                out[form.errors.get(key, form.err_image)] = error_note(message)
            return {**out, form.progress: message_box("Nothing was sent: fix the fields marked above.", "error")}
        except StudioError as error:
            return {**out, form.progress: message_box(error.message, "error")}
        if editing_id:  # the title names the character as saved now
            out[form.title] = f"### Editing “{md_escape(avatar.get('name'))}”"
            out[form.current_image] = shown(current_image_html(avatar))
        else:  # made: the form is empty again, so a second click cannot make a duplicate
            out.update(form.blank())
        out.update(await board.snapshot(None, avatar["id"], fingerprint, version))
        out.update({board.changed: (version or 0) + 1, board.watch: avatar["id"], board.armed: None})
        if done and avatar.get("status") != PROCESSING:
            out[form.progress] = message_box(done, "ready")
        else:
            out[form.progress] = render_progress(avatar)
        return out

    outputs = unique(form.error_boxes, board.listing, board.mode, [board.armed], form.fields)
    form.submit.click(ctx.owner_only(on_submit), [board.editing, board.armed, board.shown, board.changed,
                                                  *form.inputs],
                      outputs, api_name="save_character", show_progress="minimal", concurrency_limit=None)


def edit_events(ctx: PageContext, board: Board) -> None:
    """A card's Edit fills the form; Cancel empties it; Duplicate makes a copy."""
    form = board.form

    async def on_edit(evt: gr.EventData):
        try:
            avatar = await board.characters.get_character(evt.id)
        except StudioError as error:
            return {form.progress: message_box(error.message, "error")}
        voice = voice_choice_of(avatar.get("voice"))
        out = {**form.blank(),
               board.editing: avatar["id"], board.watch: avatar["id"],
               form.title: f"### Editing “{md_escape(avatar.get('name'))}”",
               form.submit: gr.Button(value="Save changes"), form.cancel: gr.Button(visible=True),
               form.name: avatar.get("name") or "", form.personality: avatar.get("personality") or "",
               form.start_script: avatar.get("start_script") or "",
               form.documents: list(avatar.get("document_ids") or []), form.voice: voice or DEFAULT_VOICE,
               form.current_image: shown(current_image_html(avatar)),
               form.progress: message_box("Change any field and save. Leave the image empty to keep the current "
                                          "one; clear the start script to remove it.", "info")}
        if voice is None:
            out[form.err_voice] = error_note("Voice: its custom voice was deleted; pick another voice.")
        return out

    def on_cancel():
        return {**form.blank(), **board.creating(), board.watch: None}

    async def on_duplicate(evt: gr.EventData, fingerprint, version):
        try:
            copy = await board.characters.duplicate_character(evt.id)
        except StudioError as error:
            return {form.progress: message_box(error.message, "error")}
        out = await board.snapshot(None, copy["id"], fingerprint, version)
        return {**out, board.watch: copy["id"], board.changed: (version or 0) + 1, form.progress: render_progress(copy)}

    outputs = unique(form.fields, form.error_boxes, board.mode)
    board.cards.cards.edit(ctx.owner_only(on_edit), None, outputs, api_name=False)
    form.cancel.click(on_cancel, None, outputs, api_name=False, queue=False)
    board.cards.cards.duplicate(ctx.owner_only(on_duplicate), [board.shown, board.changed],
                                unique(board.listing, [board.watch]), api_name=False)


def delete_events(ctx: PageContext, board: Board) -> None:
    """Delete asks first on the card itself; a stale page asks again rather than delete."""
    form, cards = board.form, board.cards.cards

    async def on_ask_delete(evt: gr.EventData, watch_id, fingerprint, version):
        return {**await board.snapshot(evt.id, watch_id, fingerprint, version), board.armed: evt.id}

    async def on_cancel_delete(watch_id, fingerprint, version):
        return {**await board.snapshot(None, watch_id, fingerprint, version), board.armed: None}

    async def on_confirm_delete(evt: gr.EventData, armed_id, editing_id, watch_id, fingerprint, version):
        if evt.id != armed_id:
            return await on_ask_delete(evt, watch_id, fingerprint, version)
        out: dict = {board.armed: None}
        try:
            await board.characters.delete_character(evt.id)
        except StudioError as error:
            out.update(await board.snapshot(None, watch_id, fingerprint, version))
            return {**out, form.progress: message_box(error.message, "error")}
        out.update(await board.snapshot(None, None, fingerprint, version))
        out[board.changed] = (version or 0) + 1
        if editing_id == evt.id:
            out.update({**form.blank(), **board.creating()})
        if evt.id in (watch_id, editing_id):
            out.update({board.watch: None, form.progress: message_box("Character deleted.", "info")})
        return out

    follow = [board.watch, board.shown, board.changed]
    cards.ask_delete(ctx.owner_only(on_ask_delete), follow, [*board.listing, board.armed], api_name=False)
    cards.cancel_delete(on_cancel_delete, follow, [*board.listing, board.armed], api_name=False)
    cards.confirm_delete(ctx.owner_only(on_confirm_delete), [board.armed, board.editing, *follow],
                         unique(board.listing, [board.armed, board.watch], form.fields, form.error_boxes,
                                board.mode),
                         api_name=False)


def page_events(ctx: PageContext, board: Board, page: CharacterPage, list_view: gr.Column,
                page_view: gr.Column) -> None:
    """A card opens its character's page in place of the list; the page's back link returns."""

    async def on_open(evt: gr.EventData, request: gr.Request):
        out = await page.show(evt.id, request)
        return {**out, list_view: gr.Column(visible=False), page_view: gr.Column(visible=True)}

    def on_back():
        return {**page.hide(), list_view: gr.Column(visible=True), page_view: gr.Column(visible=False)}

    views = [list_view, page_view]
    board.cards.cards.open(on_open, None, unique(page.outputs, views), api_name=False, show_progress="minimal")
    page.back.click(on_back, None, unique(page.hide_outputs, views), api_name=False, queue=False)


def call_shortcuts(ctx: PageContext, cards: Cards) -> None:
    """Call on a card (or a preset) opens the Call tab on that character (wired once it exists)."""

    def wire() -> None:
        target = [ctx.call_avatar] if ctx.call_avatar is not None else []

        async def go_call(evt: gr.EventData):
            selected = gr.Tabs(selected="call")
            if not target:
                return selected
            # The picker's choices are set with its value: on a fresh page they do not hold the
            # custom characters yet, and a value outside its choices would be refused.
            choices = await character_choices(ctx.studio)
            if evt.id not in {value for _, value in choices}:
                gr.Warning("That character cannot take calls yet.")
                return [gr.Dropdown(choices=choices), selected]
            return [gr.Dropdown(choices=choices, value=evt.id), selected]

        if ctx.tabs is not None:
            for source in (cards.cards.call, cards.presets.call):
                source(go_call, None, [*target, ctx.tabs], api_name=False, queue=False)

    ctx.after_build.append(wire)
