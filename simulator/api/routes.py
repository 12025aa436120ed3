"""The Runway API surface under /v1, plus the upload target and file host.

Handlers are plain Starlette endpoints (``Request -> Response``): they parse and
validate, then call one Simulator method. Auth, version and content-type checks
already happened in the gateway (app.py, with headers.py).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..config import ROOM_PATH
from ..engine.render import FILES_PATH, UPLOADS_PATH
from ..errors import ApiError, not_found
from ..http import (
    Endpoint,
    base_url,
    bearer_token,
    empty_response,
    json_body,
    json_response,
    optional_body,
    path_id,
    query,
    sim,
    valid_body,
)
from . import schemas

V1_ROUTES: list[Route] = []  # filled by @route below, in declaration order
CONSUME_PATH = "/v1/realtime_sessions/{id}/consume"  # authenticated by the session key


def route(path: str, *methods: str) -> Callable[[Endpoint], Endpoint]:
    def register(endpoint: Endpoint) -> Endpoint:
        V1_ROUTES.append(Route(path, endpoint, methods=list(methods)))
        return endpoint

    return register


# ---------------------------------------------------------------------------- realtime sessions


@route("/v1/realtime_sessions", "POST")
async def create_session(request: Request) -> Response:
    body = await valid_body(request, schemas.SESSION_CREATE)
    return json_response(sim(request).create_session(body))


@route("/v1/realtime_sessions/{id}", "GET")
async def retrieve_session(request: Request) -> Response:
    return json_response(sim(request).get_session(path_id(request)))


@route("/v1/realtime_sessions/{id}", "DELETE")
async def delete_session(request: Request) -> Response:
    sim(request).cancel_session(path_id(request))
    return empty_response()


@route(CONSUME_PATH, "POST")
async def consume_session(request: Request) -> Response:
    bearer = bearer_token(request.headers.get("authorization"))
    session_id = path_id(request)
    await json_body(request)  # must be JSON if present; its content is ignored
    return json_response(sim(request).consume(session_id, bearer, room_url(request)))


@route("/v1/realtime_sessions/{id}/connect_backend", "POST")
async def connect_backend(request: Request) -> Response:
    """Credentials for a hidden backend participant that answers backend_rpc tools."""
    session_id = path_id(request)
    await json_body(request)  # no body, or any JSON (node-rpc sends none, others {})
    return json_response(sim(request).connect_backend(session_id, room_url(request)))


def room_url(request: Request) -> str:
    """Where this very server serves the rooms, as the caller reached it (ws://, wss://)."""
    scheme, _, rest = base_url(request).partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{ROOM_PATH}"


# ---------------------------------------------------------------------------- avatars


@route("/v1/avatars", "POST")
async def create_avatar(request: Request) -> Response:
    body = await valid_body(request, schemas.AVATAR_CREATE)
    return json_response(sim(request).create_avatar(body, base_url(request)))


@route("/v1/avatars", "GET")
async def list_avatars(request: Request) -> Response:
    q = query(request, schemas.AVATAR_LIST)
    return json_response(sim(request).list_avatars(q["limit"], q.get("cursor"), base_url(request)))


@route("/v1/avatars/{id}", "GET")
async def retrieve_avatar(request: Request) -> Response:
    return json_response(sim(request).get_avatar(path_id(request), base_url(request)))


@route("/v1/avatars/{id}", "PATCH")
async def update_avatar(request: Request) -> Response:
    avatar_id = path_id(request)
    body = await valid_body(request, schemas.AVATAR_UPDATE)
    return json_response(sim(request).update_avatar(avatar_id, body, base_url(request)))


@route("/v1/avatars/{id}", "DELETE")
async def delete_avatar(request: Request) -> Response:
    sim(request).delete_avatar(path_id(request))
    return empty_response()


@route("/v1/avatar_usage", "GET")
async def avatar_usage(request: Request) -> Response:
    q = query(request, schemas.AVATAR_USAGE)
    return json_response(sim(request).avatar_usage(q["startDate"], q["endDate"]))


# ---------------------------------------------------------------------------- documents


@route("/v1/documents", "POST")
async def create_document(request: Request) -> Response:
    body = await valid_body(request, schemas.DOCUMENT_CREATE)
    return json_response(sim(request).create_document(body))


@route("/v1/documents", "GET")
async def list_documents(request: Request) -> Response:
    q = query(request, schemas.DOCUMENT_LIST)
    return json_response(
        sim(request).list_documents(
            q["limit"], q.get("cursor"), q["sort"], q["order"], base_url(request)
        )
    )


@route("/v1/documents/{id}", "GET")
async def retrieve_document(request: Request) -> Response:
    return json_response(sim(request).get_document(path_id(request), base_url(request)))


@route("/v1/documents/{id}", "PATCH")
async def update_document(request: Request) -> Response:
    document_id = path_id(request)
    body = await valid_body(request, schemas.DOCUMENT_UPDATE)
    sim(request).update_document(document_id, body)
    return empty_response()  # Runway answers document PATCH with 204, unlike avatars


@route("/v1/documents/{id}", "DELETE")
async def delete_document(request: Request) -> Response:
    sim(request).delete_document(path_id(request))
    return empty_response()


# ---------------------------------------------------------------------------- voices


@route("/v1/voices", "POST")
async def create_voice(request: Request) -> Response:
    body = await valid_body(request, schemas.VOICE_CREATE)
    return json_response(sim(request).create_voice(body))


@route("/v1/voices", "GET")
async def list_voices(request: Request) -> Response:
    q = query(request, schemas.VOICE_LIST)
    return json_response(sim(request).list_voices(q["limit"], q.get("cursor"), base_url(request)))


@route("/v1/voices/preview", "POST")
async def preview_voice(request: Request) -> Response:
    body = await valid_body(request, schemas.VOICE_PREVIEW)
    return json_response(sim(request).voice_preview(body["prompt"], base_url(request)))


@route("/v1/voices/{id}", "GET")
async def retrieve_voice(request: Request) -> Response:
    return json_response(sim(request).get_voice(path_id(request), base_url(request)))


@route("/v1/voices/{id}", "PATCH")
async def update_voice(request: Request) -> Response:
    voice_id = path_id(request)
    body = await valid_body(request, schemas.VOICE_UPDATE)
    return json_response(sim(request).update_voice(voice_id, body, base_url(request)))


@route("/v1/voices/{id}", "DELETE")
async def delete_voice(request: Request) -> Response:
    sim(request).delete_voice(path_id(request))
    return empty_response()


# ---------------------------------------------------------------------------- conversations


@route("/v1/avatar_conversations", "GET")
async def list_conversations(request: Request) -> Response:
    q = query(request, schemas.CONVERSATION_LIST)
    return json_response(
        sim(request).list_conversations(
            q["limit"], q.get("cursor"), q.get("avatar"), q.get("startDate"), q.get("endDate")
        )
    )


@route("/v1/avatar_conversations/{id}", "GET")
async def retrieve_conversation(request: Request) -> Response:
    return json_response(sim(request).get_conversation(path_id(request), base_url(request)))


@route("/v1/avatar_conversations/{id}", "DELETE")
async def delete_conversation(request: Request) -> Response:
    sim(request).delete_conversation(path_id(request))
    return empty_response()


# ---------------------------------------------------------------------------- organization


@route("/v1/organization", "GET")
async def organization(request: Request) -> Response:
    return json_response(sim(request).organization())


@route("/v1/organization/usage", "POST")
async def organization_usage(request: Request) -> Response:
    parsed = await optional_body(request, schemas.ORG_USAGE)
    return json_response(
        sim(request).organization_usage(parsed.get("startDate"), parsed.get("beforeDate"))
    )


# ---------------------------------------------------------------------------- uploads and files


@route("/v1/uploads", "POST")
async def create_upload(request: Request) -> Response:
    body = await valid_body(request, schemas.UPLOAD_CREATE)
    return json_response(sim(request).create_upload(body["filename"], base_url(request)))


@route(UPLOADS_PATH + "/{id}", "POST")
async def receive_upload(request: Request) -> Response:
    """The presigned-POST target (S3-like: multipart fields + ``file``, no auth, 204)."""
    upload_id = request.path_params["id"]
    if not (request.headers.get("content-type") or "").startswith("multipart/form-data"):
        raise ApiError(400, "Expected a multipart/form-data body")
    max_bytes = sim(request).config.max_upload_bytes
    async with request.form(max_files=1, max_fields=50) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(400, "The multipart body has no `file` part")
        data = await upload.read(max_bytes + 1)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        sim(request).receive_upload(upload_id, fields, data, upload.content_type)
    return empty_response()


@route(FILES_PATH + "/{id}", "GET")
async def serve_file(request: Request) -> Response:
    blob = sim(request).get_file(request.path_params["id"])
    if blob is None:
        raise not_found("File", request.path_params["id"])
    return Response(
        blob.data, media_type=blob.content_type, headers={"cache-control": "public, max-age=86400"}
    )
