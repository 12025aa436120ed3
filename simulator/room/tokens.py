"""LiveKit access tokens: HS256 JWTs signed with an API key's secret.

The claims follow LiveKit's own tokens (``iss`` = API key, ``sub`` = identity, ``nbf``,
``exp``, a ``video`` grant with ``room``/``roomJoin``/``canPublish``/...), plus a ``jti``
that the room uses to refuse a second use of a one-time token. Errors carry LiveKit's
wording and the HTTP status LiveKit answers with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

MAX_TOKEN_LENGTH = 8192
CLOCK_SKEW = 10.0  # seconds of leeway on nbf/exp, as jose libraries allow


class TokenError(Exception):
    """A refused token: ``status`` is the HTTP status, ``str(self)`` LiveKit's message."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Grants:
    """What a verified token allows (only what the room looks at)."""

    identity: str
    room: str
    name: str = ""
    metadata: str = ""
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    hidden: bool = False
    token_id: str = ""
    expires_at: float = 0.0
    attributes: dict[str, str] = field(default_factory=dict)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(message: bytes, secret: str) -> str:
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def mint_token(
    api_key: str,
    api_secret: str,
    *,
    room: str,
    identity: str,
    ttl: float = 3600.0,
    name: str = "",
    metadata: str = "",
    can_publish: bool = True,
    can_subscribe: bool = True,
    can_publish_data: bool = True,
    hidden: bool = False,
    now: float | None = None,
) -> str:
    """An HS256 LiveKit access token that lets ``identity`` join ``room`` for ``ttl`` s."""
    issued = int(time.time() if now is None else now)
    video: dict[str, Any] = {
        "room": room,
        "roomJoin": True,
        "canPublish": can_publish,
        "canSubscribe": can_subscribe,
        "canPublishData": can_publish_data,
    }
    if hidden:
        video["hidden"] = True
    claims: dict[str, Any] = {
        "iss": api_key,
        "sub": identity,
        "nbf": issued,
        "iat": issued,
        "exp": issued + int(ttl),
        "jti": str(uuid.uuid4()),
        "video": video,
    }
    if name:
        claims["name"] = name
    if metadata:
        claims["metadata"] = metadata
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    return f"{header}.{payload}.{_sign(signing_input, api_secret)}"


def _decode_part(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64(part))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise TokenError("invalid authorization token: malformed token") from exc
    if not isinstance(value, dict):
        raise TokenError("invalid authorization token: malformed token")
    return value


def _parse(token: str) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    if not token:
        raise TokenError("invalid authorization header. Must start with Bearer ")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenError("invalid authorization token: malformed token")
    head_part, claims_part, signature = token.split(".")
    return (
        _decode_part(head_part),
        _decode_part(claims_part),
        f"{head_part}.{claims_part}",
        signature,
    )


def _grants_from(claims: dict[str, Any]) -> Grants:
    video = claims.get("video")
    identity = claims.get("sub")
    if not isinstance(video, dict) or not video.get("roomJoin"):
        raise TokenError("permissions denied")
    if not isinstance(identity, str) or not identity:
        raise TokenError("identity cannot be empty", 400)
    room = video.get("room")
    if not isinstance(room, str) or not room:
        raise TokenError("no room name", 400)
    attributes = claims.get("attributes")
    return Grants(
        identity=identity,
        room=room,
        name=str(claims.get("name") or ""),
        metadata=str(claims.get("metadata") or ""),
        can_publish=video.get("canPublish", True) is not False,
        can_subscribe=video.get("canSubscribe", True) is not False,
        can_publish_data=video.get("canPublishData", True) is not False,
        hidden=bool(video.get("hidden", False)),
        token_id=str(claims.get("jti") or ""),
        expires_at=float(claims.get("exp") or 0),
        attributes={str(k): str(v) for k, v in attributes.items()}
        if isinstance(attributes, dict)
        else {},
    )


def verify_token(token: str, secrets: dict[str, str], *, now: float | None = None) -> Grants:
    """Check signature (HS256 only), issuer, ``nbf``/``exp``; return the grants.

    ``secrets`` maps API key -> secret. Raises TokenError with LiveKit's wording.
    """
    header, claims, signing_input, signature = _parse(token)
    if header.get("alg") != "HS256":
        raise TokenError("invalid authorization token: unexpected signature algorithm")
    api_key = claims.get("iss")
    secret = secrets.get(api_key) if isinstance(api_key, str) else None
    if secret is None:
        raise TokenError("invalid API key")
    if not hmac.compare_digest(_sign(signing_input.encode(), secret), signature):
        raise TokenError(
            "invalid authorization token: go-jose/go-jose: error in cryptographic primitive"
        )
    moment = time.time() if now is None else now
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, (int, float)) or moment > exp + CLOCK_SKEW:
        raise TokenError(
            "invalid authorization token: go-jose/go-jose/jwt: validation failed, token is expired (exp)"
        )
    if isinstance(nbf, (int, float)) and moment + CLOCK_SKEW < nbf:
        raise TokenError(
            "invalid authorization token: go-jose/go-jose/jwt: validation failed, token not valid yet (nbf)"
        )
    return _grants_from(claims)
