"""Clips tab: render a video of a character speaking a script or an audio file, or one script in
two to four voices side by side; watch it render, play it, download it, and find every clip again.

Left, the form: character (custom characters with their status, then the presets), the script
(typed, or filled from the character's start script or a paragraph of its knowledge documents) or
an audio file, an optional voice, the estimated cost, Render, and Compare voices. Right, the
render being watched (or the comparison), with Cancel. Below, every clip.

Every check runs before anything is sent (`studio.clips.forms`). The renders are followed by the
studio's one background follower; this tab only reads the store, on a timer that runs while a
clip is open and sends an update only when something changed (elapsed times tick in the
browser). Rendering costs credits, so in a public demo visitors may watch but not render: the
write handlers refuse on the server (`PageContext.owner_only`), and the tab says so.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from components.clip_views import (
    clip_html,
    expired,
    render_card,
    render_comparison,
    render_estimate,
    render_list,
)
from components.notices import PANEL, message_box, shown
from pages.context import PageContext
from studio.clips import ClipRefused, inspect_audio, is_terminal
from studio.clips.words import COMPARE_MAX, OWN_VOICE, OWN_VOICE_LABEL, SCRIPT_MAX
from studio.errors import StudioError

Handler = TypeVar("Handler", bound=Callable[..., Any])
POLL_SECONDS = 1.0  # reads the studio's store only; Runway is polled by the follower
SCRIPT, AUDIO = "Script", "Audio file"
AUDIO_TYPES = [".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm"]
DEMO_REFUSAL = ("This is a public demo: rendering clips uses the owner's Runway credits, so it is off here. "
                "The owner turns it on with STUDIO_AUTH (sign-in) or STUDIO_PUBLIC_DEMO=false.")
DEMO_NOTE = ("**Public demo:** rendering clips uses the owner's Runway credits, so it is off here. "
             "The owner turns it on with `STUDIO_AUTH` (sign-in) or `STUDIO_PUBLIC_DEMO=false`.")


@dataclass
class Form:
    character: gr.Dropdown
    source: gr.Radio
    fill: gr.Dropdown
    script: gr.Textbox
    audio: gr.File
    voice: gr.Dropdown
    estimate: gr.HTML
    render: gr.Button
    message: gr.HTML
    compare_voices: gr.Dropdown
    compare: gr.Button


@dataclass
class Watch:
    current: gr.HTML
    comparison: gr.HTML
    cancel: gr.Button
    clips: gr.HTML | None
    timer: gr.Timer
    clip_id: gr.State
    group_id: gr.State
    shown: gr.State


def build(ctx: PageContext) -> None:
    if ctx.public_demo:
        gr.Markdown(DEMO_NOTE, elem_id="clip-demo-note")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=340, elem_classes=PANEL):
            form = form_panel(editable=not ctx.public_demo)
        with gr.Column(scale=3, min_width=340):
            watch = watch_panel()
    watch.clips = list_panel()
    form_events(ctx, form)
    render_events(ctx, form, watch)
    follow_events(ctx, watch)


# -- Panels --------------------------------------------------------------------------------------

def form_panel(editable: bool) -> Form:
    gr.Markdown("### Make a clip")
    # Custom values are allowed so the API can name any id; the service refuses unknown ones.
    with gr.Row(equal_height=True):  # side by side even on a phone: Render stays in the first screen
        character = gr.Dropdown(label="Character", choices=[], value=None, elem_id="clip-character",
                                allow_custom_value=True, min_width=140,
                                info="READY characters render; presets are always ready.")
        voice = gr.Dropdown(label="Voice", choices=[(OWN_VOICE_LABEL, OWN_VOICE)], value=OWN_VOICE,
                            allow_custom_value=True, elem_id="clip-voice", min_width=140,
                            info="Scripts only; uploaded audio keeps its own voice.")
    source = gr.Radio([SCRIPT, AUDIO], value=SCRIPT, label="Speech", elem_id="clip-source")
    fill = gr.Dropdown(label="Fill the script from", choices=[], value=None, elem_id="clip-fill",
                       info="The character's start script, or a paragraph of one of its documents.")
    script = gr.Textbox(label="Script", lines=5, elem_id="clip-script",
                        placeholder=f"What the character says (up to {SCRIPT_MAX:,} characters)")
    audio = gr.File(label="Audio file", file_types=AUDIO_TYPES, type="filepath", visible=False,
                    elem_id="clip-audio")
    estimate = gr.HTML(render_estimate("Write a script or upload audio to see the estimated cost."),
                       elem_id="clip-estimate")
    render = gr.Button("Render", variant="primary", elem_id="clip-render", interactive=editable)
    message = gr.HTML("", visible=False, elem_id="clip-message")
    with gr.Accordion("Compare voices", open=True, elem_id="clip-compare-box"):
        compare_voices = gr.Dropdown(label=f"Two to {COMPARE_MAX} voices", choices=[], value=[], multiselect=True,
                                     max_choices=COMPARE_MAX, allow_custom_value=True,
                                     elem_id="clip-compare-voices")
        compare = gr.Button("Render the script in each voice", elem_id="clip-compare", interactive=editable)
    return Form(character, source, fill, script, audio, voice, estimate, render, message, compare_voices, compare)


def watch_panel() -> Watch:
    gr.Markdown("### Render")
    current = clip_html(render_card(None, 0), elem_id="clip-current")
    comparison = clip_html("", elem_id="clip-comparison")
    with gr.Row():
        cancel = gr.Button("Cancel render", variant="stop", size="sm", visible=False, scale=0, min_width=160,
                           elem_id="clip-cancel")
    timer = gr.Timer(POLL_SECONDS, active=False)  # runs only while a clip is open
    return Watch(current, comparison, cancel, None, timer, gr.State(None), gr.State(None), gr.State({}))


def list_panel() -> gr.HTML:
    gr.Markdown("### Every clip")
    return clip_html(render_list([], 0), elem_id="clip-list")


# -- What the handlers share ---------------------------------------------------------------------

def client_of(ctx: PageContext, request: gr.Request | None) -> str:
    client = request.client if request is not None else None
    forwarded = request.headers.get("x-forwarded-for") if request is not None else None
    return ctx.studio.caller_id(client.host if client else None, forwarded)


def owner_only(ctx: PageContext, handler: Handler) -> Handler:
    """`handler`, or in a public demo one that refuses on the server: rendering costs credits, so
    visitors may not (the same rule as `PageContext.owner_only`, in words about clips)."""
    if not ctx.public_demo:
        return handler

    @functools.wraps(handler)  # Gradio reads the wrapped signature (inputs, gr.Request)
    async def refuse(*_: Any, **__: Any) -> Any:
        raise gr.Error(DEMO_REFUSAL, title="Public demo", print_exception=False)

    return refuse  # type: ignore[return-value]


def read_audio(path: str | None) -> tuple[bytes | None, str | None]:
    if not path:
        return None, None
    return Path(path).read_bytes(), Path(path).name


def row_key(row: dict[str, Any] | None, now: float) -> tuple | None:
    """What a clip's card shows, minus elapsed time (which the browser counts on)."""
    if row is None:
        return None
    return (row["clip_id"], row["status"], row["progress"], row["cost_credits"], row["estimated_credits"],
            row["duration"], expired(row, now))


