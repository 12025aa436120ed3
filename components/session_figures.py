"""The strip of figures above the Sessions table: sessions today, success rate, latencies,
minutes and estimated credits (a `gr.HTML` with its own CSS)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.text import plain
from studio.history import Figures

CSS = """
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px; }
.figure { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px;
          background: var(--block-background-fill); }
.figure .name { font-size: 0.8rem; opacity: 0.7; }
.figure .value { font-size: 1.35rem; font-weight: 600; line-height: 1.3; }
.figure .more { font-size: 0.78rem; opacity: 0.7; }
"""

# On a phone the six figures sit three to a row, smaller, so the table starts on the first screen.
PHONE_CSS = """
@media (max-width: 640px) {
  #sessions-figures .figures { grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 6px; }
  #sessions-figures .figure { padding: 5px 7px; }
  #sessions-figures .figure .name, #sessions-figures .figure .more { font-size: 0.7rem; }
  #sessions-figures .figure .value { font-size: 1rem; }
}
"""


def session_figures(credits_per_minute: float, **kwargs: Any) -> gr.HTML:
    """The (empty) strip; update it with `figures_html`. Keyword arguments go to gr.HTML."""
    return gr.HTML(figures_html(None, credits_per_minute), css_template=CSS, **kwargs)


def figures_html(figures: Figures | None, credits_per_minute: float) -> str:
    if figures is None:
        return "<div class='figures'></div>"
    f = figures
    rate = "–" if f.success_rate is None else f"{f.success_rate:.0%}"
    return "<div class='figures'>" + "".join([
        _figure("Sessions today", f"{f.today:,}", f"{f.open} open now", "today"),
        _figure("Success rate", rate, f"{f.completed} completed of {f.ended} ended", "success"),
        _figure("Time to READY", f"p50 {_secs(f.ready_p50)}", f"p95 {_secs(f.ready_p95)}", "ready"),
        _figure("Time to first frame", f"p50 {_secs(f.frame_p50)}", f"p95 {_secs(f.frame_p95)}",
                "first-frame"),
        _figure("Minutes used", f"{f.minutes:,.1f}", f"in {f.sessions:,} sessions", "minutes"),
        _figure("Estimated credits", f"{f.credits:,.0f}",
                f"≈ ${f.usd:,.2f} at {credits_per_minute:g} credits/min", "credits"),
    ]) + "</div>"


def _figure(name: str, value: str, more: str = "", key: str = "") -> str:
    return (f"<div class='figure' data-figure='{key}'><div class='name'>{plain(name)}</div>"
            f"<div class='value'>{plain(value)}</div>"
            f"<div class='more'>{plain(more)}</div></div>")


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"
