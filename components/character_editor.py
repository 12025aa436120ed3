"""The character form: create or edit a character.

Reference image (upload, paste or camera, with a Pillow pre-flight report and a centre-crop
preview; or an https URL), name, voice (with a sample of a custom voice), personality (from a
template if wanted), start script, knowledge documents and image processing, each with its error
box, then the Create / Save button and the progress box. `read` turns the submitted values of
`inputs` into a `studio.catalog.forms.CharacterForm`.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from components.character_sheet import voice_player
from components.notices import PANEL, render_report, shown
from components.text import error_note, plain
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
from studio.catalog.presets import PRESET_SAMPLE_MISSING, PresetMedia
from studio.catalog.voices import VoiceService
from studio.errors import StudioError

# Catches a picked file over the upload limit before Gradio does (its refusal is a generic toast)
# and reports its size and the limit (`window.gradio_config.max_file_size`, bytes) to Python.
UPLOAD_GUARD_JS = """
const limit = () => (window.gradio_config || {}).max_file_size || null;
const check = (event, files) => {
  const max = limit();
  const big = max && Array.from(files || []).find((file) => file.size > max);
  if (!big) return;
  event.stopImmediatePropagation();
  event.preventDefault();
  if (event.target && event.target.value !== undefined) event.target.value = '';
  trigger('too_large', {name: big.name, size: big.size, limit: max});
};
const inside = (event) => event.target && event.target.closest && event.target.closest('#cs-image');
document.addEventListener('change', (event) => {
  if (inside(event) && event.target.type === 'file') check(event, event.target.files);
}, true);
document.addEventListener('drop', (event) => {
  if (inside(event) && event.dataTransfer) check(event, event.dataTransfer.files);
}, true);
"""

SOURCE_UPLOAD = "Upload, paste or camera"
# The crop moves along the side with spare pixels: up and down for a tall picture, else sideways.
FOCUS_LABELS = {True: "Crop position: 0 top · 100 bottom", False: "Crop position: 0 left · 100 right"}
SOURCE_URL = "https URL"
DEFAULT_VOICE = preset_choice("clara")


def too_large_message(name: str | None, size: Any, limit: Any) -> str:
    """What a file over the upload limit gets: its size and the limit on images, in megabytes
    (the smaller of the upload limit and the largest image the studio accepts)."""
    limit_bytes = min(float(limit or images.MAX_INPUT_BYTES), images.MAX_INPUT_BYTES)
    return (f"Reference image: “{name or 'the file'}” is {float(size or 0) / 1_000_000:.1f} MB; the limit is "
            f"{limit_bytes / 1_000_000:.0f} MB. Nothing was uploaded: save a smaller copy (a JPEG of a "
            "few MB is plenty) and choose it again.")


def focus_point(value: Any) -> tuple[float, float]:
    """The crop focus (x, y) in 0..1 from the slider's 0..100 (one value: only one side has spare pixels)."""
    try:
        share = min(100.0, max(0.0, float(value))) / 100
    except (TypeError, ValueError):
        share = 0.5
    return share, share


def current_image_html(avatar: dict[str, Any]) -> str:
    """The character's image as it is now (served by the studio), shown while editing it."""
    version = html.escape(str(avatar.get("updated_at") or ""), quote=True)
    source = f"/api/avatars/{html.escape(str(avatar.get('id')), quote=True)}/image?v={version}"
    return (f"<figure class='cs-current' data-testid='current-image'><img src='{source}' alt='Current image' "
            "style='max-width:100%;max-height:180px;border-radius:8px;display:block'>"
            "<figcaption class='cs-muted'>Current image. Leave the picker empty to keep it, or choose a new one."
            "</figcaption></figure>")


def _error_box(elem_id: str) -> gr.Markdown:
    return gr.Markdown(visible=False, elem_classes="cs-error", elem_id=elem_id)


