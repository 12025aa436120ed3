"""Runway's request schemas: the body and query of every /v1 endpoint, with the
reference's lengths and ranges, built from the combinators of ``validation.py``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..catalog import (
    MODEL,
    PRESET_AVATARS,
    RUNWAY_URI_SCHEME,
    VOICE_DESIGN_MODELS,
    VOICE_PRESETS,
)
from ..validation import (
    Any_,
    Arr,
    Bool,
    Enum,
    F,
    Literal,
    Nullable,
    Num,
    Obj,
    Query,
    QueryDateTime,
    QueryInt,
    Str,
    Union,
    Uuid,
)

# ---------------------------------------------------------------------------
# Media URIs and URLs

MIN_URI_LENGTH = 13
HTTPS_URL_LENGTH = (MIN_URI_LENGTH, 2048)
RUNWAY_URI_LENGTH = (MIN_URI_LENGTH, 5000)
MAX_DATA_URI_LENGTH = 5 * 1024 * 1024


def _length_problem(value: str, what: str, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    return None if low <= len(value) <= high else f"{what} must be {low}-{high} characters"


def _media_uri_check(kind: str) -> Callable[[str], str | None]:
    """An HTTPS URL, a runway:// upload URI or a base64 data URI of ``kind``."""

    def check(value: str) -> str | None:
        if value.startswith("https://"):
            return _length_problem(value, "HTTPS URLs", HTTPS_URL_LENGTH)
        if value.startswith(RUNWAY_URI_SCHEME):
            return _length_problem(value, "Runway URIs", RUNWAY_URI_LENGTH)
        if value.startswith(f"data:{kind}/"):
            if len(value) > MAX_DATA_URI_LENGTH:
                return "Data URIs must be at most 5MB"
            return None if ";base64," in value else "Data URIs must be base64-encoded"
        return f"Expected an HTTPS URL, a runway:// upload URI or a data:{kind}/ URI"

    return check


def _public_url_check(value: str) -> str | None:
    if not (value.startswith("https://") or value.startswith("wss://")):
        return "Expected a wss:// or https:// URL"
    return None


REFERENCE_IMAGE = Str(min=MIN_URI_LENGTH, check=_media_uri_check("image"))
AUDIO_URI = Str(min=MIN_URI_LENGTH, check=_media_uri_check("audio"))

# ---------------------------------------------------------------------------
# Fields shared by several endpoints (one limit, one place)

PERSONALITY = Str(min=1, max=10_000)
START_SCRIPT_MAX = 2000
AVATAR_NAME = Str(min=1, max=50)
DESCRIPTION = Str(min=1, max=1024)  # tool, parameter and voice descriptions
DOCUMENT_NAME = Str(min=1, max=255)
DOCUMENT_CONTENT = Str(min=1, max=200_000)
VOICE_NAME = Str(min=1, max=100)
VOICE_MODEL = Enum(VOICE_DESIGN_MODELS)
VOICE_PROMPT = Str(min=20, max=1000)
IMAGE_PROCESSING = Enum(("optimize", "none"))
DOCUMENT_IDS = Arr(Uuid(), max=50)

# ---------------------------------------------------------------------------
# Tools, integrations, avatar and voice references

