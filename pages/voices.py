"""Custom voices, inside the Characters tab: design a voice from a text prompt (with Runway's preview)
or clone one from an audio sample, see the account's voices, and delete them.

A new voice is selected in the character form's Voice list at once (marked ★); it processes for a
few seconds on Runway's side, and this panel follows it until it is READY or FAILED. In a public
demo the panel is hidden with the character form, and its handlers refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from pages.context import PageContext
from pages.text import error_note, plain
from studio.characters import (
    VOICE_DESIGN_MODELS,
    CharacterService,
    FormInvalid,
    check_voice_name,
    check_voice_prompt,
    custom_choice,
)
from studio.errors import StudioError

VOICE_STYLE = """
<style>
.cv-list { width: 100%; border-collapse: collapse; font-size: 0.86rem; }
.cv-list th { text-align: left; font-weight: 600; opacity: 0.7; padding: 4px 6px;
  border-bottom: 1px solid var(--border-color-primary); }
.cv-list td { padding: 5px 6px; border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.cv-badge { font-size: 0.7rem; font-weight: 700; padding: 1px 7px; border-radius: 999px; }
.cv-badge.READY { background: #dcf5e4; color: #11522b; }
.cv-badge.PROCESSING { background: #fff1c7; color: #6b4d00; }
.cv-badge.FAILED { background: #ffe1dc; color: #8a1c0f; }
</style>
"""


@dataclass
class VoicesPanel:
    voices_changed: gr.State  # grows whenever a custom voice is created, finishes processing or is deleted


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


def _box(text: str, kind: str) -> str:
    return f"<div class='cs-progress {kind}' data-kind='{kind}'>{plain(text)}</div>"


def build(ctx: PageContext, service: CharacterService, voice_dropdown: gr.Dropdown) -> VoicesPanel:
    gr.HTML(VOICE_STYLE, padding=False)
    gr.Markdown("Make a voice of your own. It is added to the Voice list above (marked ★) and selected "
                "for the character you are making.", elem_classes="cs-muted")
    with gr.Tabs():
        with gr.Tab("Design from a prompt", id="voice-design"):
            design_name = gr.Textbox(label="Voice name", max_lines=1, elem_id="cv-design-name")
            err_design_name = gr.Markdown(visible=False, elem_classes="cs-error")
            prompt = gr.Textbox(label="Describe the voice", lines=3, elem_id="cv-prompt",
                                placeholder="A warm, mid-thirties British woman; calm, unhurried, a smile in her voice.",
                                info="20–1,000 characters: age, accent, pace, tone.")
            err_prompt = gr.Markdown(visible=False, elem_classes="cs-error")
            model = gr.Radio(list(VOICE_DESIGN_MODELS), value=VOICE_DESIGN_MODELS[0], label="Voice design model")
            design_description = gr.Textbox(label="Description (optional)", max_lines=1)
            with gr.Row():
                preview = gr.Button("Preview", variant="secondary", elem_id="cv-preview")
                design = gr.Button("Create voice", variant="primary", elem_id="cv-design")
            preview_audio = gr.Audio(label="Preview from Runway", interactive=False, visible=False,
                                     elem_id="cv-preview-audio")
        with gr.Tab("Clone from a sample", id="voice-clone"):
            clone_name = gr.Textbox(label="Voice name", max_lines=1, elem_id="cv-clone-name")
            err_clone_name = gr.Markdown(visible=False, elem_classes="cs-error")
            sample = gr.Audio(label="Audio sample: 10 s – 5 min of clear speech, up to 10 MB",
                              sources=["upload", "microphone"], type="filepath", format=None, elem_id="cv-sample")
            err_sample = gr.Markdown(visible=False, elem_classes="cs-error")
            clone_description = gr.Textbox(label="Description (optional)", max_lines=1)
            clone = gr.Button("Clone voice", variant="primary", elem_id="cv-clone")
    status = gr.HTML("", elem_id="cv-status")
    gr.Markdown("**Your custom voices**")
    listing = gr.HTML(render_voices([]), elem_id="cv-list", apply_default_css=False)
    chosen = gr.Dropdown(label="Voice to delete", choices=[], value=None, elem_id="cv-chosen")
    delete = gr.Button("Delete voice", variant="secondary", size="md", elem_id="cv-delete")

    voices_changed = gr.State(0)
    armed = gr.State(None)
    seen = gr.State(None)
    timer = gr.Timer(2.0, active=False)
    design_errors = {"name": err_design_name, "prompt": err_prompt, "model": err_prompt, "description": err_design_name}
    clone_errors = {"name": err_clone_name, "audio": err_sample, "description": err_clone_name}

    async def refresh(version, last, current_voice, selected: str | None = None) -> dict:
        try:
            voices = await service.list_voices()
        except StudioError as error:
            return {status: _box(f"Could not list voices: {error.message}", "error"), timer: gr.Timer(active=False)}
        state = tuple((v["id"], v.get("status"), v.get("name")) for v in voices)
        out: dict = {listing: render_voices(voices), timer: gr.Timer(active=any(v.get("status") == "PROCESSING" for v in voices)),
                     chosen: gr.Dropdown(choices=[(f"★ {v.get('name')}", v["id"]) for v in voices], value=None),
                     seen: state}
        if state != last or selected:
            choices = service.voice_choices(voices)
            keep = selected or (current_voice if current_voice in {c for _, c in choices} else None)
            out[voice_dropdown] = gr.Dropdown(choices=choices, value=keep) if keep else gr.Dropdown(choices=choices)
            if last is not None:
                out[voices_changed] = (version or 0) + 1
        return out

    outputs = [listing, timer, chosen, seen, voice_dropdown, voices_changed, status]

    async def on_load(version, last, current_voice):
        return await refresh(version, last, current_voice)

    async def tick(version, last, current_voice):
        if last is None:
            return await refresh(version, last, current_voice)
        out = await refresh(version, last, current_voice)
        out.pop(chosen, None)  # keep what the person picked to delete
        return out

    async def initial():
        out = await refresh(0, None, None)
        out.pop(voice_dropdown, None)  # the character form fills its own Voice list on load
        return out

    gr.on(None, initial, None, outputs, api_name=False, show_progress="hidden")
    ctx.tab_objects["characters"].select(on_load, [voices_changed, seen, voice_dropdown], outputs, api_name=False,
                                         show_progress="hidden")
    timer.tick(tick, [voices_changed, seen, voice_dropdown], outputs, api_name=False, show_progress="hidden")

    async def on_preview(prompt_text, model_name):
        out = {err_prompt: error_note(check_voice_prompt(prompt_text))}
        if check_voice_prompt(prompt_text):
            return {**out, status: _box("Nothing was sent: describe the voice first.", "error")}
        try:
            audio, seconds = await service.preview_voice_design(prompt_text, model_name)
        except StudioError as error:
            return {**out, status: _box(error.message, "error")}
        return {**out, preview_audio: gr.Audio(value=audio, visible=True),
                status: _box(f"Preview ready ({seconds:.1f} s). Like it? Give it a name and create the voice.", "ready")}

    preview.click(ctx.owner_only(on_preview), [prompt, model], [err_prompt, preview_audio, status],
                  api_name="preview_voice", show_progress="minimal")

    async def created(voice_id: str, name: str, version, last, current_voice) -> dict:
        out = await refresh(version, last, current_voice, selected=custom_choice(voice_id))
        out[voices_changed] = (version or 0) + 1
        out[status] = _box(f"Voice “{name.strip()}” created and selected in the Voice list. Runway is still "
                           "processing it; it can already be used for a character.", "ready")
        return out

    async def on_design(name, prompt_text, model_name, description, version, last, current_voice):
        out: dict = {err_design_name: error_note(None), err_prompt: error_note(None)}
        try:
            voice_id = await service.design_voice(name or "", prompt_text or "", model_name, description or "")
        except FormInvalid as invalid:
            for key, message in invalid.errors.items():
                out[design_errors[key]] = error_note(message)
            return {**out, status: _box("Nothing was sent: fix the fields marked above.", "error")}
        except StudioError as error:
            return {**out, status: _box(error.message, "error")}
        return {**out, **await created(voice_id, name, version, last, current_voice)}

    design.click(ctx.owner_only(on_design),
                 [design_name, prompt, model, design_description, voices_changed, seen, voice_dropdown],
                 [err_design_name, err_prompt, *outputs], api_name="design_voice", show_progress="minimal")

    async def on_clone(name, sample_path, description, version, last, current_voice):
        out: dict = {err_clone_name: error_note(None), err_sample: error_note(None)}
        data = filename = None
        if sample_path:
            try:
                data, filename = Path(sample_path).read_bytes(), Path(sample_path).name
            except OSError:
                data, filename = b"", Path(sample_path).name
        try:
            voice_id = await service.clone_voice(name or "", data, filename, description or "")
        except FormInvalid as invalid:
            for key, message in invalid.errors.items():
                out[clone_errors[key]] = error_note(message)
            return {**out, status: _box("Nothing was sent: fix the fields marked above.", "error")}
        except StudioError as error:
            return {**out, status: _box(error.message, "error")}
        return {**out, **await created(voice_id, name, version, last, current_voice)}

    clone.click(ctx.owner_only(on_clone), [clone_name, sample, clone_description, voices_changed, seen, voice_dropdown],
                [err_clone_name, err_sample, *outputs], api_name="clone_voice", show_progress="minimal")

    design_name.blur(lambda v: error_note(check_voice_name(v)), design_name, err_design_name, api_name=False, queue=False)
    clone_name.blur(lambda v: error_note(check_voice_name(v)), clone_name, err_clone_name, api_name=False, queue=False)
    prompt.blur(lambda v: error_note(check_voice_prompt(v) if v else None), prompt, err_prompt, api_name=False,
                queue=False)

    async def on_delete(voice_id, armed_id, version, last, current_voice):
        if not voice_id:
            return {status: _box("Choose the voice to delete first.", "error"), armed: None,
                    delete: gr.Button(value="Delete voice", variant="secondary")}
        if armed_id != voice_id:
            return {armed: voice_id, status: "",
                    delete: gr.Button(value="Really delete this voice?", variant="stop")}
        try:
            await service.delete_voice(voice_id)
        except StudioError as error:
            return {status: _box(error.message, "error"), armed: None,
                    delete: gr.Button(value="Delete voice", variant="secondary")}
        out = await refresh(version, last, current_voice)
        out.update({armed: None, delete: gr.Button(value="Delete voice", variant="secondary"),
                    voices_changed: (version or 0) + 1,
                    status: _box("Voice deleted. Characters that used it keep working until edited, "
                                 "but show it as a deleted voice.", "info")})
        return out

    def disarm():
        return None, gr.Button(value="Delete voice", variant="secondary")

    delete.click(ctx.owner_only(on_delete), [chosen, armed, voices_changed, seen, voice_dropdown],
                 [armed, delete, *outputs], api_name=False, show_progress="minimal")
    chosen.change(disarm, None, [armed, delete], api_name=False, queue=False)

    return VoicesPanel(voices_changed=voices_changed)
