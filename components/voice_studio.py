"""The voice studio: design a voice from a text prompt (with Runway's preview) or clone one from an
audio sample, see the account's custom voices, and delete them.

It fills a Voice dropdown it is given (the character form's): a new voice is added there at once
(marked ★) and selected. A voice processes for a few seconds on Runway's side; the list follows it
until it is READY or FAILED. Write handlers go through `owner_only` (a public demo refuses them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import gradio as gr

from components.notices import message_box
from components.text import error_note, plain
from studio.catalog.forms import (
    VOICE_DESIGN_MODELS,
    FormInvalid,
    check_voice_name,
    check_voice_prompt,
    custom_choice,
)
from studio.catalog.voices import VoiceService
from studio.errors import StudioError
from studio.vocabulary import PROCESSING

POLL_SECONDS = 2.0

LIST_CSS = """
.cv-list { width: 100%; border-collapse: collapse; font-size: 0.86rem; }
.cv-list th { text-align: left; font-weight: 600; opacity: 0.7; padding: 4px 6px;
  border-bottom: 1px solid var(--border-color-primary); }
.cv-list td { padding: 5px 6px; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.cv-badge { font-size: 0.7rem; font-weight: 700; padding: 1px 7px; border-radius: 999px; }
.cv-badge.READY { background: #dcf5e4; color: #11522b; }
.cv-badge.PROCESSING { background: #fff1c7; color: #6b4d00; }
.cv-badge.FAILED { background: #ffe1dc; color: #8a1c0f; }
"""
NOTHING_SENT = "Nothing was sent: fix the fields marked above."


def render_voices(voices: list[dict[str, Any]]) -> str:
    if not voices:
        return "<p class='cs-muted' data-testid='no-voices'>No custom voices yet.</p>"
    rows = []
    for voice in voices:
        status = voice.get("status", "")
        detail = voice.get("failure_reason") if status == "FAILED" else voice.get("description")
        rows.append(
            f"<tr data-id='{plain(voice['id'])}'><td>★ {plain(voice.get('name') or '')}</td>"
            f"<td><span class='cv-badge {plain(status)}'>{plain(status)}</span></td>"
            f"<td>{plain(detail or '')}</td></tr>")
    return ("<table class='cv-list' data-testid='voice-list'><thead><tr><th>Voice</th><th>Status</th>"
            "<th>Description</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


class VoiceStudio:
    """Builds the panel where it is called. `voices_changed` (a `gr.State` int) grows whenever a
    custom voice is created, finishes processing or is deleted; `opened` is an event source (a
    tab) that refreshes the list."""

    def __init__(self, service: VoiceService, voice_dropdown: gr.Dropdown, *,
                 owner_only: Callable[[Any], Any], opened: gr.Tab | None = None) -> None:
        self.service, self.voice_dropdown, self.owner_only = service, voice_dropdown, owner_only
        self._layout()
        self.voices_changed = gr.State(0)
        self.armed = gr.State(None)   # the voice whose Delete is armed
        self.seen = gr.State(None)    # (id, status, name) of the voices on screen
        self.created = gr.State(None)  # the voice just made, whose "still processing" waits for its end
        self.timer = gr.Timer(POLL_SECONDS, active=False)
        self.outputs = [self.listing, self.timer, self.chosen, self.seen, voice_dropdown, self.voices_changed,
                        self.status, self.created]
        self._wire_listing(opened)
        self._wire_design()
        self._wire_clone()
        self._wire_delete()

    # -- layout --------------------------------------------------------------------------------

    def _layout(self) -> None:
        gr.Markdown("Make a voice of your own. It is added to the Voice list above (marked ★) and selected "
                    "for the character you are making.", elem_classes="cs-muted")
        with gr.Tabs():
            with gr.Tab("Design from a prompt", id="voice-design"):
                self._design_tab()
            with gr.Tab("Clone from a sample", id="voice-clone"):
                self._clone_tab()
        self.status = gr.HTML("", elem_id="cv-status")
        gr.Markdown("**Your custom voices**")
        self.listing = gr.HTML(render_voices([]), elem_id="cv-list", css_template=LIST_CSS,
                               apply_default_css=False)
        self.chosen = gr.Dropdown(label="Voice to delete", choices=[], value=None, elem_id="cv-chosen")
        self.delete = gr.Button("Delete voice", variant="secondary", size="md", elem_id="cv-delete")

    def _design_tab(self) -> None:
        self.design_name = gr.Textbox(label="Voice name", max_lines=1, elem_id="cv-design-name")
        self.err_design_name = gr.Markdown(visible=False, elem_classes="cs-error")
        self.prompt = gr.Textbox(label="Describe the voice", lines=3, elem_id="cv-prompt",
                                 placeholder="A warm, mid-thirties British woman; calm, unhurried, a smile in her voice.",
                                 info="20–1,000 characters: age, accent, pace, tone.")
        self.err_prompt = gr.Markdown(visible=False, elem_classes="cs-error")
        self.model = gr.Radio(list(VOICE_DESIGN_MODELS), value=VOICE_DESIGN_MODELS[0], label="Voice design model")
        self.design_description = gr.Textbox(label="Description (optional)", max_lines=1)
        with gr.Row():
            self.preview = gr.Button("Preview", variant="secondary", elem_id="cv-preview")
            self.design = gr.Button("Create voice", variant="primary", elem_id="cv-design")
        self.preview_audio = gr.Audio(label="Preview from Runway", interactive=False, visible=False,
                                      elem_id="cv-preview-audio")

    def _clone_tab(self) -> None:
        self.clone_name = gr.Textbox(label="Voice name", max_lines=1, elem_id="cv-clone-name")
        self.err_clone_name = gr.Markdown(visible=False, elem_classes="cs-error")
        self.sample = gr.Audio(label="Audio sample: 10 s – 5 min of clear speech, up to 10 MB",
                               sources=["upload", "microphone"], type="filepath", format=None, elem_id="cv-sample")
        self.err_sample = gr.Markdown(visible=False, elem_classes="cs-error")
        self.clone_description = gr.Textbox(label="Description (optional)", max_lines=1)
        self.clone = gr.Button("Clone voice", variant="primary", elem_id="cv-clone")

    # -- the list ------------------------------------------------------------------------------

    async def refresh(self, version: int, last: Any, current_voice: str | None,
                      selected: str | None = None, created: str | None = None) -> dict:
        """The voices list and, when the voices changed, the Voice dropdown's choices. Once the
        voice just `created` is READY (or FAILED) the status says so instead of "still processing"."""
        try:
            voices = await self.service.list_voices()
        except StudioError as error:
            return {self.status: message_box(f"Could not list voices: {error.message}", "error"),
                    self.timer: gr.Timer(active=False)}
        state = tuple((v["id"], v.get("status"), v.get("name")) for v in voices)
        out: dict = {
            self.listing: render_voices(voices),
            self.timer: gr.Timer(active=any(v.get("status") == PROCESSING for v in voices)),
            self.chosen: gr.Dropdown(choices=[(f"★ {v.get('name')}", v["id"]) for v in voices], value=None),
            self.seen: state,
        }
        if state != last or selected:
            choices = self.service.voice_choices(voices)
            keep = selected or (current_voice if current_voice in {c for _, c in choices} else None)
            out[self.voice_dropdown] = gr.Dropdown(choices=choices, value=keep) if keep else gr.Dropdown(choices=choices)
            if last is not None:
                out[self.voices_changed] = (version or 0) + 1
        out.update(self._settled(created, voices))
        return out

    def _settled(self, created: str | None, voices: list[dict[str, Any]]) -> dict:
        """The status once the voice just made has finished processing (or is gone)."""
        match = next((v for v in voices if v["id"] == created), None) if created else None
        if not created or (match is not None and match.get("status") == PROCESSING):
            return {}
        if match is None:
            return {self.created: None, self.status: ""}
        name = match.get("name") or "The voice"
        if match.get("status") == "FAILED":
            reason = match.get("failure_reason") or "Runway did not say why."
            return {self.created: None, self.status: message_box(f"Voice “{name}” FAILED: {reason}", "error")}
        return {self.created: None,
                self.status: message_box(f"Voice “{name}” is READY and selected in the Voice list.", "ready")}

    def _wire_listing(self, opened: gr.Tab | None) -> None:
        follow = [self.voices_changed, self.seen, self.voice_dropdown, self.created]

        async def initial():
            out = await self.refresh(0, None, None)
            out.pop(self.voice_dropdown, None)  # the character form fills its own Voice list on load
            return out

        async def on_open(version, last, current_voice, created):
            return await self.refresh(version, last, current_voice, created=created)

        async def tick(version, last, current_voice, created):
            out = await self.refresh(version, last, current_voice, created=created)
            if last is not None:
                out.pop(self.chosen, None)  # keep what the person picked to delete
            return out

        gr.on(None, initial, None, self.outputs, api_name=False, show_progress="hidden")
        if opened is not None:
            opened.select(on_open, follow, self.outputs, api_name=False, show_progress="hidden")
        self.timer.tick(tick, follow, self.outputs, api_name=False, show_progress="hidden")

    async def _created(self, voice_id: str, name: str, version: int, last: Any, current_voice: str | None) -> dict:
        out = await self.refresh(version, last, current_voice, selected=custom_choice(voice_id), created=voice_id)
        out[self.voices_changed] = (version or 0) + 1
        if self.created not in out:  # still processing: the list's timer says when it is done
            out[self.created] = voice_id
            out[self.status] = message_box(f"Voice “{name.strip()}” created and selected in the Voice list. Runway "
                                           "is still processing it; it can already be used for a character.", "ready")
        return out

    # -- design, clone, delete -----------------------------------------------------------------

    def _wire_design(self) -> None:
        errors = {"name": self.err_design_name, "prompt": self.err_prompt, "model": self.err_prompt,
                  "description": self.err_design_name}

        async def on_preview(prompt_text, model_name):
            problem = check_voice_prompt(prompt_text)
            out = {self.err_prompt: error_note(problem)}
            if problem:
                return {**out, self.status: message_box("Nothing was sent: describe the voice first.", "error")}
            try:
                audio, seconds = await self.service.preview_voice_design(prompt_text, model_name)
            except StudioError as error:
                return {**out, self.status: message_box(error.message, "error")}
            return {**out, self.preview_audio: gr.Audio(value=audio, visible=True),
                    self.status: message_box(f"Preview ready ({seconds:.1f} s). Like it? Give it a name and "
                                             "create the voice.", "ready")}

        async def on_design(name, prompt_text, model_name, description, version, last, current_voice):
            out: dict = {self.err_design_name: error_note(None), self.err_prompt: error_note(None)}
            creating = self.service.design_voice(name or "", prompt_text or "", model_name, description or "")
            return await self._submit(creating, errors, out, name, version, last, current_voice)

        self.preview.click(self.owner_only(on_preview), [self.prompt, self.model],
                           [self.err_prompt, self.preview_audio, self.status],
                           api_name="preview_voice", show_progress="minimal")
        self.design.click(self.owner_only(on_design),
                          [self.design_name, self.prompt, self.model, self.design_description,
                           self.voices_changed, self.seen, self.voice_dropdown],
                          [self.err_design_name, self.err_prompt, *self.outputs], api_name="design_voice",
                          show_progress="minimal")
        self.design_name.blur(lambda v: error_note(check_voice_name(v)), self.design_name, self.err_design_name,
                              api_name=False, queue=False)
        self.prompt.blur(lambda v: error_note(check_voice_prompt(v) if v else None), self.prompt, self.err_prompt,
                         api_name=False, queue=False)

    async def _submit(self, creating: Awaitable[str], errors: dict, out: dict, name: str | None,
                      version: int, last: Any, current_voice: Any) -> dict:
        """Await a voice create: field errors under their fields, anything else in the status box."""
        try:
            voice_id = await creating
        except FormInvalid as invalid:
            for key, message in invalid.errors.items():
                out[errors[key]] = error_note(message)
            return {**out, self.status: message_box(NOTHING_SENT, "error")}
        except StudioError as error:
            return {**out, self.status: message_box(error.message, "error")}
        return {**out, **await self._created(voice_id, name, version, last, current_voice)}

    def _wire_clone(self) -> None:
        errors = {"name": self.err_clone_name, "audio": self.err_sample, "description": self.err_clone_name}

        async def on_clone(name, sample_path, description, version, last, current_voice):
            out: dict = {self.err_clone_name: error_note(None), self.err_sample: error_note(None)}
            data = filename = None
            if sample_path:
                filename = Path(sample_path).name
                try:
                    data = Path(sample_path).read_bytes()
                except OSError:
                    data = b""
            creating = self.service.clone_voice(name or "", data, filename, description or "")
            return await self._submit(creating, errors, out, name, version, last, current_voice)

        self.clone.click(self.owner_only(on_clone),
                         [self.clone_name, self.sample, self.clone_description, self.voices_changed, self.seen,
                          self.voice_dropdown],
                         [self.err_clone_name, self.err_sample, *self.outputs], api_name="clone_voice",
                         show_progress="minimal")
        self.clone_name.blur(lambda v: error_note(check_voice_name(v)), self.clone_name, self.err_clone_name,
                             api_name=False, queue=False)

        def on_sample(status_html):
            """A new sample is a new attempt: its error and the last refusal go."""
            stale = "data-kind='error'" in (status_html or "")
            return error_note(None), ("" if stale else gr.skip())

        self.sample.upload(on_sample, self.status, [self.err_sample, self.status], api_name=False, queue=False)

    def _wire_delete(self) -> None:
        def unarmed() -> Any:
            return gr.Button(value="Delete voice", variant="secondary")

        async def on_delete(voice_id, armed_id, version, last, current_voice):
            if not voice_id:
                return {self.status: message_box("Choose the voice to delete first.", "error"), self.armed: None,
                        self.delete: unarmed()}
            if armed_id != voice_id:
                return {self.armed: voice_id, self.status: "",
                        self.delete: gr.Button(value="Really delete this voice?", variant="stop")}
            try:
                await self.service.delete_voice(voice_id)
            except StudioError as error:
                return {self.status: message_box(error.message, "error"), self.armed: None, self.delete: unarmed()}
            out = await self.refresh(version, last, current_voice)
            out.update({self.armed: None, self.delete: unarmed(), self.voices_changed: (version or 0) + 1,
                        self.status: message_box("Voice deleted. Characters that used it keep working until "
                                                 "edited, but show it as a deleted voice.", "info")})
            return out

        self.delete.click(self.owner_only(on_delete),
                          [self.chosen, self.armed, self.voices_changed, self.seen, self.voice_dropdown],
                          [self.armed, self.delete, *self.outputs], api_name=False, show_progress="minimal")
        self.chosen.change(lambda: (None, unarmed()), None, [self.armed, self.delete], api_name=False, queue=False)
