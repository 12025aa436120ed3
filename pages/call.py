"""Call tab: talk to any character, with per-call overrides and the code to do the same elsewhere."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.avatar_call import (
    EMBEDDED_ROOM_OPTIONS,
    AvatarCall,
    call_config,
    character_choices,
    preset_choices,
)
from components.snippets import python_snippet, react_snippet
from components.tool_activity import ToolActivity
from pages.context import PageContext
from studio.errors import StudioError
from studio.vocabulary import CALL_SECONDS_MIN, PRESET_AVATARS

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
    room_options = EMBEDDED_ROOM_OPTIONS if offline and not studio.settings.simulator.livekit_url else None
    default_duration = studio.settings.default_max_duration

    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            avatar = gr.Dropdown(label="Character", choices=preset_choices(), value="music-superstar",
                                 allow_custom_value=False, elem_id="call-avatar")
            with gr.Accordion("Overrides for this call", open=False):
                personality = gr.Textbox(label="Personality", lines=4, max_length=10_000,
                                         placeholder="Leave empty to use the character's own personality")
                start_script = gr.Textbox(label="Start script", lines=2, max_length=2_000,
                                          placeholder="What the character says first; empty = its own")
                # The slider needs room to move even when the studio's limit is the shortest call.
                max_duration = gr.Slider(label="Max duration (seconds)", minimum=CALL_SECONDS_MIN,
                                         maximum=max(default_duration, CALL_SECONDS_MIN + 5), step=5,
                                         value=default_duration)
                tools_on = gr.CheckboxGroup(label="Tools this call may use", choices=[], value=[],
                                            visible=False, elem_id="call-tools-on")
        with gr.Column(scale=2, min_width=480):
            first = _config("music-superstar", PRESET_AVATARS["music-superstar"], offline, "", "",
                            default_duration, room_options)
            call = AvatarCall(value=first, elem_id="avatar-call")
            # Below the card, so that on a phone the card's Start is in the first screen.
            gr.Markdown(CALL_NOTE[studio.mode], elem_id="call-note")
            ToolActivity(studio, avatar).build(ctx)  # tool calls answered in this call; offline, QA
    with gr.Accordion("Use this character in your app", open=False):
        gr.Markdown("A React component that calls a server route of yours, and that route in Python. "
                    "The API key stays on your server.")
        react_code = gr.Code(language="javascript", label="React (browser)", interactive=False)
        python_code = gr.Code(language="python", label="Python (server route)", interactive=False)

    ctx.call_avatar = avatar
    inputs = [avatar, personality, start_script, max_duration, tools_on]

    async def configure(avatar_id: str, personality_text: str, script_text: str, duration: float,
                        allowed: list[str] | None):
        name = await _avatar_name(studio, avatar_id)
        enabled = [t["name"] for t in studio.actions.store.session_tools_for(avatar_id).tools]
        tools_off = [n for n in enabled if n not in (allowed or [])]
        config = _config(avatar_id, name, offline, personality_text, script_text, duration or default_duration,
                         room_options, tools_off)
        given = studio.actions.store.session_tools_for(avatar_id, tools_off)  # what this call sends
        return config, react_snippet(avatar_id), python_snippet(avatar_id, int(duration), given.tools, given.answers)

    def character_tools(avatar_id: str):
        """A new character's tools, all on (a switch per tool, for this call only)."""
        names = [t["name"] for t in studio.actions.store.session_tools_for(avatar_id).tools]
        return gr.CheckboxGroup(choices=names, value=names, visible=bool(names))

    async def refresh_choices(current: str):
        choices = await character_choices(studio)
        known = {value for _, value in choices}
        return gr.Dropdown(choices=choices, value=current if current in known else "music-superstar")

    avatar.change(character_tools, avatar, tools_on, show_progress="hidden", api_name=False)
    for control in inputs:
        control.change(configure, inputs, [call, react_code, python_code], show_progress="hidden",
                       api_name=False)
    ctx.tab_objects["call"].select(refresh_choices, avatar, avatar, show_progress="hidden", api_name=False)
    ctx.tab_objects["call"].select(character_tools, avatar, tools_on, show_progress="hidden", api_name=False)
    gr.on([ctx.tab_objects["call"].select], configure, inputs, [call, react_code, python_code],
          show_progress="hidden", api_name=False)


def _config(avatar_id: str, name: str, offline: bool, personality: str, script: str,
            duration: float, room_options: dict[str, Any] | None = None, tools_off: list[str] | None = None) -> str:
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
        roomOptions=room_options,
        toolsOff=tools_off or None,
    )


async def _avatar_name(studio: Any, avatar_id: str) -> str:
    if avatar_id in PRESET_AVATARS:
        return PRESET_AVATARS[avatar_id]
    try:
        avatar = await studio.characters.get_character(avatar_id)
    except StudioError:
        return "Character"
    return avatar["name"]
