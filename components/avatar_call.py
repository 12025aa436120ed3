"""The avatar-call component: a `gr.HTML` that hosts the studio's call controller.

The controller script (small, plain JS) loads with the page; the LiveKit bundle with the real
`@runwayml/avatars-react` SDK (~240 KB gzip) is fetched only when a call starts. The browser asks
the studio's own `POST /api/avatar/session` for credentials, so the API key never reaches it.
The component's value is the call configuration as JSON; a change while a call is live waits
until that call ends.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import gradio as gr

from components.text import plain
from studio.errors import StudioError
from studio.vocabulary import PRESET_AVATARS, READY

STATIC_DIR = Path(__file__).parent / "static"
STATIC_ROUTE = "/studio-static"

# LiveKit options for a call in the embedded simulator's own room, which speaks LiveKit's first
# signalling path only: asking it for the newer one first logs a failed request in the console.
EMBEDDED_ROOM_OPTIONS = {"singlePeerConnection": False}

_BUSY_STATES = ("requesting", "waiting", "queued", "starting", "connecting", "live")

MOUNT_JS = """
const host = element.querySelector('.studio-call-host');
let call = null;
let pending = null;
const busy = () => call && %(busy)s.includes(call.state);
function mount(raw) {
  let config = {};
  try { config = JSON.parse(raw || '{}'); } catch (e) { console.error('avatar-call: bad config', e); }
  if (call) call.destroy();
  config.onStateChange = (state) => {
    host.dataset.callState = state;
    if (pending !== null && !busy()) { const next = pending; pending = null; mount(next); }
  };
  call = window.StudioCallController.create(host, config);
}
mount(props.value);
watch('value', () => { if (busy()) { pending = props.value; } else { mount(props.value); } });
""" % {"busy": json.dumps(list(_BUSY_STATES))}


@cache
def static_url(name: str) -> str:
    """The URL of a static file, with a content hash so a redeploy is never served stale."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_ROUTE}/{name}?v={digest}"


def call_config(**fields: Any) -> str:
    """The component value: the controller's configuration, with the bundle's URLs filled in."""
    base = {"bundleUrl": static_url("avatar-call.js"), "cssUrl": static_url("avatar-call.css")}
    return json.dumps(base | {k: v for k, v in fields.items() if v is not None})


def preset_choices() -> list[tuple[str, str]]:
    return [(f"{name} (preset: {preset_id})", preset_id) for preset_id, name in PRESET_AVATARS.items()]


async def character_choices(studio: Any) -> list[tuple[str, str]]:
    """Every character a call can be made with: the presets, then the custom ones that are READY.

    The Call tab's picker and every "Call" shortcut set their choices from here, so a shortcut
    always offers the character it points at, whether or not the Call tab was opened before.
    """
    try:
        avatars = await studio.characters.list_characters()
        studio.history.remember_names({a["id"]: a.get("name") for a in avatars})
    except StudioError as error:
        gr.Warning(plain(f"Could not list your characters: {error.message}"))  # toasts render HTML
        avatars = []
    custom = [(f"{a['name']} (custom)", a["id"]) for a in avatars if a.get("status") == READY]
    return preset_choices() + custom


class AvatarCall(gr.HTML):
    """A live call with one character; `value` is the JSON from `call_config`."""

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        super().__init__(
            value=value or call_config(),
            html_template="<div class='studio-call-host'></div>",
            js_on_load=MOUNT_JS,
            head=(
                f'<link rel="stylesheet" href="{static_url("call-controller.css")}">'
                f'<script src="{static_url("call-controller.js")}"></script>'
                f'<script src="{static_url("tool-events.js")}"></script>'
            ),
            apply_default_css=False,
            **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {"type": "string", "description": "call configuration as JSON"}