TOOL_NAME = Str(min=1, max=64, pattern=re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$"))


def _param(type_name: str, **extra: F) -> Obj:
    return Obj(
        {
            "type": F(Literal(type_name), True),
            "name": F(TOOL_NAME, True),
            "description": F(DESCRIPTION, True),
            "required": F(Bool(), default=True),
            **extra,
        }
    )


TOOL_PARAMETER = Union(
    "type",
    {
        "string": _param("string", enum=F(Arr(Str(max=64), max=20))),
        "integer": _param("integer"),
        "number": _param("number"),
        "boolean": _param("boolean"),
        "array": _param(
            "array",
            items=F(Obj({"type": F(Enum(("string", "integer", "number", "boolean")), True)}), True),
        ),
        "object": _param("object", properties=F(Arr(Any_(), max=20), True)),
    },
)


def _tool(type_name: str, **extra: F) -> Obj:
    return Obj(
        {
            "type": F(Literal(type_name), True),
            "name": F(TOOL_NAME, True),
            "description": F(DESCRIPTION, True),
            "parameters": F(Arr(TOOL_PARAMETER, max=20), default=list),
            **extra,
        }
    )


TOOL = Union(
    "type",
    {
        "client_event": _tool("client_event"),
        "backend_rpc": _tool("backend_rpc", timeoutSeconds=F(Num(min=1, max=8), default=4)),
    },
)

LIVEKIT_FIELDS = {
    "url": F(Str(min=1, max=2048, check=_public_url_check), True),
    "token": F(Str(min=1, max=2048), True),
    "roomName": F(Str(min=1, max=256), True),
    "agentIdentity": F(Str(min=1, max=256)),
}

INTEGRATION = Union(
    "type",
    {
        "elevenlabs": Obj(
            {
                "type": F(Literal("elevenlabs"), True),
                "signedUrl": F(Str(min=1, max=4096, check=_public_url_check), True),
            }
        ),
        "livekit": Obj({"type": F(Literal("livekit"), True), **LIVEKIT_FIELDS}),
    },
)


def session_avatar(preset_ids: Iterable[str]) -> Union:
    return Union(
        "type",
        {
            "runway-preset": Obj(
                {
                    "type": F(Literal("runway-preset"), True),
                    "presetId": F(Enum(tuple(preset_ids)), True),
                }
            ),
            "custom": Obj({"type": F(Literal("custom"), True), "avatarId": F(Uuid(), True)}),
        },
    )


def avatar_voice(voice_ids: Iterable[str]) -> Union:
    return Union(
        "type",
        {
            "runway-live-preset": Obj(
                {
                    "type": F(Literal("runway-live-preset"), True),
                    "presetId": F(Enum(tuple(voice_ids)), True),
                }
            ),
            "custom": Obj({"type": F(Literal("custom"), True), "id": F(Uuid(), True)}),
        },
    )


AVATAR_VOICE = avatar_voice(VOICE_PRESETS)

# ---------------------------------------------------------------------------
# Request bodies

SESSION_CREATE = Obj(
    {
        "model": F(Literal(MODEL), True),
        "avatar": F(session_avatar(PRESET_AVATARS), True),
        "maxDuration": F(Num(min=10, max=1800, integer=True), default=300),
        "personality": F(PERSONALITY),
        "startScript": F(Str(min=1, max=START_SCRIPT_MAX)),
        "tools": F(Arr(TOOL, max=20), default=list),
        "integration": F(INTEGRATION),
        "livekit": F(Obj(dict(LIVEKIT_FIELDS))),
    }
)

AVATAR_CREATE = Obj(
    {
        "name": F(AVATAR_NAME, True),
        "referenceImage": F(REFERENCE_IMAGE, True),
        "personality": F(PERSONALITY, True),
        "voice": F(AVATAR_VOICE, True),
        "startScript": F(Str(max=START_SCRIPT_MAX)),
        "documentIds": F(DOCUMENT_IDS, default=list),
        "imageProcessing": F(IMAGE_PROCESSING, default="optimize"),
    }
)

AVATAR_UPDATE = Obj(
    {
        "name": F(AVATAR_NAME),
        "referenceImage": F(REFERENCE_IMAGE),
        "personality": F(PERSONALITY),
        "voice": F(AVATAR_VOICE),
        "startScript": F(Nullable(Str(max=START_SCRIPT_MAX))),
        "documentIds": F(DOCUMENT_IDS),
        "imageProcessing": F(IMAGE_PROCESSING),
    },
    at_least_one=True,
)

DOCUMENT_CREATE = Obj({"name": F(DOCUMENT_NAME, True), "content": F(DOCUMENT_CONTENT, True)})

DOCUMENT_UPDATE = Obj({"name": F(DOCUMENT_NAME), "content": F(DOCUMENT_CONTENT)}, at_least_one=True)

VOICE_CREATE = Obj(
    {
        "name": F(VOICE_NAME, True),
        "description": F(Nullable(DESCRIPTION), default=None),
        "from": F(
            Union(
                "type",
                {
                    "text": Obj(
                        {
                            "type": F(Literal("text"), True),
                            "prompt": F(VOICE_PROMPT, True),
                            "model": F(VOICE_MODEL, True),
                        }
                    ),
                    "audio": Obj({"type": F(Literal("audio"), True), "audio": F(AUDIO_URI, True)}),
                },
            ),
            True,
        ),
    }
)

VOICE_UPDATE = Obj(
    {"name": F(VOICE_NAME), "description": F(Nullable(DESCRIPTION))}, at_least_one=True
)

VOICE_PREVIEW = Obj({"model": F(VOICE_MODEL, True), "prompt": F(VOICE_PROMPT, True)})

UPLOAD_CREATE = Obj(
    {
        "filename": F(Str(min=1, max=255), True),
        "type": F(Literal("ephemeral"), True),
    }
)

CLIP_TEXT_MAX = 5000  # characters of a script (Runway's spec: 1-5000)

AVATAR_VIDEO_VOICE = Union(
    "type",
    {
        "preset": Obj(
            {"type": F(Literal("preset"), True), "presetId": F(Enum(tuple(VOICE_PRESETS)), True)}
        ),
        "custom": Obj({"type": F(Literal("custom"), True), "id": F(Uuid(), True)}),
    },
)

AVATAR_VIDEO_CREATE = Obj(
    {
        "model": F(Literal(MODEL), True),
        "avatar": F(session_avatar(PRESET_AVATARS), True),
        "speech": F(
            Union(
                "type",
                {
                    "text": Obj(
                        {
                            "type": F(Literal("text"), True),
                            "text": F(Str(min=1, max=CLIP_TEXT_MAX), True),
                            "voice": F(AVATAR_VIDEO_VOICE),
                        }
                    ),
                    "audio": Obj({"type": F(Literal("audio"), True), "audio": F(AUDIO_URI, True)}),
                },
            ),
            True,
        ),
    }
)

ORG_USAGE = Obj(
    {
        "startDate": F(QueryDateTime(date_only=True)),
        "beforeDate": F(QueryDateTime(date_only=True)),
    }
)

# ---------------------------------------------------------------------------
# Query strings

MAX_PAGE_SIZE = 100
CURSOR = Str(min=1, max=1000)


def page_query(default_limit: int, **extra: F) -> Query:
    return Query(
        {
            "limit": F(QueryInt(1, MAX_PAGE_SIZE), default=default_limit),
            "cursor": F(CURSOR),
            **extra,
        }
    )


AVATAR_LIST = page_query(50)
VOICE_LIST = page_query(50)
DOCUMENT_LIST = page_query(
    50,
    sort=F(Enum(("createdAt", "updatedAt")), default="createdAt"),
    order=F(Enum(("asc", "desc")), default="desc"),
)
CONVERSATION_LIST = page_query(
    20, avatar=F(Uuid()), startDate=F(QueryDateTime()), endDate=F(QueryDateTime())
)
AVATAR_USAGE = Query({"startDate": F(QueryDateTime(), True), "endDate": F(QueryDateTime(), True)})