def panels(ctx: PageContext, clip_id: str | None, group_id: str | None, shown: dict, *,
           force: bool = False) -> tuple[list[Any], dict, bool]:
    """The current card, the comparison and the list, each as new HTML or `gr.skip()` when its
    content did not change; the new fingerprints; and whether any clip shown is still open."""
    clips, now = ctx.studio.clips, ctx.studio.clock.now()
    current = clips.store.get(clip_id) if clip_id else None
    group = clips.group(group_id) if group_id else []
    rows = clips.list_clips()
    keys = {"current": row_key(current, now), "group": tuple(row_key(r, now) for r in group),
            "list": tuple(row_key(r, now) for r in rows)}
    values = [render_card(current, now) if not group else "", render_comparison(group, now), render_list(rows, now)]
    out = [value if force or keys[name] != shown.get(name) else gr.skip()
           for name, value in zip(("current", "group", "list"), values, strict=True)]
    watched = ([current] if current else []) + group
    keys["live"] = any(not is_terminal(r["status"]) for r in watched)
    return out, keys, keys["live"]


# -- Events --------------------------------------------------------------------------------------

def form_events(ctx: PageContext, form: Form) -> None:
    clips = ctx.studio.clips

    async def load_choices(current: str | None, voice: str | None, compared: list[str] | None):
        try:
            characters = await clips.character_choices()
        except StudioError as error:
            gr.Warning(f"Could not list characters: {error.message}")
            characters = []
        voices = await clips.voice_choices()
        ids, voice_ids = {v for _, v in characters}, {v for _, v in voices}
        return (gr.Dropdown(choices=characters, value=current if current in ids else None),
                gr.Dropdown(choices=voices, value=voice if voice in voice_ids else OWN_VOICE),
                gr.Dropdown(choices=voices, value=[v for v in compared or [] if v in voice_ids]))

    async def sources(avatar_id: str | None):
        try:
            found = await clips.script_sources(avatar_id or "")
        except StudioError:
            found = []
        empty = "This character has no start script or documents to use." if avatar_id else \
            "Pick a character to use its start script or a paragraph of its documents."
        return gr.Dropdown(choices=found, value=None, interactive=bool(found), info=None if found else empty)

    def show_source(source: str):
        speaking = source == SCRIPT
        return (gr.Textbox(visible=speaking), gr.Dropdown(visible=speaking), gr.File(visible=not speaking),
                gr.Dropdown(interactive=speaking))

    def estimate(source: str, script: str, audio_path: str | None) -> str:
        if source == AUDIO:
            if not audio_path:
                return render_estimate("Upload audio to see the estimated cost.")
            try:
                return render_estimate(clips.estimate(audio=inspect_audio(*read_audio(audio_path))).text)
            except ClipRefused as refused:
                return render_estimate("", refused=refused.message)
        return render_estimate(clips.estimate(script=script or "").text)

    ctx.tab_objects["clips"].select(load_choices, [form.character, form.voice, form.compare_voices],
                                    [form.character, form.voice, form.compare_voices], api_name=False,
                                    show_progress="hidden")
    form.character.change(sources, form.character, form.fill, api_name=False, show_progress="hidden")
    form.fill.change(lambda text: text if text else gr.skip(), form.fill, form.script, api_name=False,
                     show_progress="hidden")
    form.source.change(show_source, form.source, [form.script, form.fill, form.audio, form.voice],
                       api_name=False, show_progress="hidden")
    gr.on([form.script.change, form.audio.change, form.source.change], estimate,
          [form.source, form.script, form.audio], form.estimate, api_name=False, show_progress="hidden",
          trigger_mode="always_last")


