"""The studio's JSON side as one FastAPI app: error handlers, health, the session routes and the
call bundle's static files. `app.py` mounts the Gradio UI on top of it; HTTP tests that need no
UI use it alone."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.staticfiles import StaticFiles

from components.avatar_call import STATIC_DIR, STATIC_ROUTE
from server.auth import Access, SignInThrottle
from server.clip_routes import build_clip_router
from server.routes import build_health_router, build_router, install_error_handlers
from server.session_changes import build_changes_router
from studio.core import Studio


def build_api(studio: Studio, access: Access, *, on_close: Callable[[], None] = lambda: None) -> FastAPI:
    """The JSON routes over `studio`; `on_close` runs after the studio closes (stops the simulator)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await studio.open()
        try:
            yield
        finally:
            await studio.close()
            on_close()

    api = FastAPI(title="Character Studio", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    api.state.studio = studio
    install_error_handlers(api)
    api.include_router(build_health_router(studio))
    api.include_router(build_clip_router(studio, access))  # before build_router's /api fallback
    api.include_router(build_changes_router(studio, access))  # before /api/sessions/{id}
    api.include_router(build_router(studio, access))
    api.mount(STATIC_ROUTE, StaticFiles(directory=STATIC_DIR), name="studio-static")
    api.add_middleware(SignInThrottle, caller=lambda scope: _scope_caller(studio, scope), clock=studio.clock)
    return api


def _scope_caller(studio: Studio, scope: dict) -> str:
    peer = scope["client"][0] if scope.get("client") else None
    return studio.caller_id(peer, Headers(scope=scope).get("x-forwarded-for"))
