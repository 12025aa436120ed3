"""Runway's request-level checks for /v1, run by the gateway before routing: the API
key, the version header and the JSON content type."""

from __future__ import annotations

import re

from starlette.routing import compile_path
from starlette.types import Scope

from ..config import RUNWAY_VERSION, SimConfig
from ..errors import ApiError
from ..http import bearer_token, header
from .routes import CONSUME_PATH

V1_PREFIX = "/v1/"
API_KEY_RE = re.compile(r"^key_[0-9a-f]{128}$")
CONSUME_RE = compile_path(CONSUME_PATH)[0]


def check_request(scope: Scope, method: str, path: str, config: SimConfig) -> ApiError | None:
    """The error Runway would answer before routing this request, or None."""
    if not path.startswith(V1_PREFIX):
        return None  # the upload target and file host take no API key
    if not CONSUME_RE.match(path):  # consume authenticates with the session key instead
        error = _check_api_key(scope, config) or _check_version(scope, config)
        if error is not None:
            return error
    if method in ("POST", "PATCH"):
        content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return ApiError(400, "Incorrect content type")
    return None


def _check_api_key(scope: Scope, config: SimConfig) -> ApiError | None:
    auth = header(scope, b"authorization")
    if not auth:
        return ApiError(401, "No API key provided. Send it as `Authorization: Bearer <key>`.")
    key = bearer_token(auth)
    valid = key is not None and (
        key == config.api_key if config.api_key else bool(API_KEY_RE.match(key))
    )
    if not valid:
        return ApiError(
            401,
            "Invalid API key. Check that it is a current key of your "
            "organization and that you are using api.dev.runwayml.com.",
        )
    return None


def _check_version(scope: Scope, config: SimConfig) -> ApiError | None:
    if not config.require_version_header:
        return None
    version = header(scope, b"x-runway-version")
    if version is None:
        return ApiError(
            config.version_error_status,
            f"The X-Runway-Version header is required. Use {RUNWAY_VERSION}.",
        )
    if version != RUNWAY_VERSION:
        return ApiError(
            config.version_error_status,
            f"API version {version!r} is not supported. Use {RUNWAY_VERSION}.",
        )
    return None
