"""Avatar videos and tasks under /v1, and the host of their rendered MP4s (signed,
expiring URLs, outside /v1 and its API key, like Runway's storage)."""

from __future__ import annotations

import asyncio
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..engine.clip_tasks import OUTPUT_NAME, OUTPUTS_PATH, prepare_speech
from ..errors import ApiError, not_found
from ..http import base_url, empty_response, json_response, path_id, sim, valid_body
from ..validation import check_path_uuid
from . import schemas
from .routes import route

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


@route("/v1/avatar_videos", "POST")
async def create_avatar_video(request: Request) -> Response:
    body = await valid_body(request, schemas.AVATAR_VIDEO_CREATE)
    simulator = sim(request)
    plan = simulator.clip_plan(body)
    # eSpeak, a loopback fetch or an audio decode: off the event loop, outside the lock.
    speech, audio = await run_in_threadpool(prepare_speech, plan, simulator.config)
    return json_response(simulator.create_clip(plan, speech, audio))


@route("/v1/tasks/{id}", "GET")
async def retrieve_task(request: Request) -> Response:
    return json_response(sim(request).get_task(path_id(request), base_url(request)))


@route("/v1/tasks/{id}", "DELETE")
async def delete_task(request: Request) -> Response:
    sim(request).delete_task(path_id(request))
    return empty_response()


@route(OUTPUTS_PATH + "/{id}/{name}", "GET")
async def serve_output(request: Request) -> Response:
    """The MP4, once rendered (the render started at create; this waits for it without
    blocking the loop). Single byte ranges are honoured, as browsers' players ask."""
    task_id = check_path_uuid(request.path_params["id"])
    if request.path_params["name"] != OUTPUT_NAME:
        raise not_found("Output", request.path_params["name"])
    q = request.query_params
    future = sim(request).clip_output(task_id, q.get("Expires"), q.get("Signature"))
    data = await asyncio.wrap_future(future)
    headers = {"accept-ranges": "bytes", "cache-control": "private, max-age=3600"}
    wanted = RANGE_RE.match(request.headers.get("range", "").strip())
    if wanted is None or not any(wanted.groups()):
        return Response(data, media_type="video/mp4", headers=headers)
    first, last = _byte_range(wanted.group(1), wanted.group(2), len(data))
    headers["content-range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], 206, media_type="video/mp4", headers=headers)


def _byte_range(start: str, end: str, size: int) -> tuple[int, int]:
    if start:
        first, last = int(start), min(size - 1, int(end)) if end else size - 1
    else:  # a suffix: the last N bytes
        first, last = max(0, size - int(end)), size - 1
    if first > last or first >= size:
        raise ApiError(416, "Requested range not satisfiable",
                       headers={"content-range": f"bytes */{size}"})  # fmt: skip
    return first, last
