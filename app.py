"""Character Studio: `python app.py` serves the studio (Gradio UI + JSON routes) with uvicorn.

With RUNWAYML_API_SECRET set it talks to Runway; without it, to the embedded local simulator.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount

from pages import call, characters, knowledge, sessions, shell, usage
from pages import clips as clips_page
from pages.context import PageContext
from server.api import build_api
from server.auth import Access
from server.embedded import connect_upstream
from studio.config import Settings, load_settings
from studio.core import Studio

log = logging.getLogger("studio")
GZIP_MINIMUM_BYTES = 1024  # smaller answers gain too little to be worth compressing

TABS = (  # label, id, the page module that draws it
    ("Characters", "characters", characters),
    ("Knowledge", "knowledge", knowledge),
    ("Call", "call", call),
    ("Clips", "clips", clips_page),
    ("Sessions", "sessions", sessions),
    ("Usage", "usage", usage),
)


def build_ui(ctx: PageContext) -> gr.Blocks:
    with gr.Blocks(title=shell.TITLE, analytics_enabled=False) as demo:
        shell.header(ctx)
        ctx.characters_changed, ctx.documents_changed = gr.State(0), gr.State(0)
        with gr.Tabs(overflow_behavior="wrap") as tabs:  # every tab button shown, on phones too
            ctx.tabs = tabs
            for label, tab_id, page in TABS:
                with gr.Tab(label, id=tab_id) as tab:
                    ctx.tab_objects[tab_id] = tab
                    page.build(ctx)
        for finish in ctx.after_build:  # wiring that needs every tab's components to exist
            finish()
    return demo


def build_app(settings: Settings | None = None, clock: Any = None) -> FastAPI:
    """The whole studio as one ASGI app: settings → upstream → Studio → JSON routes + Gradio at "/"."""
    settings = settings or load_settings()
    upstream, stop_upstream = connect_upstream(settings, clock)
    studio = Studio(settings, upstream, clock=clock)
    access = Access(settings.auth_users)
    api = build_api(studio, access, on_close=stop_upstream)
    demo = build_ui(PageContext(studio=studio))
    demo.queue(default_concurrency_limit=16)
    app = gr.mount_gradio_app(
        api, demo, path="/", ssr_mode=False, css=shell.CSS, max_file_size="20mb",
        auth=list(settings.auth_users) or None,
        auth_message="Sign in to Character Studio." if settings.auth_users else None,
        footer_links=[],
    )
    # Gradio checks that a file input names a file uploaded by this client only once the Blocks
    # "has launched", which `mount_gradio_app` never marks: without this, a client could name any
    # server path as an input file and Gradio would copy it into its cache.
    demo.has_launched = True
    access.gradio_app = next(r.app for r in app.routes if isinstance(r, Mount) and isinstance(r.app, gr.routes.App))
    # The page itself, its config and JSON answers go out compressed (Gradio compresses only paths
    # with a file extension). Event streams (text/event-stream) and media stay as they are.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    return app


def server_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """How the studio is served. uvicorn's own X-Forwarded-For handling is off: it would trust
    whatever a loopback peer writes; the studio reads that header itself (see `caller_address`)."""
    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per upstream poll is noise
    settings = load_settings()
    app = build_app(settings)
    print(f"Character Studio ({settings.mode} mode) on http://{settings.host}:{settings.port}", flush=True)
    uvicorn.Server(server_config(app, settings.host, settings.port)).run()


if __name__ == "__main__":
    main()
