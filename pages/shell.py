"""The page frame: header, mode banner, and the five tabs."""

from __future__ import annotations

import gradio as gr

from pages.context import PageContext

TITLE = "Character Studio"

CSS = """
.studio-header h1 { margin: 0; font-size: 1.6rem; }
.studio-header p { margin: 0.2rem 0 0; opacity: 0.75; }
.mode-banner { border-radius: 10px; padding: 0.6rem 0.9rem; font-size: 0.95rem; }
.mode-banner.simulator { background: #fff7e0; color: #5b4400; border: 1px solid #f0d68a; }
.mode-banner.live { background: #e6f6ec; color: #11522b; border: 1px solid #9fd9b4; }
.dark .mode-banner.simulator { background: #3a3115; color: #f6e3a4; border-color: #6b5a22; }
.dark .mode-banner.live { background: #14321f; color: #b9ecc9; border-color: #2d6b44; }
"""


def mode_banner(ctx: PageContext) -> str:
    settings = ctx.studio.settings
    if settings.mode == "live":
        return (
            "<div class='mode-banner live' data-mode='live'><b>Live mode</b>: connected to Runway at "
            f"<code>{settings.base_url}</code>. Calls start real sessions and use credits.</div>"
        )
    return (
        "<div class='mode-banner simulator' data-mode='simulator'><b>Simulator mode</b>: no "
        "<code>RUNWAYML_API_SECRET</code> is set, so everything runs on the embedded local Runway "
        "simulator. Nothing is billed; calls are simulated.</div>"
    )


def header(ctx: PageContext) -> None:
    gr.HTML(
        f"<div class='studio-header'><h1>{TITLE}</h1>"
        "<p>Make Runway Characters, call them live, and watch every session.</p></div>"
    )
    gr.HTML(mode_banner(ctx))