def render_events(ctx: PageContext, form: Form, watch: Watch) -> None:
    clips = ctx.studio.clips
    outputs = [watch.current, watch.comparison, watch.clips, watch.shown, watch.timer, watch.cancel,
               watch.clip_id, watch.group_id, form.message]

    def watching(clip_id: str | None, group_id: str | None) -> tuple:
        out, keys, live = panels(ctx, clip_id, group_id, {}, force=True)
        return (*out, keys, gr.Timer(active=True), gr.Button(visible=live), clip_id, group_id, shown(""))

    def refused(error: StudioError) -> tuple:
        if isinstance(error, ClipRefused):
            return (*[gr.skip()] * 8, shown(message_box(f"{error.message} Nothing was sent to Runway.")))
        # Runway refused: the clip is on record as failed, so the list shows it too.
        listing = render_list(clips.list_clips(), ctx.studio.clock.now())
        return (gr.skip(), gr.skip(), listing, *[gr.skip()] * 5, shown(message_box(error.message)))

    async def render_clip(avatar_id: str | None, source: str, script: str, audio_path: str | None,
                          voice: str | None, request: gr.Request):
        """Render one clip from the form."""
        try:
            audio = None
            if source == AUDIO:  # decoding a long file takes a moment: off the event loop
                audio = await asyncio.to_thread(lambda: inspect_audio(*read_audio(audio_path)))
            row = await clips.render(avatar_id or "", client_id=client_of(ctx, request),
                                     script=None if audio else script, audio=audio,
                                     voice=OWN_VOICE if audio else voice)
        except StudioError as error:
            return refused(error)
        return watching(row["clip_id"], None)

    async def compare_voices(avatar_id: str | None, script: str, voices: list[str] | None, request: gr.Request):
        """Render the script once per chosen voice, side by side."""
        try:
            group_id, _ = await clips.compare(avatar_id or "", script, list(voices or []),
                                              client_id=client_of(ctx, request))
        except StudioError as error:
            return refused(error)
        return watching(None, group_id)

    async def cancel(clip_id: str | None, group_id: str | None):
        """Cancel the clip being watched (every open clip of a comparison)."""
        targets = [clip_id] if clip_id else [r["clip_id"] for r in clips.group(group_id or "")]
        for target in targets:
            try:
                await clips.cancel(target)
            except StudioError as error:
                gr.Warning(error.message)
        return watching(clip_id, group_id)

    form.render.click(owner_only(ctx, render_clip),
                      [form.character, form.source, form.script, form.audio, form.voice], outputs,
                      api_name="render_clip", concurrency_limit=None)
    form.compare.click(owner_only(ctx, compare_voices), [form.character, form.script, form.compare_voices],
                       outputs, api_name="compare_voices", concurrency_limit=None)
    watch.cancel.click(owner_only(ctx, cancel), [watch.clip_id, watch.group_id], outputs,
                       api_name="cancel_clip", concurrency_limit=None)


def follow_events(ctx: PageContext, watch: Watch) -> None:
    def tick(clip_id: str | None, group_id: str | None, shown: dict):
        """Redraw what changed; stop the timer once nothing is open."""
        out, keys, live = panels(ctx, clip_id, group_id, shown or {})
        still_open = live or ctx.studio.clips.store.open_count() > 0
        return (*out, keys, gr.skip() if still_open else gr.Timer(active=False),
                gr.skip() if live == (shown or {}).get("live") else gr.Button(visible=live))

    def opened(clip_id: str | None, group_id: str | None):
        out, keys, live = panels(ctx, clip_id, group_id, {}, force=True)
        return (*out, keys, gr.Timer(active=ctx.studio.clips.store.open_count() > 0), gr.Button(visible=live))

    outputs = [watch.current, watch.comparison, watch.clips, watch.shown, watch.timer, watch.cancel]
    watch.timer.tick(tick, [watch.clip_id, watch.group_id, watch.shown], outputs, api_name=False,
                     show_progress="hidden", concurrency_limit=None)
    ctx.tab_objects["clips"].select(opened, [watch.clip_id, watch.group_id], outputs, api_name=False,
                                    show_progress="hidden")
