"""Optional sign-in that protects the Gradio UI and the JSON routes alike.

Gradio's own `auth` covers only Gradio's routes; the JSON routes accept either the login cookie
Gradio set (the browser's fetches carry it) or HTTP Basic credentials (curl, QA scripts).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from fastapi import Request

from studio.errors import StudioError


class Access:
    def __init__(self, users: tuple[tuple[str, str], ...]) -> None:
        self.users = dict(users)
        self.gradio_app: Any = None  # the mounted Gradio App; set once mounted

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def check_password(self, user: str, password: str) -> bool:
        expected = self.users.get(user)
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def user_for(self, request: Request) -> str | None:
        if not self.enabled:
            return "anonymous"
        return self._basic_user(request) or self._cookie_user(request)

    def require(self, request: Request) -> str:
        """FastAPI dependency: the signed-in user, or a 401 JSON error."""
        user = self.user_for(request)
        if user is None:
            raise StudioError("unauthorized", "Sign in to the studio first.", 401)
        return user

    def _basic_user(self, request: Request) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user if self.check_password(user, password) else None

    def _cookie_user(self, request: Request) -> str | None:
        app = self.gradio_app
        if app is None:
            return None
        token = request.cookies.get(f"access-token-{app.cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{app.cookie_id}"
        )
        return app.tokens.get(token) if token else None
