"""The page frame: header, mode banner (and the public demo notice), and the five tabs."""

from __future__ import annotations

import gradio as gr

from components import clip_views, notices, session_figures, sessions_follower, sessions_table
from components.text import plain
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
.mode-banner.demo { background: #eef2ff; color: #27306b; border: 1px solid #b8c2f5; }
.dark .mode-banner.demo { background: #1c2144; color: #cdd5ff; border-color: #3b4685; }
"""
# A phone (390 px wide) sees the header, the banner's first sentence, every tab button (the tab bar
# wraps onto a second row rather than hiding tabs behind a menu) and the top of the tab.
PHONE_CSS = """
@media (max-width: 640px) {
  .studio-header h1 { font-size: 1.2rem; }
  .studio-header p, .mode-banner .more { display: none; }
  .mode-banner { padding: 0.35rem 0.6rem; font-size: 0.82rem; line-height: 1.35; }
  .tabs [role='tablist'] { flex-wrap: wrap; row-gap: 2px; }
  .tabs [role='tablist'] button { padding: 6px 9px; font-size: 0.92rem; }
}
"""
CSS += (notices.CSS  # the shared message boxes and framed panels
        + PHONE_CSS + sessions_table.PHONE_CSS + session_figures.PHONE_CSS + clip_views.PHONE_CSS
        + sessions_follower.CSS)


def mode_banner(ctx: PageContext) -> str:
    settings = ctx.studio.settings
    if settings.mode == "live":
        return (
            "<div class='mode-banner live' data-mode='live'><b>Live mode</b>: connected to Runway at "
            f"<code>{plain(settings.base_url)}</code>. Calls start real sessions and use credits.</div>"
        )
    return (
        "<div class='mode-banner simulator' data-mode='simulator'><b>Simulator mode</b>: "
        "nothing is billed. <span class='more'>No <code>RUNWAYML_API_SECRET</code> is set, so "
        "everything runs on the embedded local Runway simulator. Calls run through the real "
        "browser SDK, but the character's side (its face, voice and replies) is simulated "
        "offline.</span></div>"
    )


def public_demo_notice() -> str:
    return (
        "<div class='mode-banner demo' data-mode='public-demo' role='note'><b>Public demo</b>: call any "
        "character and follow your own calls in Sessions. Other visitors' calls stay private, and "
        "characters, documents and voices can't be created, edited or deleted here. The owner opens "
        "editing with <code>STUDIO_AUTH</code> (sign-in) or <code>STUDIO_PUBLIC_DEMO=false</code>.</div>"
    )


def header(ctx: PageContext) -> None:
    gr.HTML(
        f"<div class='studio-header'><h1>{TITLE}</h1>"
        "<p>Make Runway Characters, call them live, and watch every session.</p></div>"
    )
    gr.HTML(mode_banner(ctx))
    if ctx.public_demo:
        gr.HTML(public_demo_notice(), elem_id="public-demo-notice")
