"""Request schemas of every /v1 endpoint, with the reference's lengths and ranges."""

from __future__ import annotations

from .catalog import MODEL, PRESET_AVATARS, VOICE_DESIGN_MODELS, VOICE_PRESETS
from .validation import (
    Arr,
    AudioUri,
    Enum,
    F,
    Integration,
    Literal,
    Nullable,
    Num,
    Obj,
    Query,
    QueryDateTime,
    ReferenceImage,
    Str,
    Tool,
    Union,
    Uuid,
    avatar_voice,
    livekit_fields,
    page_query,
    session_avatar,
)

SESSION_CREATE = Obj(
    {
        "model": F(Literal(MODEL), True),
        "avatar": F(session_avatar(PRESET_AVATARS), True),
        "maxDuration": F(Num(min=10, max=1800, integer=True), default=300),
        "personality": F(Str(min=1, max=10_000)),
        "startScript": F(Str(min=1, max=2000)),
        "tools": F(Arr(Tool, max=20), default=list),
        "integration": F(Integration),
        "livekit": F(Obj(dict(livekit_fields))),
    }
)

_VOICE = avatar_voice(VOICE_PRESETS)
_IMAGE_PROCESSING = Enum(("optimize", "none"))
_DOCUMENT_IDS = Arr(Uuid(), max=50)

AVATAR_CREATE = Obj(
    {
        "name": F(Str(min=1, max=50), True),
        "referenceImage": F(ReferenceImage, True),
        "personality": F(Str(min=1, max=10_000), True),
        "voice": F(_VOICE, True),
        "startScript": F(Str(max=2000)),
        "documentIds": F(_DOCUMENT_IDS, default=list),
        "imageProcessing": F(_IMAGE_PROCESSING, default="optimize"),
    }
)

AVATAR_UPDATE = Obj(
    {
        "name": F(Str(min=1, max=50)),
        "referenceImage": F(ReferenceImage),
        "personality": F(Str(min=1, max=10_000)),
        "voice": F(_VOICE),
        "startScript": F(Nullable(Str(max=2000))),
        "documentIds": F(_DOCUMENT_IDS),
        "imageProcessing": F(_IMAGE_PROCESSING),
    },
    at_least_one=True,
)

DOCUMENT_CREATE = Obj(
    {
        "name": F(Str(min=1, max=255), True),
        "content": F(Str(min=1, max=200_000), True),
    }
)

DOCUMENT_UPDATE = Obj(
    {
        "name": F(Str(min=1, max=255)),
        "content": F(Str(min=1, max=200_000)),
    },
    at_least_one=True,
)

_VOICE_MODEL = Enum(VOICE_DESIGN_MODELS)
_PROMPT = Str(min=20, max=1000)

VOICE_CREATE = Obj(
    {
        "name": F(Str(min=1, max=100), True),
        "description": F(Nullable(Str(min=1, max=1024)), default=None),
        "from": F(
            Union(
                "type",
                {
                    "text": Obj(
                        {
                            "type": F(Literal("text"), True),
                            "prompt": F(_PROMPT, True),
                            "model": F(_VOICE_MODEL, True),
                        }
                    ),
                    "audio": Obj({"type": F(Literal("audio"), True), "audio": F(AudioUri, True)}),
                },
            ),
            True,
        ),
    }
)

VOICE_UPDATE = Obj(
    {
        "name": F(Str(min=1, max=100)),
        "description": F(Nullable(Str(min=1, max=1024))),
    },
    at_least_one=True,
)

VOICE_PREVIEW = Obj({"model": F(_VOICE_MODEL, True), "prompt": F(_PROMPT, True)})

UPLOAD_CREATE = Obj(
    {
        "filename": F(Str(min=1, max=255), True),
        "type": F(Literal("ephemeral"), True),
    }
)

ORG_USAGE = Obj(
    {
        "startDate": F(QueryDateTime(date_only=True)),
        "beforeDate": F(QueryDateTime(date_only=True)),
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
