"""A loopback LiveKit-compatible room (SFU-lite) with a simulated character: the media
half of the Runway stand-in. LiveKit's own clients (livekit-client in the browser, the
``livekit`` Python SDK) join it with a token from ``RoomServer.mint_token``.

    rooms = RoomServer(hooks, RoomSettings())       # hooks: on_join / on_end (spec.py)
    app.router.routes.append(Mount("/livekit", routes=rooms.routes()))
    rooms.open_room(RoomSpec(name, session_id, CharacterSpec(...), max_duration=300))
    token = rooms.mint_token(name, f"user:{session_id}")   # url: ws://<host>:<port>/livekit

Serve with uvicorn's ``ws="websockets"``. Imports nothing of the app.
"""

from .data import USER_TEXT_TOPIC
from .server import RoomServer
from .spec import (
    CLOSED,
    END_CALL,
    LEFT,
    MAX_DURATION,
    CharacterSpec,
    RoomEnding,
    RoomHooks,
    RoomRefused,
    RoomSettings,
    RoomSpec,
)
from .tokens import Grants, TokenError, mint_token, verify_token

__all__ = [
    "CLOSED",
    "END_CALL",
    "LEFT",
    "MAX_DURATION",
    "USER_TEXT_TOPIC",
    "CharacterSpec",
    "Grants",
    "RoomEnding",
    "RoomHooks",
    "RoomRefused",
    "RoomServer",
    "RoomSettings",
    "RoomSpec",
    "TokenError",
    "mint_token",
    "verify_token",
]
