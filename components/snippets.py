"""Code a team can paste to use a character in their own app, with its id filled in."""

from __future__ import annotations

import pprint
from typing import Any

from studio.runway import avatar_reference

_REACT = """\
import {{ AvatarCall }} from '@runwayml/avatars-react';
import '@runwayml/avatars-react/styles.css';

// POSTs {{"avatarId": ...}} to your server route, which returns one-time call credentials.
export function TalkTo{component}() {{
  // The character's client_event tools arrive here as {{tool, args}} (show a card, a link…).
  const onClientEvent = (event) => {{
    console.log('tool', event.tool, 'fired with', event.args);
  }};
  return <AvatarCall avatarId="{avatar_id}" connectUrl="/api/avatar/session" onClientEvent={{onClientEvent}} />;
}}
"""

_PYTHON = """\
# pip install runwayml fastapi uvicorn   (the key stays on the server: RUNWAYML_API_SECRET)
import asyncio

from fastapi import FastAPI, HTTPException
from runwayml import AsyncRunwayML

client = AsyncRunwayML()
once = client.with_options(max_retries=0)  # creates and consumes must not be retried blindly
app = FastAPI()
AVATAR = {avatar!r}


@app.post("/api/avatar/session")
async def avatar_session() -> dict:
    session = await once.realtime_sessions.create(model="gwm1_avatars", avatar=AVATAR, max_duration={max_duration}{tools_arg})
    for _ in range(90):  # poll until READY (usually about a second)
        state = await client.realtime_sessions.retrieve(session.id)
        if state.status == "READY":
            break
        if state.status in ("FAILED", "CANCELLED", "COMPLETED"):
            raise HTTPException(502, getattr(state, "failure", None) or "session ended early")
        await asyncio.sleep(1)
    else:
        await client.realtime_sessions.delete(session.id)
        raise HTTPException(504, "session was not ready in time")
{backend_start}    credentials = await once.post(
        f"/v1/realtime_sessions/{{session.id}}/consume", cast_to=object, body={{}},
        options={{"headers": {{"Authorization": f"Bearer {{state.session_key}}"}}}},
    )
    # camelCase keys, exactly as AvatarCall expects them
    return {{"sessionId": session.id, "serverUrl": credentials["url"],
            "token": credentials["token"], "roomName": credentials["roomName"]}}
"""


def react_snippet(avatar_id: str) -> str:
    component = "".join(part.capitalize() for part in avatar_id.replace("_", "-").split("-")[:3] if part.isalpha())
    return _REACT.format(avatar_id=avatar_id, component=component or "Character")


def python_snippet(avatar_id: str, max_duration: int = 300, tools: list[dict[str, Any]] | None = None,
                   answers: dict[str, dict[str, Any]] | None = None) -> str:
    """The server route; with tools, it sends them, and answers backend_rpc tools as configured."""
    tools = tools or []
    backend = [t for t in tools if t.get("type") == "backend_rpc"]
    code = _PYTHON.format(avatar=avatar_reference(avatar_id), max_duration=max_duration,
                          tools_arg=", tools=TOOLS" if tools else "",
                          backend_start=_BACKEND_START if backend else "")
    if not tools:
        return code
    head, _, rest = code.partition("client = AsyncRunwayML()")
    declared = f"TOOLS = {_literal(tools)}\n"
    if backend:
        head = head.replace("fastapi uvicorn", "fastapi uvicorn livekit httpx")
        declared += _backend_code(backend, answers or {})
    return head + declared + "\nclient = AsyncRunwayML()" + rest


# The backend for backend_rpc tools, built on Character Studio's `studio/actions/rpc_backend.py`
# (one file, needing only `livekit` and `httpx`: copy it beside this one).
_BACKEND = """\
# backend_rpc tools: this server joins the call's room as a hidden participant and answers them.
from rpc_backend import RpcBackend, fixed_reply, forward_to, template_reply  # copied from Character Studio

ANSWERS = {{
{handlers}
}}
BACKENDS: set[asyncio.Task] = set()  # running backends, one per call


async def answer_tools(session_id: str) -> None:
    credentials = await once.post(f"/v1/realtime_sessions/{{session_id}}/connect_backend", cast_to=object, body={{}})
    closed = asyncio.Event()
    backend = RpcBackend(ANSWERS, on_call=print, on_disconnect=closed.set)
    await backend.join(credentials["url"], credentials["token"])
    await closed.wait()  # the room closes when the call ends
    await backend.leave()
"""
_BACKEND_START = """\
    task = asyncio.create_task(answer_tools(session.id))  # joins before the browser does
    BACKENDS.add(task)
    task.add_done_callback(BACKENDS.discard)
"""


def _backend_code(tools: list[dict[str, Any]], answers: dict[str, dict[str, Any]]) -> str:
    lines = []
    for tool in tools:
        answer = answers.get(tool["name"]) or {"kind": "fixed", "reply": {"ok": True}}
        if answer["kind"] == "forward":
            made = f"forward_to({answer['url']!r}, timeout={answer['timeoutSeconds']!r})"
        else:
            maker = "template_reply" if answer["kind"] == "template" else "fixed_reply"
            made = f"{maker}({_literal(answer['reply'])})"
        lines.append(f"    {tool['name']!r}: {made},")
    return "\n" + _BACKEND.format(handlers="\n".join(lines)) + "\n"


def _literal(value: Any) -> str:
    """A Python literal of JSON data (True, not true), laid out to read."""
    return pprint.pformat(value, indent=1, width=100, sort_dicts=False)
