"""Call tab: talk to any character, with per-call overrides and the code to do the same elsewhere."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.avatar_call import AvatarCall, call_config
from components.snippets import python_snippet, react_snippet
from components.text import plain
from pages.context import PageContext
from studio.errors import StudioError
from studio.vocabulary import PRESET_AVATARS, READY

CALL_NOTE = {
    "simulator": "**Offline call** through Runway's `@runwayml/avatars-react` SDK, into the local simulator's "
                 "LiveKit room. The character's side is **simulated offline**: a moving picture, a synthetic "
                 "voice, and replies built from its knowledge documents. Typed words (**Say it as text**, "
                 "during the call) are answered from those documents; spoken words are heard but not "
                 "understood, as there is no speech recognition offline.",
    "live": "**Live call** through Runway's `@runwayml/avatars-react` SDK. Allow the microphone when asked; "
            "the camera stays off unless you turn it on.",
}


def build(ctx: PageContext) -> None:
    studio = ctx.studio
    offline = studio.mode == "simulator"
    default_duration = studio.settings.default_max_duration

    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            avatar = gr.Dropdown(label="Character", choices=_preset_choices(), value="music-superstar",
                                 allow_custom_value=False, elem_id="call-avatar")
            gr.Markdown(CALL_NOTE[studio.mode])
            with gr.Accordion("Overrides for this call", open=False):
                personality = gr.Textbox(label="Personality", lines=4, max_length=10_000,
                                         placeholder="Leave empty to use the character's own personality")
                start_script = gr.Textbox(label="Start script", lines=2, max_length=2_000,
                                          placeholder="What the character says first; empty = its own")
                max_duration = gr.Slider(label="Max duration (seconds)", minimum=10, maximum=default_duration,
                                         step=5, value=default_duration)
        with gr.Column(scale=2, min_width=480):
            first = _config("music-superstar", PRESET_AVATARS["music-superstar"], offline, "", "",
                            default_duration)
            call = AvatarCall(value=first, elem_id="avatar-call")
    with gr.Accordion("Use this character in your app", open=False):
        gr.Markdown("A React component that calls a server route of yours, and that route in Python. "
                    "The API key stays on your server.")
        react_code = gr.Code(language="javascript", label="React (browser)", interactive=False)
        python_code = gr.Code(language="python", label="Python (server route)", interactive=False)

    ctx.call_avatar = avatar
    inputs = [avatar, personality, start_script, max_duration]

    async def configure(avatar_id: str, personality_text: str, script_text: str, duration: float):
        name = await _avatar_name(studio, avatar_id)
        config = _config(avatar_id, name, offline, personality_text, script_text, duration or default_duration)
        return config, react_snippet(avatar_id), python_snippet(avatar_id, int(duration))

    async def refresh_choices(current: str):
        choices = _preset_choices() + await _custom_choices(studio)
        known = {value for _, value in choices}
        return gr.Dropdown(choices=choices, value=current if current in known else "music-superstar")

    for control in inputs:
        control.change(configure, inputs, [call, react_code, python_code], show_progress="hidden",
                       api_name=False)
    ctx.tab_objects["call"].select(refresh_choices, avatar, avatar, show_progress="hidden", api_name=False)
    gr.on([ctx.tab_objects["call"].select], configure, inputs, [call, react_code, python_code],
          show_progress="hidden", api_name=False)


def _preset_choices() -> list[tuple[str, str]]:
    return [(f"{name} (preset: {preset_id})", preset_id) for preset_id, name in PRESET_AVATARS.items()]


async def _custom_choices(studio: Any) -> list[tuple[str, str]]:
    try:
        avatars = await studio.characters.list_characters()
    except StudioError as error:
        gr.Warning(plain(f"Could not list your characters: {error.message}"))  # toasts render HTML
        return []
    return [(f"{a['name']} (custom)", a["id"]) for a in avatars if a.get("status") == READY]


def _config(avatar_id: str, name: str, offline: bool, personality: str, script: str,
            duration: float) -> str:
    """The call card's configuration; offline it offers "Say it as text" (the room's data channel)."""
    personality, script = (personality or "").strip(), (script or "").strip()
    return call_config(
        avatarId=avatar_id,
        avatarName=name,
        avatarImageUrl=f"/api/avatars/{avatar_id}/image",
        maxDuration=int(duration),
        personality=personality or None,
        startScript=script or None,
        offline=offline or None,
    )


async def _avatar_name(studio: Any, avatar_id: str) -> str:
    if avatar_id in PRESET_AVATARS:
        return PRESET_AVATARS[avatar_id]
    try:
        avatar = await studio.characters.get_character(avatar_id)
    except StudioError:
        return "Character"
    return avatar["name"]
