"""`GET /api/sessions/changes`: a server-sent event stream that says when the Sessions tab would
change, so an open tab refreshes only then instead of asking every interval.

Each listener gets `event: change` at once (the current mark), then again whenever
`History.changes_mark` differs, checked every refresh interval; with nothing changing it gets a
comment line every KEEPALIVE seconds, so proxies keep the connection open. In a public demo the
mark covers only the visitor's own calls, so the stream says nothing of anyone else's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from server.auth import Access
from server.routes import visitor_scope
from studio.core import Studio

KEEPALIVE = 15.0  # seconds of silence before a comment line
RETRY_MS = 3000  # how soon the browser reconnects after the stream drops


def build_changes_router(studio: Studio, access: Access) -> APIRouter:
    """Before `build_router`, whose `/api/sessions/{id}` would otherwise take the path."""
    router = APIRouter(dependencies=[Depends(access.require)])

    @router.get("/api/sessions/changes")
    async def session_changes(request: Request) -> StreamingResponse:
        client = visitor_scope(studio, request)
        stream = change_events(lambda: studio.history.changes_mark(client), studio.clock.sleep,
                               studio.settings.refresh_interval)
        # Not cached, and not buffered by a proxy in front (nginx reads X-Accel-Buffering).
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    return router


async def change_events(
    mark: Callable[[], Awaitable[str]], sleep: Callable[[float], Awaitable[None]], interval: float,
    keepalive: float = KEEPALIVE,
) -> AsyncIterator[str]:
    """The stream's text: the first mark, each new one, and a comment after `keepalive` quiet
    seconds. Ends when the listener goes (Starlette cancels it)."""
    yield f"retry: {RETRY_MS}\n\n"
    last, quiet = None, 0.0
    while True:
        current = await mark()
        if current != last:
            last, quiet = current, 0.0
            yield f"event: change\ndata: {current}\n\n"
        elif quiet >= keepalive:
            quiet = 0.0
            yield ": still here\n\n"
        await sleep(interval)
        quiet += interval