class CharacterEditor:
    """Builds the form where it is called and wires its own events (pre-flight, field checks,
    template, voice sample); the page wires what reaches further (save, edit, delete)."""

    def __init__(self, voices: VoiceService, *, owner_only: Callable[[Any], Any],
                 presets: PresetMedia | None = None) -> None:
        self.voices, self.owner_only = voices, owner_only
        self.presets = presets or PresetMedia(None, None)  # samples of the preset voices, where offered
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
                       self.start_script, self.documents, self.processing, self.focus]  # focus last: API callers may omit it
        self.fields = [self.name, self.personality, self.start_script, self.voice, self.documents, self.processing,
                       self.template, self.image, self.url, self.source, self.report, self.crop_row, self.picked,
                       self.focus, self.current_image]
        self._image_events()
        self._field_events()

    def _image_fields(self) -> None:
        self.current_image = gr.HTML("", visible=False, elem_id="cs-current-image")
        self.source = gr.Radio([SOURCE_UPLOAD, SOURCE_URL], value=SOURCE_UPLOAD, label="Reference image from",
                               elem_id="cs-image-source")
        self.image = gr.Image(label="Reference image (JPEG, PNG or WebP; one clear, centred face)",
                              sources=["upload", "clipboard", "webcam"], type="filepath", height=220,
                              elem_id="cs-image")
        self.url = gr.Textbox(label="Image URL", placeholder="https://images.example.com/portrait.jpg",
                              visible=False, elem_id="cs-image-url")
        self.upload_guard = gr.HTML("", js_on_load=UPLOAD_GUARD_JS, apply_default_css=False, padding=False,
                                    elem_id="cs-upload-guard")
        self.err_image = _error_box("cs-err-image")
        self.report = gr.HTML("", elem_id="cs-image-report", visible=False)
        with gr.Row(visible=False) as self.crop_row:
            self.crop_preview = gr.Image(label="Crop: what the 1088×704 stream shows", interactive=False,
                                         height=150, elem_id="cs-crop-preview", buttons=[])
            with gr.Column(scale=0, min_width=170):
                self.crop = gr.Checkbox(value=True, label="Use this crop", elem_id="cs-crop",
                                        info="Recommended: the stream is 1088×704 (landscape).")
                self.focus = gr.Slider(0, 100, value=50, step=5, label=FOCUS_LABELS[True], elem_id="cs-focus")

    def _text_fields(self) -> None:
        self.name = gr.Textbox(label="Name", placeholder="e.g. Ava, product guide", max_lines=1, elem_id="cs-name")
        self.err_name = _error_box("cs-err-name")
        self.voice = gr.Dropdown(label="Voice", choices=self.voices.voice_choices(), value=DEFAULT_VOICE,
                                 filterable=True, elem_id="cs-voice",
                                 info="30 live presets, plus your custom voices (★).")
        self.voice_sample = gr.HTML("", visible=False, elem_id="cs-voice-sample")  # a player, or why none
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

    def preflight(self, picked_image: dict | None, focus: float = 50) -> dict:
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
        taller = (checked.aspect or 0) < images.STREAM_ASPECT
        return {
            self.report: shown(render_report(checked, cropped=not at_stream_shape)),
            self.crop_row: gr.Row(visible=not at_stream_shape),
            self.crop_preview: Image.open(io.BytesIO(images.crop_preview(data, focus=focus_point(focus)))),
            self.focus: gr.Slider(label=FOCUS_LABELS[taller]),
            self.err_image: error_note(None),
        }

    def _image_events(self) -> None:
        def on_image(payload, progress_html):
            """The raw upload (preprocess=False: a renamed text file must reach our pre-flight, not Pillow's error).
            A new picture starts a new attempt: the last attempt's field errors and refusal go."""
            if not payload or not payload.get("path"):
                return {self.picked: None, **self.preflight(None)}
            fresh = {box: error_note(None) for box in self.error_boxes}
            if "data-kind='error'" in (progress_html or ""):
                fresh[self.progress] = ""
            chosen = {"path": payload["path"], "name": payload.get("orig_name") or Path(payload["path"]).name}
            return {**fresh, self.picked: chosen, self.crop: gr.Checkbox(value=True), self.focus: 50,
                    **self.preflight(chosen)}

        def on_focus(picked_image, focus):
            if not picked_image:
                return gr.skip()
            try:
                data = Path(picked_image["path"]).read_bytes()
                return Image.open(io.BytesIO(images.crop_preview(data, focus=focus_point(focus))))
            except (OSError, images.ImageRejected):
                return gr.skip()

        def on_too_large(evt: gr.EventData):
            return error_note(too_large_message(getattr(evt, "name", None), getattr(evt, "size", 0),
                                                getattr(evt, "limit", None)))

        def choose_source(choice, picked_image, focus):
            by_url = choice == SOURCE_URL
            out = {self.image: gr.Image(visible=not by_url), self.url: gr.Textbox(visible=by_url),
                   self.err_image: error_note(None)}
            if by_url:
                return {**out, self.report: shown(""), self.crop_row: gr.Row(visible=False)}
            return {**out, **self.preflight(picked_image, focus)}

        self.image.change(self.owner_only(on_image), [self.image, self.progress],
                          [self.picked, self.report, self.crop_row, self.crop_preview, self.crop, self.focus,
                           *self.error_boxes, self.progress],
                          preprocess=False, api_name=False, show_progress="minimal")
        self.focus.release(on_focus, [self.picked, self.focus], self.crop_preview, api_name=False,
                           show_progress="hidden")
        self.upload_guard.too_large(on_too_large, None, self.err_image, api_name=False, queue=False)
        self.source.change(choose_source, [self.source, self.picked, self.focus],
                           [self.image, self.url, self.crop_row, self.crop_preview, self.focus, self.err_image,
                            self.report],
                           api_name=False, show_progress="hidden")

    def _field_events(self) -> None:
        voices = self.voices

        def use_template(choice, current_script):
            chosen = PERSONALITY_TEMPLATES.get(choice or "")
            if not chosen:
                return gr.skip(), gr.skip(), gr.skip()
            return chosen["personality"], current_script or chosen["start_script"], error_note(None)

        async def play_voice(choice):
            """A player for the chosen voice: a preset's sample (offline) or a custom voice's preview."""
            kind, _, voice_id = str(choice or "").partition(":")
            if kind == "custom":
                try:
                    sample = await voices.voice_preview_audio(voice_id)
                except StudioError:
                    sample = None
                return shown(voice_player(voice_id, autoplay=False) if sample else "")
            if not voice_id:
                return shown("")
            if self.presets.available:
                return shown(voice_player(voice_id, autoplay=False))
            return shown(f"<div class='cs-muted' data-testid='no-sample'>{plain(PRESET_SAMPLE_MISSING)}</div>")

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
             script_text, document_ids, processing_choice, focus=50) -> CharacterForm:
        """The `CharacterForm` behind the values of `inputs`."""
        form = CharacterForm(name=name_text or "", personality=personality_text or "", voice=voice_choice or "",
                             start_script=script_text or "", document_ids=list(document_ids or []),
                             image_processing=processing_choice or "optimize", crop=bool(crop_choice),
                             crop_focus=focus_point(focus))
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
            self.picked: None, self.progress: "", self.focus: 50, self.current_image: shown(""), **{box: error_note(None) for box in self.error_boxes},
        }
