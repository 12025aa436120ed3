"""Characters tab: every custom character and the 9 presets, and the form that makes and edits them.

Left: the character cards (thumbnail, name, voice, live status, what to try next after a failure)
with Call / Edit / Duplicate / Delete, then the presets with Call. Right: the create / edit form
(reference image with pre-flight and centre-crop preview, voice, personality, start script,
knowledge, image processing) and the custom-voice studio. In a public demo only the cards and
their Call stay: the form is hidden and every write handler refuses (`PageContext.owner_only`).

Shared with other tabs (`ctx.shared`):
- "character_service": the `CharacterService` all pages use.
- "characters_changed": a `gr.State` (int) that grows whenever characters change (created, edited,
  duplicated, deleted, or finished processing); listen with `.change`.
Listens to `ctx.shared["documents_changed"]` (Knowledge tab) and fills `ctx.shared["call_avatar"]`
(Call tab) from the "Call" shortcut.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from pages import voices as voice_studio
from pages.context import PageContext
from pages.text import error_note, md_escape, plain
from studio import images
from studio.characters import (
    PERSONALITY_TEMPLATES,
    CharacterForm,
    CharacterService,
    FormInvalid,
    avatar_fingerprint,
    avatar_image_url,
    avatar_media_key,
    check_document_ids,
    check_image_url,
    check_name,
    check_personality,
    check_start_script,
    failure_advice,
    is_processing,
    preset_choice,
    voice_choice_of,
    voice_label,
)
from studio.errors import StudioError
from studio.runway import PRESET_AVATARS

log = logging.getLogger(__name__)

SOURCE_UPLOAD = "Upload, paste or camera"
SOURCE_URL = "https URL"
DEFAULT_VOICE = preset_choice("clara")
POLL_SECONDS = 2.0

STYLE = """
<style>
.cs-error p, .cs-error { color: #b42318 !important; font-size: 0.86rem !important; margin: -4px 0 2px 2px; }
.dark .cs-error p, .dark .cs-error { color: #ff9b8f !important; }
.cs-section-title h3 { margin: 0 !important; }
.cs-muted, .cs-muted p { opacity: 0.75; font-size: 0.88rem; }
.cs-report { border-radius: 8px; padding: 8px 10px; font-size: 0.88rem; line-height: 1.45;
  border: 1px solid var(--border-color-primary); }
.cs-report.ok { border-color: #9fd9b4; background: #f0faf3; color: #14532d; }
.cs-report.bad { border-color: #f3b4ab; background: #fff4f2; color: #7a1d12; }
.dark .cs-report.ok { background: #132a1c; color: #b9ecc9; border-color: #2d6b44; }
.dark .cs-report.bad { background: #3a1714; color: #ffcdc6; border-color: #7a2c23; }
.cs-report ul { margin: 4px 0 0 18px; padding: 0; }
.cs-report .warn { color: #8a5a00; }
.dark .cs-report .warn { color: #f6d58a; }
.cs-progress { border-radius: 10px; padding: 10px 12px; font-size: 0.92rem; line-height: 1.45;
  border: 1px solid var(--border-color-primary); }
.cs-progress.processing { background: #fff8e6; border-color: #f0d68a; color: #5b4400; }
.cs-progress.ready { background: #eefaf2; border-color: #9fd9b4; color: #11522b; }
.cs-progress.failed, .cs-progress.error { background: #fff3f1; border-color: #f3b4ab; color: #7a1d12; }
.cs-progress.info { background: var(--block-background-fill); }
.dark .cs-progress.processing { background: #3a3115; color: #f6e3a4; border-color: #6b5a22; }
.dark .cs-progress.ready { background: #14321f; color: #b9ecc9; border-color: #2d6b44; }
.dark .cs-progress.failed, .dark .cs-progress.error { background: #3a1714; color: #ffcdc6; border-color: #7a2c23; }
.cs-bar { height: 4px; border-radius: 2px; margin-top: 8px; background: rgba(0,0,0,0.08); overflow: hidden; }
.cs-bar::after { content: ""; display: block; height: 100%; width: 35%; border-radius: 2px;
  background: #d39b00; animation: cs-slide 1.3s ease-in-out infinite; }
@keyframes cs-slide { 0% { transform: translateX(-100%); } 100% { transform: translateX(300%); } }
.dark .cs-failure, .dark .cs-confirm { background: #3a1714; color: #ffcdc6; }
#cs-form-panel { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 12px 14px;
  background: var(--block-background-fill); }
</style>
"""

CARDS_CSS = """
.cs-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 14px; }
.cs-card { border: 1px solid var(--border-color-primary); border-radius: 12px; overflow: hidden;
  background: var(--block-background-fill); display: flex; flex-direction: column; }
.cs-card[data-status="FAILED"] { border-color: #f3b4ab; }
.cs-thumb { aspect-ratio: 1088 / 704; background: linear-gradient(135deg, #e8e8ee, #d4d6e0); position: relative;
  display: flex; align-items: center; justify-content: center; overflow: hidden; }
.cs-thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
.cs-thumb .cs-initials { font: 700 34px/1 system-ui, sans-serif; color: rgba(255,255,255,0.95); }
.cs-thumb.preset { background: linear-gradient(135deg, var(--cs-a), var(--cs-b)); }
.cs-thumb.processing img { filter: saturate(0.4) brightness(0.95); }
.cs-body { padding: 10px 12px 12px; display: flex; flex-direction: column; gap: 6px; flex: 1; }
.cs-title { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.cs-name { font-weight: 650; font-size: 1rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cs-badge { font-size: 0.72rem; font-weight: 700; letter-spacing: 0.04em; padding: 2px 8px; border-radius: 999px;
  white-space: nowrap; }
.cs-badge.READY { background: #dcf5e4; color: #11522b; }
.cs-badge.PROCESSING { background: #fff1c7; color: #6b4d00; }
.cs-badge.FAILED { background: #ffe1dc; color: #8a1c0f; }
.cs-badge.PRESET { background: #e6e8ff; color: #30358f; }
.cs-meta { font-size: 0.83rem; opacity: 0.78; }
.cs-failure { font-size: 0.83rem; background: #fff4f2; color: #7a1d12; border-radius: 8px; padding: 6px 8px;
  line-height: 1.4; }
.cs-failure b { font-weight: 650; }
.cs-bar { height: 3px; border-radius: 2px; background: rgba(0,0,0,0.08); overflow: hidden; }
.cs-bar::after { content: ""; display: block; height: 100%; width: 35%; background: #d39b00;
  animation: cs-slide 1.3s ease-in-out infinite; }
@keyframes cs-slide { 0% { transform: translateX(-100%); } 100% { transform: translateX(300%); } }
.cs-actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: auto; padding-top: 4px; }
.cs-btn { font: inherit; font-size: 0.82rem; padding: 4px 10px; border-radius: 7px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color); }
.cs-btn:hover:not([disabled]) { filter: brightness(0.96); border-color: var(--border-color-accent, #999); }
.cs-btn.primary { background: var(--button-primary-background-fill, #f97316); color: var(--button-primary-text-color, #fff);
  border-color: transparent; }
.cs-btn.danger { color: #b42318; }
.cs-btn.danger-solid { background: #d92d20; color: #fff; border-color: transparent; }
.cs-btn[disabled] { opacity: 0.45; cursor: not-allowed; }
.cs-confirm { font-size: 0.83rem; background: #fff4f2; color: #7a1d12; border-radius: 8px; padding: 6px 8px;
  display: flex; flex-direction: column; gap: 6px; }
.cs-empty { border: 1px dashed var(--border-color-primary); border-radius: 12px; padding: 28px; text-align: center;
  opacity: 0.85; }
.cs-grid.presets { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.cs-grid.presets .cs-thumb { aspect-ratio: 1088 / 560; }
.cs-grid.presets .cs-body { padding: 8px 10px 10px; gap: 4px; }
.cs-grid.presets .cs-name { font-size: 0.92rem; white-space: normal; line-height: 1.25; }
"""

CARDS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button || button.disabled || !element.contains(button)) return;
  const data = {id: button.dataset.id || ''};
  switch (button.dataset.action) {
    case 'call': trigger('call', data); break;
    case 'edit': trigger('edit', data); break;
    case 'duplicate': trigger('duplicate', data); break;
    case 'ask_delete': trigger('ask_delete', data); break;
    case 'confirm_delete': trigger('confirm_delete', data); break;
    case 'cancel_delete': trigger('cancel_delete', data); break;
  }
});
"""

PRESET_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action="call"]');
  if (button && element.contains(button)) trigger('call', {id: button.dataset.id || ''});
});
"""

_PRESET_COLOURS = (("#4f46e5", "#db2777"), ("#0ea5e9", "#6366f1"), ("#f59e0b", "#ef4444"),
                   ("#10b981", "#0ea5e9"), ("#8b5cf6", "#ec4899"), ("#14b8a6", "#84cc16"),
                   ("#f97316", "#e11d48"), ("#6366f1", "#14b8a6"), ("#e11d48", "#f59e0b"))


def character_service(ctx: PageContext) -> CharacterService:
    """The one `CharacterService` of this UI (Knowledge uses it too)."""
    service = ctx.shared.get("character_service")
    if service is None:
        service = ctx.shared["character_service"] = CharacterService(ctx.studio.gateway, media=ctx.studio.media)
    return service


# -- Rendering ---------------------------------------------------------------------------------

def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper() or "?"


def render_cards(avatars: list[dict[str, Any]], thumbs: dict[str, str | None], armed: str | None,
                 editable: bool = True) -> str:
    """The character cards; with `editable` False (a public demo) they offer Call alone."""
    if not avatars:
        how = ("Create one with the form on the right: a photo, a voice and a personality. "
               "It is ready to call in under a minute." if editable else "Call one of the presets below.")
        return f"<div class='cs-empty' data-testid='no-characters'><b>No characters yet.</b><br>{how}</div>"
    return "<div class='cs-grid' data-testid='character-cards'>" + "".join(
        _card(avatar, thumbs.get(avatar["id"]), armed == avatar["id"], editable) for avatar in avatars
    ) + "</div>"


def _card(avatar: dict[str, Any], thumb: str | None, armed: bool, editable: bool) -> str:
    avatar_id, name, status = avatar["id"], avatar.get("name") or "Untitled", avatar.get("status", "")
    label = {"READY": "READY", "PROCESSING": "PROCESSING", "FAILED": "FAILED"}.get(status, status)
    picture = (f"<img src='{thumb}' alt='{plain(name)}'>" if thumb
               else f"<span class='cs-initials'>{plain(_initials(name))}</span>")
    documents = len(avatar.get("document_ids") or [])
    meta = f"Voice: {plain(voice_label(avatar.get('voice')))}"
    meta += f" · {documents} document{'s' if documents != 1 else ''}" if documents else ""
    parts = [
        f"<article class='cs-card' data-id='{plain(avatar_id)}' data-name='{plain(name)}' data-status='{plain(status)}'>",
        f"<div class='cs-thumb {'processing' if status == 'PROCESSING' else ''}'>{picture}</div>",
        "<div class='cs-body'>",
        (f"<div class='cs-title'><span class='cs-name' title='{plain(name)}'>{plain(name)}</span>"
         f"<span class='cs-badge {plain(status)}' data-testid='status'>{plain(label)}</span></div>"),
        f"<div class='cs-meta'>{meta}</div>",
    ]
    if status == "PROCESSING":
        parts.append("<div class='cs-meta'>Preparing the image…</div><div class='cs-bar'></div>")
    if status == "FAILED":
        reason = avatar.get("failure_reason") or "Runway did not say why."
        parts.append(f"<div class='cs-failure'><b>Why:</b> {plain(reason)}<br><b>Try next:</b> "
                     f"{plain(failure_advice(reason))}</div>")
    if armed and editable:
        parts.append(
            f"<div class='cs-confirm'>Delete “{plain(name)}” for good? Calls to it will stop working."
            f"<div class='cs-actions'>"
            f"<button class='cs-btn danger-solid' data-action='confirm_delete' data-id='{plain(avatar_id)}'>"
            f"Really delete {plain(name)}</button>"
            f"<button class='cs-btn' data-action='cancel_delete' data-id='{plain(avatar_id)}'>Keep</button>"
            "</div></div>")
    ready = status == "READY"
    parts.append(
        "<div class='cs-actions'>"
        f"<button class='cs-btn primary' data-action='call' data-id='{plain(avatar_id)}' "
        f"{'' if ready else 'disabled'} title='{'Call this character' if ready else 'Callable once READY'}'>Call</button>")
    if editable:
        parts.append(
            f"<button class='cs-btn' data-action='edit' data-id='{plain(avatar_id)}'>Edit</button>"
            f"<button class='cs-btn' data-action='duplicate' data-id='{plain(avatar_id)}'>Duplicate</button>"
            f"<button class='cs-btn danger' data-action='ask_delete' data-id='{plain(avatar_id)}'>Delete</button>")
    parts.append("</div></div></article>")
    return "".join(parts)


def render_presets() -> str:
    cards = []
    for index, (preset_id, name) in enumerate(PRESET_AVATARS.items()):
        first, second = _PRESET_COLOURS[index % len(_PRESET_COLOURS)]
        cards.append(
            f"<article class='cs-card' data-id='{plain(preset_id)}' data-name='{plain(name)}'>"
            f"<div class='cs-thumb preset' style='--cs-a:{first};--cs-b:{second}'>"
            f"<span class='cs-initials'>{plain(_initials(name))}</span></div>"
            f"<div class='cs-body'><div class='cs-title'><span class='cs-name' title='{plain(name)}'>{plain(name)}</span>"
            "</div>"
            f"<div class='cs-meta'><code>{plain(preset_id)}</code></div>"
            f"<div class='cs-actions'><button class='cs-btn primary' data-action='call' "
            f"data-id='{plain(preset_id)}'>Call</button></div></div></article>")
    return "<div class='cs-grid presets' data-testid='preset-cards'>" + "".join(cards) + "</div>"


def render_summary(avatars: list[dict[str, Any]]) -> str:
    if not avatars:
        return "<span class='cs-muted'>No custom characters yet</span>"
    counts = {status: sum(1 for a in avatars if a.get("status") == status) for status in ("READY", "PROCESSING", "FAILED")}
    bits = [f"{len(avatars)} character{'s' if len(avatars) != 1 else ''}"]
    bits += [f"{count} {status.lower()}" for status, count in counts.items() if count]
    return "<span class='cs-muted'>" + " · ".join(bits) + "</span>"


def render_progress(avatar: dict[str, Any] | None) -> str:
    if avatar is None:
        return ""
    name = plain(avatar.get("name"))
    status = avatar.get("status")
    if status == "PROCESSING":
        return (f"<div class='cs-progress processing' data-status='PROCESSING'><b>Processing “{name}”…</b> "
                "Runway is preparing the reference image; this usually takes a few seconds. "
                "This box and the card update by themselves.<div class='cs-bar'></div></div>")
    if status == "READY":
        return (f"<div class='cs-progress ready' data-status='READY'><b>“{name}” is READY.</b> "
                "Use <b>Call</b> on its card to talk to it.</div>")
    if status == "FAILED":
        reason = avatar.get("failure_reason") or "Runway did not say why."
        return (f"<div class='cs-progress failed' data-status='FAILED'><b>“{name}” FAILED:</b> {plain(reason)}"
                f"<br><b>What to try next:</b> {plain(failure_advice(reason))}</div>")
    return ""


def message_box(text: str, kind: str = "error") -> str:
    return f"<div class='cs-progress {kind}' data-kind='{kind}'>{plain(text)}</div>" if text else ""


def render_report(report: images.ImageReport, cropped: bool) -> str:
    if not report.ok:
        items = "".join(f"<li>{plain(p)}</li>" for p in report.problems)
        return f"<div class='cs-report bad' data-ok='false'><b>This image can't be used.</b><ul>{items}</ul></div>"
    size = f"{report.size_bytes / 1_000_000:.1f} MB" if report.size_bytes >= 100_000 else f"{report.size_bytes / 1000:.0f} KB"
    facts = [f"{report.format} · {report.width}×{report.height} · {size}"]
    if report.exif_orientation != 1:
        facts.append("phone rotation (EXIF) applied")
    if report.mode and report.mode not in ("RGB",):
        facts.append(f"colour converted from {report.mode} to RGB")
    warnings = "".join(f"<li class='warn'>{plain(w)}</li>" for w in report.warnings if not cropped or "cut from" not in w)
    body = f"<b>✓ Ready to use.</b> {plain(' · '.join(facts))}"
    return f"<div class='cs-report ok' data-ok='true'>{body}{f'<ul>{warnings}</ul>' if warnings else ''}</div>"


def _shown(value: str) -> Any:
    """An HTML box that takes no room while empty."""
    return gr.HTML(value=value, visible=bool(value))


# -- The page ----------------------------------------------------------------------------------

def build(ctx: PageContext) -> None:
    service = character_service(ctx)
    editable = not ctx.public_demo
    gr.HTML(STYLE, padding=False)

    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            with gr.Row(equal_height=True):
                gr.Markdown("### Your characters", elem_classes="cs-section-title")
                summary = gr.HTML(render_summary([]), elem_id="cs-summary")
                refresh = gr.Button("Refresh", size="sm", variant="secondary", scale=0, min_width=90,
                                    elem_id="cs-refresh")
            cards = gr.HTML("<div class='cs-empty'>Loading characters…</div>", css_template=CARDS_CSS,
                            js_on_load=CARDS_JS, elem_id="cs-cards", apply_default_css=False)
            gr.Markdown("### Preset avatars", elem_classes="cs-section-title")
            gr.Markdown("Runway's nine ready-made characters. They need no setup: call them right away.",
                        elem_classes="cs-muted")
            presets = gr.HTML(render_presets(), css_template=CARDS_CSS, js_on_load=PRESET_JS,
                              elem_id="cs-presets", apply_default_css=False)

        with gr.Column(scale=2, min_width=380, visible=editable):  # a public demo changes nothing
            with gr.Column(elem_id="cs-form-panel"):
                form_title = gr.Markdown("### Create a character", elem_id="cs-form-title")
                source = gr.Radio([SOURCE_UPLOAD, SOURCE_URL], value=SOURCE_UPLOAD, label="Reference image from",
                                  elem_id="cs-image-source")
                image = gr.Image(label="Reference image (JPEG, PNG or WebP; one clear, centred face)",
                                 sources=["upload", "clipboard", "webcam"], type="filepath", height=220,
                                 elem_id="cs-image")
                url = gr.Textbox(label="Image URL", placeholder="https://images.example.com/portrait.jpg",
                                 visible=False, elem_id="cs-image-url")
                err_image = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="cs-err-image")
                report = gr.HTML("", elem_id="cs-image-report", visible=False)
                with gr.Row(visible=False) as crop_row:
                    crop_preview = gr.Image(label="Centre crop: what the 1088×704 stream shows", interactive=False,
                                            height=150, elem_id="cs-crop-preview", buttons=[])
                    crop = gr.Checkbox(value=True, label="Use this crop",
                                       info="Recommended: the stream is 1088×704 (landscape).",
                                       elem_id="cs-crop", scale=0, min_width=150)
                name = gr.Textbox(label="Name", placeholder="e.g. Ava, product guide", max_lines=1,
                                  elem_id="cs-name")
                err_name = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="cs-err-name")
                voice = gr.Dropdown(label="Voice", choices=service.voice_choices(), value=DEFAULT_VOICE,
                                    filterable=True, elem_id="cs-voice",
                                    info="30 live presets, plus your custom voices (★).")
                voice_sample = gr.Audio(label="Voice sample", interactive=False, visible=False,
                                        elem_id="cs-voice-sample")
                err_voice = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="cs-err-voice")
                template = gr.Dropdown(label="Start from a template (optional)", choices=list(PERSONALITY_TEMPLATES),
                                       value=None, elem_id="cs-template")
                personality = gr.Textbox(label="Personality", lines=5, max_lines=14, elem_id="cs-personality",
                                         placeholder="Who the character is, how it talks, what it knows and won't do.",
                                         info="1–10,000 characters: the character's system prompt.")
                err_personality = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="cs-err-personality")
                start_script = gr.Textbox(label="Start script (optional)", lines=2, max_lines=6,
                                          elem_id="cs-start-script", info="What it says first; up to 2,000 characters.")
                err_script = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="cs-err-script")
                documents = gr.Dropdown(label="Knowledge documents (optional)", choices=[], value=[],
                                        multiselect=True, elem_id="cs-documents",
                                        info="Up to 50. Add documents in the Knowledge tab.")
                err_documents = gr.Markdown(visible=False, elem_classes="cs-error", elem_id="cs-err-documents")
                processing = gr.Radio(["optimize", "none"], value="optimize", label="Image processing",
                                      info="optimize improves the picture for the avatar; none uses it as is.",
                                      elem_id="cs-processing")
                with gr.Row():
                    submit = gr.Button("Create character", variant="primary", elem_id="cs-submit")
                    cancel = gr.Button("Cancel editing", variant="secondary", visible=False, elem_id="cs-cancel")
                progress = gr.HTML("", elem_id="cs-progress")
            with gr.Accordion("Custom voices: design or clone", open=False, elem_id="cs-voices"):
                voices_panel = voice_studio.build(ctx, service, voice)

    timer = gr.Timer(POLL_SECONDS, active=False)
    armed = gr.State(None)           # avatar id whose Delete is armed
    editing = gr.State(None)         # avatar id being edited, None while creating
    watch = gr.State(None)           # avatar id whose progress the form shows
    picked = gr.State(None)          # {"path", "name"} of the pre-flighted uploaded image
    shown = gr.State(None)           # fingerprint of the cards on screen
    changed = gr.State(0)            # published: grows whenever characters change
    ctx.shared["characters_changed"] = changed

    field_errors = {
        "image": err_image, "image_url": err_image, "name": err_name, "voice": err_voice,
        "personality": err_personality, "start_script": err_script, "documents": err_documents,
        "image_processing": err_image,
    }
    all_errors = [err_image, err_name, err_voice, err_personality, err_script, err_documents]
    listing = [cards, summary, timer, shown, changed, progress]

    # -- listing ---------------------------------------------------------------------------

    async def snapshot(armed_id, watch_id, fingerprint, version, force=True, report=False) -> dict:
        """List characters; redraw only what changed. The timer runs only while one is PROCESSING.

        With `report`, the form's progress box follows the watched character's status changes.
        """
        out: dict = {}
        try:
            avatars = await service.list_characters()
        except StudioError as error:
            out[summary] = f"<span class='cs-error'>Could not list characters: {plain(error.message)}</span>"
            out[timer] = gr.Timer(active=False)
            return out
        new_print = (avatar_fingerprint(avatars), armed_id)
        if force or new_print != fingerprint:
            thumbs = await _thumbnails(service, avatars)
            out[cards] = render_cards(avatars, thumbs, armed_id, editable)
            out[summary] = render_summary(avatars)
            out[shown] = new_print
            if fingerprint is not None and new_print[0] != fingerprint[0]:
                out[changed] = (version or 0) + 1
        out[timer] = gr.Timer(active=is_processing(avatars))
        watched = next((a for a in avatars if a["id"] == watch_id), None) if report else None
        before = {entry[0]: entry[1] for entry in (fingerprint[0] if fingerprint else ())}
        if watched is not None and before.get(watch_id) != watched.get("status"):
            out[progress] = render_progress(watched)  # only on a change, so messages are not overwritten
        return out

    async def list_characters(armed_id, watch_id, fingerprint, version):
        return await snapshot(armed_id, watch_id, fingerprint, version)

    async def tick(armed_id, watch_id, fingerprint, version):
        return await snapshot(armed_id, watch_id, fingerprint, version, force=False, report=True)

    refresh.click(list_characters, [armed, watch, shown, changed], listing, api_name="list_characters",
                  show_progress="hidden")
    timer.tick(tick, [armed, watch, shown, changed], listing, api_name=False, show_progress="hidden",
               concurrency_limit=None)

    # -- form helpers ----------------------------------------------------------------------

    async def form_choices(current_voice, current_docs) -> dict:
        """Voice and document choices, keeping what is selected."""
        out: dict = {}
        try:
            custom = await service.list_voices()
            voice_options = service.voice_choices(custom)
            keep = current_voice if current_voice in {v for _, v in voice_options} else DEFAULT_VOICE
            out[voice] = gr.Dropdown(choices=voice_options, value=keep)
        except StudioError as error:
            log.warning("voices unavailable: %s", error.message)
        try:
            docs = await service.gateway.list_documents()
            doc_options = [(d["name"], d["id"]) for d in docs]
            known = {d["id"] for d in docs}
            out[documents] = gr.Dropdown(choices=doc_options, value=[d for d in (current_docs or []) if d in known])
        except StudioError as error:
            log.warning("documents unavailable: %s", error.message)
        return out

    async def on_load():
        out = await snapshot(None, None, None, 0)
        out.update(await form_choices(DEFAULT_VOICE, []))
        return out

    gr.on(None, on_load, None, _unique(listing, [voice, documents]), api_name=False, show_progress="hidden")
    ctx.tab_objects["characters"].select(form_choices, [voice, documents], [voice, documents], api_name=False,
                                         show_progress="hidden")

    def preflight_view(picked_image) -> dict:
        """Pre-flight a picked file with Pillow before anything is sent; show the report and crop."""
        if not picked_image:
            return {report: _shown(""), crop_row: gr.Row(visible=False), err_image: error_note(None)}
        try:
            data = Path(picked_image["path"]).read_bytes()
        except OSError:
            return {report: _shown(""), crop_row: gr.Row(visible=False),
                    err_image: error_note("Reference image: the upload could not be read; choose it again.")}
        checked = images.preflight(data, picked_image.get("name"))
        if not checked.ok:
            return {report: _shown(render_report(checked, cropped=False)), crop_row: gr.Row(visible=False),
                    err_image: error_note(None)}
        at_stream_shape = abs((checked.aspect or 0) - images.STREAM_ASPECT) < 0.01
        return {
            report: _shown(render_report(checked, cropped=not at_stream_shape)),
            crop_row: gr.Row(visible=not at_stream_shape),
            crop_preview: Image.open(io.BytesIO(images.crop_preview(data))),
            err_image: error_note(None),
        }

    def on_image(payload):
        """The raw upload (preprocess=False: a renamed text file must reach our pre-flight, not Pillow's error)."""
        if not payload or not payload.get("path"):
            return {picked: None, **preflight_view(None)}
        chosen = {"path": payload["path"], "name": payload.get("orig_name") or Path(payload["path"]).name}
        return {picked: chosen, crop: gr.Checkbox(value=True), **preflight_view(chosen)}

    image.change(ctx.owner_only(on_image), image, [picked, report, crop_row, crop_preview, crop, err_image],
                 preprocess=False, api_name=False, show_progress="minimal")

    def choose_source(choice, picked_image):
        by_url = choice == SOURCE_URL
        out = {image: gr.Image(visible=not by_url), url: gr.Textbox(visible=by_url),
               err_image: error_note(None)}
        if by_url:
            out.update({report: _shown(""), crop_row: gr.Row(visible=False)})
        else:
            out.update(preflight_view(picked_image))
        return out

    source.change(choose_source, [source, picked], [image, url, crop_row, crop_preview, err_image, report],
                  api_name=False, show_progress="hidden")

    def use_template(choice, current_script):
        chosen = PERSONALITY_TEMPLATES.get(choice or "")
        if not chosen:
            return gr.skip(), gr.skip(), gr.skip()
        return chosen["personality"], current_script or chosen["start_script"], error_note(None)

    template.change(use_template, [template, start_script], [personality, start_script, err_personality],
                    api_name=False, queue=False)

    async def on_voice(choice):
        if not choice or not str(choice).startswith("custom:"):
            return gr.Audio(value=None, visible=False)
        try:
            sample = await service.voice_preview_audio(choice.split(":", 1)[1])
        except StudioError:
            sample = None
        if not sample:
            return gr.Audio(value=None, visible=False)
        return gr.Audio(value=sample, visible=True)

    voice.change(on_voice, voice, voice_sample, api_name=False, show_progress="hidden")

    # Each limit is checked beside its field as soon as the field is left.
    name.blur(lambda v: error_note(check_name(v)), name, err_name, api_name=False, queue=False)
    personality.blur(lambda v: error_note(check_personality(v)), personality, err_personality,
                     api_name=False, queue=False)
    start_script.blur(lambda v: error_note(check_start_script(v)), start_script, err_script,
                      api_name=False, queue=False)
    url.blur(lambda v: error_note(check_image_url(v) if v else None), url, err_image, api_name=False,
             queue=False)
    documents.change(lambda v: error_note(check_document_ids(v)), documents, err_documents,
                     api_name=False, queue=False)

    # -- create / save -----------------------------------------------------------------------

    def read_form(source_choice, picked_image, url_text, crop_choice, name_text, voice_choice, personality_text,
                  script_text, document_ids, processing_choice) -> CharacterForm:
        form = CharacterForm(name=name_text or "", personality=personality_text or "", voice=voice_choice or "",
                             start_script=script_text or "", document_ids=list(document_ids or []),
                             image_processing=processing_choice or "optimize", crop=bool(crop_choice))
        if source_choice == SOURCE_URL:
            form.image_url = url_text or ""
        elif picked_image:
            try:
                form.image_data = Path(picked_image["path"]).read_bytes()
                form.image_filename = picked_image.get("name")
            except OSError:
                form.image_data, form.image_filename = b"", picked_image.get("name")
        return form

    form_inputs = [source, picked, url, crop, name, voice, personality, start_script, documents, processing]
    submit_outputs = _unique(all_errors, listing, [watch, editing, form_title, submit, cancel, armed])

    async def on_submit(editing_id, armed_id, fingerprint, version, *values):
        form = read_form(*values)
        out: dict = {component: error_note(None) for component in all_errors}
        try:
            if editing_id:
                avatar = await service.update_character(editing_id, form)
                done = f"Saved “{avatar.get('name')}”."
            else:
                avatar = await service.create_character(form)
                done = None
        except FormInvalid as invalid:
            for key, message in invalid.errors.items():
                out[field_errors.get(key, err_image)] = error_note(message)
            out[progress] = message_box("Nothing was sent: fix the fields marked above.", "error")
            return out
        except StudioError as error:
            out[progress] = message_box(error.message, "error")
            return out
        out.update(await snapshot(None, avatar["id"], fingerprint, version))
        out[changed] = (version or 0) + 1
        out[watch] = avatar["id"]
        out[armed] = None
        if done and avatar.get("status") != "PROCESSING":
            out[progress] = message_box(done, "ready")
        else:
            out[progress] = render_progress(avatar)
        return out

    submit.click(ctx.owner_only(on_submit), [editing, armed, shown, changed, *form_inputs], submit_outputs,
                 api_name="save_character", show_progress="minimal", concurrency_limit=None)

    # -- card actions ------------------------------------------------------------------------

    form_fields = [name, personality, start_script, voice, documents, processing, template, image, url, source,
                   report, crop_row, picked]

    def creating_mode() -> dict:
        return {
            editing: None, form_title: "### Create a character", submit: gr.Button(value="Create character"),
            cancel: gr.Button(visible=False),
        }

    def blank_form() -> dict:
        return {
            name: "", personality: "", start_script: "", voice: DEFAULT_VOICE, documents: [], processing: "optimize",
            template: None, image: None, url: "", source: SOURCE_UPLOAD, report: _shown(""),
            crop_row: gr.Row(visible=False),
            picked: None, progress: "", **{component: error_note(None) for component in all_errors},
        }

    async def on_edit(evt: gr.EventData):
        try:
            avatar = await service.get_character(evt.id)
        except StudioError as error:
            return {progress: message_box(error.message, "error")}
        out = blank_form()
        out.update({
            editing: avatar["id"], watch: avatar["id"],
            form_title: f"### Editing “{md_escape(avatar.get('name'))}”",
            submit: gr.Button(value="Save changes"), cancel: gr.Button(visible=True),
            name: avatar.get("name") or "", personality: avatar.get("personality") or "",
            start_script: avatar.get("start_script") or "", documents: list(avatar.get("document_ids") or []),
            voice: voice_choice_of(avatar.get("voice")) or DEFAULT_VOICE,
            progress: message_box("Change any field and save. Leave the image empty to keep the current one; "
                                  "clear the start script to remove it.", "info"),
        })
        if voice_choice_of(avatar.get("voice")) is None:
            out[err_voice] = error_note("Voice: its custom voice was deleted; pick another voice.")
        return out

    def on_cancel():
        return {**blank_form(), **creating_mode(), watch: None}

    edit_outputs = _unique(form_fields, all_errors, [editing, watch, form_title, submit, cancel, progress])
    cards.edit(ctx.owner_only(on_edit), None, edit_outputs, api_name=False)
    cancel.click(on_cancel, None, edit_outputs, api_name=False, queue=False)

    async def on_duplicate(evt: gr.EventData, fingerprint, version):
        try:
            copy = await service.duplicate_character(evt.id)
        except StudioError as error:
            return {progress: message_box(error.message, "error")}
        out = await snapshot(None, copy["id"], fingerprint, version)
        out.update({watch: copy["id"], changed: (version or 0) + 1, progress: render_progress(copy)})
        return out

    cards.duplicate(ctx.owner_only(on_duplicate), [shown, changed], _unique(listing, [watch]), api_name=False)

    async def on_ask_delete(evt: gr.EventData, watch_id, fingerprint, version):
        out = await snapshot(evt.id, watch_id, fingerprint, version)
        out[armed] = evt.id
        return out

    async def on_cancel_delete(watch_id, fingerprint, version):
        out = await snapshot(None, watch_id, fingerprint, version)
        out[armed] = None
        return out

    async def on_confirm_delete(evt: gr.EventData, armed_id, editing_id, watch_id, fingerprint, version):
        if evt.id != armed_id:  # a stale page: ask again rather than delete unconfirmed
            return await on_ask_delete(evt, watch_id, fingerprint, version)
        out: dict = {armed: None}
        try:
            await service.delete_character(evt.id)
        except StudioError as error:
            out.update(await snapshot(None, watch_id, fingerprint, version))
            out[progress] = message_box(error.message, "error")
            return out
        out.update(await snapshot(None, None, fingerprint, version))
        out[changed] = (version or 0) + 1
        if editing_id == evt.id:
            out.update({**blank_form(), **creating_mode()})
        if watch_id == evt.id or editing_id == evt.id:
            out[watch] = None
            out[progress] = message_box("Character deleted.", "info")
        return out

    delete_outputs = _unique(listing, [armed, watch], edit_outputs)
    cards.ask_delete(ctx.owner_only(on_ask_delete), [watch, shown, changed], [*listing, armed], api_name=False)
    cards.cancel_delete(on_cancel_delete, [watch, shown, changed], [*listing, armed], api_name=False)
    cards.confirm_delete(ctx.owner_only(on_confirm_delete), [armed, editing, watch, shown, changed], delete_outputs,
                         api_name=False)

    # -- cross-tab wiring --------------------------------------------------------------------

    voices_panel.voices_changed.change(form_choices, [voice, documents], [voice, documents], api_name=False,
                                       show_progress="hidden")

    def wire_other_tabs() -> None:
        call_target = ctx.shared.get("call_avatar")
        targets = [call_target] if call_target is not None else []

        def go_call(evt: gr.EventData):
            selected = gr.Tabs(selected="call")
            return [evt.id, selected] if call_target is not None else selected

        if ctx.tabs is not None:
            cards.call(go_call, None, [*targets, ctx.tabs], api_name=False, queue=False)
            presets.call(go_call, None, [*targets, ctx.tabs], api_name=False, queue=False)
        documents_changed = ctx.shared.get("documents_changed")
        if documents_changed is not None:
            documents_changed.change(form_choices, [voice, documents], [voice, documents], api_name=False,
                                     show_progress="hidden")
            documents_changed.change(list_characters, [armed, watch, shown, changed], listing, api_name=False,
                                     show_progress="hidden")

    ctx.after_build.append(wire_other_tabs)


async def _thumbnails(service: CharacterService, avatars: list[dict[str, Any]]) -> dict[str, str | None]:
    async def one(avatar: dict[str, Any]) -> tuple[str, str | None]:
        return avatar["id"], await service.media.thumbnail(avatar_image_url(avatar), avatar_media_key(avatar))

    return dict(await asyncio.gather(*(one(a) for a in avatars)))


def _unique(*groups: list[Any]) -> list[Any]:
    """Outputs from several lists, each component once (Gradio refuses duplicates)."""
    seen: list[Any] = []
    for group in groups:
        seen.extend(component for component in group if all(component is not other for other in seen))
    return seen
