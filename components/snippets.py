"""Code a team can paste to use a character in their own app, with its id filled in."""

from __future__ import annotations

from studio.runway import avatar_reference

_REACT = """\
import {{ AvatarCall }} from '@runwayml/avatars-react';
import '@runwayml/avatars-react/styles.css';

// POSTs {{"avatarId": ...}} to your server route, which returns one-time call credentials.
export function TalkTo{component}() {{
  return <AvatarCall avatarId="{avatar_id}" connectUrl="/api/avatar/session" />;
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
    session = await once.realtime_sessions.create(model="gwm1_avatars", avatar=AVATAR, max_duration={max_duration})
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
    credentials = await once.post(
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


def python_snippet(avatar_id: str, max_duration: int = 300) -> str:
    return _PYTHON.format(avatar=avatar_reference(avatar_id), max_duration=max_duration)
