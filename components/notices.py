"""How an action went, in a box: the message under a form, a character's progress, an image's
pre-flight report. Shared by the Characters and Knowledge tabs and the voice studio.

`CSS` holds their styles, and those of the catalog forms (field errors, muted notes, the framed
`studio-panel` columns); it goes into the page's stylesheet (`gr.mount_gradio_app(css=...)`),
because field errors and panels are Gradio's own components, not `gr.HTML` with a template.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from components import character_sheet
from components.text import plain
from studio.catalog.characters import failure_advice
from studio.catalog.images import ImageReport
from studio.vocabulary import PROCESSING

CSS = """
.cs-error p, .cs-error { color: #b42318 !important; font-size: 0.86rem !important; margin: -4px 0 2px 2px; }
.dark .cs-error p, .dark .cs-error { color: #ff9b8f !important; }
.cs-section-title h3 { margin: 0 !important; }
.cs-muted, .cs-muted p { opacity: 0.75; font-size: 0.88rem; }
.studio-panel.studio-panel { border: 1px solid var(--border-color-primary); border-radius: 12px;
  padding: 12px 14px; background: var(--block-background-fill); }
.cs-report { border-radius: 8px; padding: 8px 10px; font-size: 0.88rem; line-height: 1.45;
  border: 1px solid var(--border-color-primary); }
.cs-report.ok { border-color: #9fd9b4; background: #f0faf3; color: #14532d; }
.cs-report.bad { border-color: #f3b4ab; background: #fff4f2; color: #7a1d12; }
.dark .cs-report.ok { background: #132a1c; color: #b9ecc9; border-color: #2d6b44; }
.dark .cs-report.bad { background: #3a1714; color: #ffcdc6; border-color: #7a2c23; }
.cs-report ul { margin: 4px 0 0 18px; padding: 0; }
.cs-report .warn { color: #8a5a00; }
.dark .cs-report .warn { color: #f6d58a; }
.cs-progress { border-radius: 10px; padding: 10px 12px; font-size: 0.92rem; line-height: 1.45;
  border: 1px solid var(--border-color-primary); }
.cs-progress.processing { background: #fff8e6; border-color: #f0d68a; color: #5b4400; }
.cs-progress.ready { background: #eefaf2; border-color: #9fd9b4; color: #11522b; }
.cs-progress.failed, .cs-progress.error { background: #fff3f1; border-color: #f3b4ab; color: #7a1d12; }
.cs-progress.info { background: var(--block-background-fill); }
.dark .cs-progress.processing { background: #3a3115; color: #f6e3a4; border-color: #6b5a22; }
.dark .cs-progress.ready { background: #14321f; color: #b9ecc9; border-color: #2d6b44; }
.dark .cs-progress.failed, .dark .cs-progress.error { background: #3a1714; color: #ffcdc6; border-color: #7a2c23; }
.cs-bar { height: 4px; border-radius: 2px; margin-top: 8px; background: rgba(0,0,0,0.08); overflow: hidden; }
.cs-bar::after { content: ""; display: block; height: 100%; width: 35%; border-radius: 2px;
  background: #d39b00; animation: cs-slide 1.3s ease-in-out infinite; }
@keyframes cs-slide { 0% { transform: translateX(-100%); } 100% { transform: translateX(300%); } }
#cs-upload-guard { display: none !important; }  /* a script only: it takes no room */
/* Phones: each tab's main action in the first screen (Knowledge: adding a document comes first). */
@media (max-width: 760px) {
  #kn-add-column { display: contents; }
  #kn-add { order: -1; flex: 1 1 100%; }
  #kn-attach-panel { order: 1; flex: 1 1 100%; }
  #cs-list-head { flex-wrap: wrap; gap: 6px; }
  #cs-list-head > .cs-section-title, #cs-list-head > #cs-summary { flex: 1 1 100% !important; }
  #cs-list-head > button { flex: 1 1 40% !important; }
  #cs-presets .cs-grid.presets { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
""" + character_sheet.PHONE_CSS

PANEL = "studio-panel"  # elem_classes of a framed column


def message_box(text: str, kind: str = "error") -> str:
    """A one-line outcome: kind is "error", "ready" or "info" (nothing at all for no text)."""
    return f"<div class='cs-progress {kind}' data-kind='{kind}'>{plain(text)}</div>" if text else ""


def shown(value: str) -> Any:
    """An HTML box that takes no room while empty."""
    return gr.HTML(value=value, visible=bool(value))


def render_progress(avatar: dict[str, Any] | None) -> str:
    """Where a character being made or edited stands: processing, READY, or FAILED and why."""
    if avatar is None:
        return ""
    name = plain(avatar.get("name"))
    status = avatar.get("status")
    if status == PROCESSING:
        return (f"<div class='cs-progress processing' data-status='PROCESSING'><b>Processing “{name}”…</b> "
                "Runway is preparing the reference image; this usually takes a few seconds. "
                "This box and the card update by themselves.<div class='cs-bar'></div></div>")
    if status == "READY":
        return (f"<div class='cs-progress ready' data-status='READY'><b>“{name}” is READY.</b> "
                "Use <b>Call</b> on its card to talk to it, or open the card for its page.</div>")
    if status == "FAILED":
        reason = avatar.get("failure_reason") or "Runway did not say why."
        return (f"<div class='cs-progress failed' data-status='FAILED'><b>“{name}” FAILED:</b> {plain(reason)}"
                f"<br><b>What to try next:</b> {plain(failure_advice(reason))}</div>")
    return ""


def render_report(report: ImageReport, cropped: bool) -> str:
    """A reference image's pre-flight: why it can't be used, or its facts and advice."""
    if not report.ok:
        items = "".join(f"<li>{plain(p)}</li>" for p in report.problems)
        return f"<div class='cs-report bad' data-ok='false'><b>This image can't be used.</b><ul>{items}</ul></div>"
    size = (f"{report.size_bytes / 1_000_000:.1f} MB" if report.size_bytes >= 100_000
            else f"{report.size_bytes / 1000:.0f} KB")
    facts = [f"{report.format} · {report.width}×{report.height} · {size}"]
    if report.exif_orientation != 1:
        facts.append("phone rotation (EXIF) applied")
    if report.mode and report.mode not in ("RGB",):
        facts.append(f"colour converted from {report.mode} to RGB")
    warnings = "".join(f"<li class='warn'>{plain(w)}</li>" for w in report.warnings
                       if not cropped or "cut from" not in w)
    body = f"<b>✓ Ready to use.</b> {plain(' · '.join(facts))}"
    return f"<div class='cs-report ok' data-ok='true'>{body}{f'<ul>{warnings}</ul>' if warnings else ''}</div>"
