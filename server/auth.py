"""Optional sign-in that protects the Gradio UI and the JSON routes alike.

Gradio's own `auth` covers only Gradio's routes; the JSON routes accept either the login cookie
Gradio set (the browser's fetches carry it) or HTTP Basic credentials (curl, QA scripts).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections import OrderedDict, deque
from collections.abc import Callable
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


class SignInThrottle:
    """ASGI middleware: an address with too many failed sign-ins in a window is refused for a while.

    Failed sign-ins are Gradio's `POST /login` answered 400 and JSON requests whose HTTP Basic
    credentials are refused (401). While an address is over the limit its sign-in attempts get a
    429 without being checked, so guessing a password costs hours, not seconds.
    """

    LOGIN_PATHS = ("/login", "/login/")

    def __init__(self, app: Any, *, caller: Callable[[dict], str], clock: Any,
                 limit: int = 10, window: float = 300.0, max_tracked: int = 10_000) -> None:
        self.app, self.caller, self.clock = app, caller, clock
        self.limit, self.window, self.max_tracked = limit, window, max_tracked
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        login = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.LOGIN_PATHS
        if not (login or (scope["type"] == "http" and _carries_basic_auth(scope))):
            await self.app(scope, receive, send)
            return
        address = self.caller(scope)
        if self._blocked(address):
            await _too_many_attempts(send, self.window)
            return
        status = {}

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status.get("code") == 401 or (login and status.get("code") == 400):
            self._record_failure(address)

    def _recent(self, address: str) -> deque[float]:
        times = self._failures.get(address, deque())
        while times and times[0] <= self.clock.now() - self.window:
            times.popleft()
        return times

    def _blocked(self, address: str) -> bool:
        return len(self._recent(address)) >= self.limit

    def _record_failure(self, address: str) -> None:
        times = self._recent(address)
        times.append(self.clock.now())
        self._failures[address] = times
        self._failures.move_to_end(address)
        while len(self._failures) > self.max_tracked:
            self._failures.popitem(last=False)


def _carries_basic_auth(scope: dict) -> bool:
    return any(name == b"authorization" and value[:6].lower() == b"basic " for name, value in scope["headers"])


async def _too_many_attempts(send: Any, window: float) -> None:
    body = json.dumps({"error": f"Too many failed sign-ins from this address. Try again in {window / 60:g} minutes.",
                       "code": "too_many_sign_ins"}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(int(window)).encode())]})
    await send({"type": "http.response.body", "body": body})
