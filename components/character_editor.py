"""The character form: create or edit a character.

Reference image (upload, paste or camera, with a Pillow pre-flight report and a centre-crop
preview; or an https URL), name, voice (with a sample of a custom voice), personality (from a
template if wanted), start script, knowledge documents and image processing, each with its error
box, then the Create / Save button and the progress box. `read` turns the submitted values of
`inputs` into a `studio.catalog.forms.CharacterForm`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from components.notices import PANEL, render_report, shown
from components.text import error_note
from studio.catalog import images
from studio.catalog.characters import PERSONALITY_TEMPLATES
from studio.catalog.forms import (
    CharacterForm,
    check_document_ids,
    check_image_url,
    check_name,
    check_personality,
    check_start_script,
    preset_choice,
)
from studio.catalog.voices import VoiceService
from studio.errors import StudioError

SOURCE_UPLOAD = "Upload, paste or camera"
SOURCE_URL = "https URL"
DEFAULT_VOICE = preset_choice("clara")


def _error_box(elem_id: str) -> gr.Markdown:
    return gr.Markdown(visible=False, elem_classes="cs-error", elem_id=elem_id)


class CharacterEditor:
    """Builds the form where it is called and wires its own events (pre-flight, field checks,
    template, voice sample); the page wires what reaches further (save, edit, delete)."""

    def __init__(self, voices: VoiceService, *, owner_only: Callable[[Any], Any]) -> None:
        self.voices, self.owner_only = voices, owner_only
        with gr.Column(elem_id="cs-form-panel", elem_classes=PANEL):
            self.title = gr.Markdown("### Create a character", elem_id="cs-form-title")
            self._image_fields()
            self._text_fields()
            with gr.Row():
                self.submit = gr.Button("Create character", variant="primary", elem_id="cs-submit")
                self.cancel = gr.Button("Cancel editing", variant="secondary", visible=False, elem_id="cs-cancel")
            self.progress = gr.HTML("", elem_id="cs-progress")
        self.picked = gr.State(None)  # {"path", "name"} of the pre-flighted uploaded image
        self.errors = {  # each form field's error box
            "image": self.err_image, "image_url": self.err_image, "name": self.err_name, "voice": self.err_voice,
            "personality": self.err_personality, "start_script": self.err_script,
            "documents": self.err_documents, "image_processing": self.err_image,
        }
        self.error_boxes = [self.err_image, self.err_name, self.err_voice, self.err_personality, self.err_script,
                            self.err_documents]
        self.inputs = [self.source, self.picked, self.url, self.crop, self.name, self.voice, self.personality,
                       self.start_script, self.documents, self.processing]
        self.fields = [self.name, self.personality, self.start_script, self.voice, self.documents, self.processing,
                       self.template, self.image, self.url, self.source, self.report, self.crop_row, self.picked]
        self._image_events()
        self._field_events()

    def _image_fields(self) -> None:
        self.source = gr.Radio([SOURCE_UPLOAD, SOURCE_URL], value=SOURCE_UPLOAD, label="Reference image from",
                               elem_id="cs-image-source")
        self.image = gr.Image(label="Reference image (JPEG, PNG or WebP; one clear, centred face)",
                              sources=["upload", "clipboard", "webcam"], type="filepath", height=220,
                              elem_id="cs-image")
        self.url = gr.Textbox(label="Image URL", placeholder="https://images.example.com/portrait.jpg",
                              visible=False, elem_id="cs-image-url")
        self.err_image = _error_box("cs-err-image")
        self.report = gr.HTML("", elem_id="cs-image-report", visible=False)
        with gr.Row(visible=False) as self.crop_row:
            self.crop_preview = gr.Image(label="Centre crop: what the 1088×704 stream shows", interactive=False,
                                         height=150, elem_id="cs-crop-preview", buttons=[])
            self.crop = gr.Checkbox(value=True, label="Use this crop", elem_id="cs-crop", scale=0, min_width=150,
                                    info="Recommended: the stream is 1088×704 (landscape).")

    def _text_fields(self) -> None:
        self.name = gr.Textbox(label="Name", placeholder="e.g. Ava, product guide", max_lines=1, elem_id="cs-name")
        self.err_name = _error_box("cs-err-name")
        self.voice = gr.Dropdown(label="Voice", choices=self.voices.voice_choices(), value=DEFAULT_VOICE,
                                 filterable=True, elem_id="cs-voice",
                                 info="30 live presets, plus your custom voices (★).")
        self.voice_sample = gr.Audio(label="Voice sample", interactive=False, visible=False,
                                     elem_id="cs-voice-sample")
        self.err_voice = _error_box("cs-err-voice")
        self.template = gr.Dropdown(label="Start from a template (optional)", choices=list(PERSONALITY_TEMPLATES),
                                    value=None, elem_id="cs-template")
        self.personality = gr.Textbox(label="Personality", lines=5, max_lines=14, elem_id="cs-personality",
                                      placeholder="Who the character is, how it talks, what it knows and won't do.",
                                      info="1–10,000 characters: the character's system prompt.")
        self.err_personality = _error_box("cs-err-personality")
        self.start_script = gr.Textbox(label="Start script (optional)", lines=2, max_lines=6,
                                       elem_id="cs-start-script", info="What it says first; up to 2,000 characters.")
        self.err_script = _error_box("cs-err-script")
        self.documents = gr.Dropdown(label="Knowledge documents (optional)", choices=[], value=[], multiselect=True,
                                     elem_id="cs-documents", info="Up to 50. Add documents in the Knowledge tab.")
        self.err_documents = _error_box("cs-err-documents")
        self.processing = gr.Radio(["optimize", "none"], value="optimize", label="Image processing",
                                   info="optimize improves the picture for the avatar; none uses it as is.",
                                   elem_id="cs-processing")

    def preflight(self, picked_image: dict | None) -> dict:
        """Pre-flight a picked file with Pillow before anything is sent; show the report and crop."""
        if not picked_image:
            return {self.report: shown(""), self.crop_row: gr.Row(visible=False), self.err_image: error_note(None)}
        try:
            data = Path(picked_image["path"]).read_bytes()
        except OSError:
            return {self.report: shown(""), self.crop_row: gr.Row(visible=False),
                    self.err_image: error_note("Reference image: the upload could not be read; choose it again.")}
        checked = images.preflight(data, picked_image.get("name"))
        if not checked.ok:
            return {self.report: shown(render_report(checked, cropped=False)), self.crop_row: gr.Row(visible=False),
                    self.err_image: error_note(None)}
        at_stream_shape = abs((checked.aspect or 0) - images.STREAM_ASPECT) < 0.01
        return {
            self.report: shown(render_report(checked, cropped=not at_stream_shape)),
            self.crop_row: gr.Row(visible=not at_stream_shape),
            self.crop_preview: Image.open(io.BytesIO(images.crop_preview(data))),
            self.err_image: error_note(None),
        }

    def _image_events(self) -> None:
        def on_image(payload):
            """The raw upload (preprocess=False: a renamed text file must reach our pre-flight, not Pillow's error)."""
            if not payload or not payload.get("path"):
                return {self.picked: None, **self.preflight(None)}
            chosen = {"path": payload["path"], "name": payload.get("orig_name") or Path(payload["path"]).name}
            return {self.picked: chosen, self.crop: gr.Checkbox(value=True), **self.preflight(chosen)}

        def choose_source(choice, picked_image):
            by_url = choice == SOURCE_URL
            out = {self.image: gr.Image(visible=not by_url), self.url: gr.Textbox(visible=by_url),
                   self.err_image: error_note(None)}
            if by_url:
                return {**out, self.report: shown(""), self.crop_row: gr.Row(visible=False)}
            return {**out, **self.preflight(picked_image)}

        self.image.change(self.owner_only(on_image), self.image,
                          [self.picked, self.report, self.crop_row, self.crop_preview, self.crop, self.err_image],
                          preprocess=False, api_name=False, show_progress="minimal")
        self.source.change(choose_source, [self.source, self.picked],
                           [self.image, self.url, self.crop_row, self.crop_preview, self.err_image, self.report],
                           api_name=False, show_progress="hidden")

    def _field_events(self) -> None:
        voices = self.voices

        def use_template(choice, current_script):
            chosen = PERSONALITY_TEMPLATES.get(choice or "")
            if not chosen:
                return gr.skip(), gr.skip(), gr.skip()
            return chosen["personality"], current_script or chosen["start_script"], error_note(None)

        async def play_voice(choice):
            sample = None
            if choice and str(choice).startswith("custom:"):
                try:
                    sample = await voices.voice_preview_audio(choice.split(":", 1)[1])
                except StudioError:
                    sample = None
            return gr.Audio(value=sample, visible=bool(sample))

        self.template.change(use_template, [self.template, self.start_script],
                             [self.personality, self.start_script, self.err_personality], api_name=False, queue=False)
        self.voice.change(play_voice, self.voice, self.voice_sample, api_name=False, show_progress="hidden")
        # Each limit is checked beside its field as soon as the field is left.
        for field, check, box in ((self.name, check_name, self.err_name),
                                  (self.personality, check_personality, self.err_personality),
                                  (self.start_script, check_start_script, self.err_script)):
            field.blur(lambda v, check=check: error_note(check(v)), field, box, api_name=False, queue=False)
        self.url.blur(lambda v: error_note(check_image_url(v) if v else None), self.url, self.err_image,
                      api_name=False, queue=False)
        self.documents.change(lambda v: error_note(check_document_ids(v)), self.documents, self.err_documents,
                              api_name=False, queue=False)

    @staticmethod
    def read(source_choice, picked_image, url_text, crop_choice, name_text, voice_choice, personality_text,
             script_text, document_ids, processing_choice) -> CharacterForm:
        """The `CharacterForm` behind the values of `inputs`."""
        form = CharacterForm(name=name_text or "", personality=personality_text or "", voice=voice_choice or "",
                             start_script=script_text or "", document_ids=list(document_ids or []),
                             image_processing=processing_choice or "optimize", crop=bool(crop_choice))
        if source_choice == SOURCE_URL:
            form.image_url = url_text or ""
        elif picked_image:
            form.image_filename = picked_image.get("name")
            try:
                form.image_data = Path(picked_image["path"]).read_bytes()
            except OSError:
                form.image_data = b""
        return form

    def blank(self) -> dict:
        """Every field back to its start."""
        return {
            self.name: "", self.personality: "", self.start_script: "", self.voice: DEFAULT_VOICE,
            self.documents: [], self.processing: "optimize", self.template: None, self.image: None, self.url: "",
            self.source: SOURCE_UPLOAD, self.report: shown(""), self.crop_row: gr.Row(visible=False),
            self.picked: None, self.progress: "", **{box: error_note(None) for box in self.error_boxes},
        }
