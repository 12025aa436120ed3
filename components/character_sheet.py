"""How a character's page reads: its heading (picture, name, status), voice, texts, knowledge with
the share of Runway's knowledge budget it uses, and the caption of its sessions. Pure functions
returning HTML, with `SHEET_CSS` for the `gr.HTML` boxes that show them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.text import plain
from studio.catalog.characters import failure_advice
from studio.catalog.voices import voice_label
from studio.history import TABLE_COLUMNS
from studio.vocabulary import DOCUMENTS_MAX, KNOWLEDGE_TOKENS_PER_CHARACTER, PROCESSING

SHEET_CSS = """
.cp-head { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
.cp-head img { width: 220px; max-width: 100%; aspect-ratio: 1088 / 704; object-fit: cover; border-radius: 12px;
  background: linear-gradient(135deg, #e8e8ee, #d4d6e0); }
.cp-name { font-size: 1.5rem; font-weight: 700; margin: 0 0 4px; }
.cp-badge { font-size: 0.72rem; font-weight: 700; letter-spacing: 0.04em; padding: 2px 8px; border-radius: 999px; }
.cp-badge.READY { background: #dcf5e4; color: #11522b; }
.cp-badge.PROCESSING { background: #fff1c7; color: #6b4d00; }
.cp-badge.FAILED { background: #ffe1dc; color: #8a1c0f; }
.cp-meta { font-size: 0.88rem; opacity: 0.78; margin-top: 4px; }
.cp-section h4 { margin: 0 0 4px; font-size: 0.95rem; }
.cp-text { white-space: pre-wrap; font-size: 0.92rem; line-height: 1.45; max-height: 220px; overflow: auto;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px; }
.cp-empty { opacity: 0.7; font-style: italic; }
.cp-docs { list-style: none; margin: 0 0 8px; padding: 0; font-size: 0.9rem; }
.cp-docs li { display: flex; justify-content: space-between; gap: 10px; padding: 5px 0;
  border-bottom: 1px solid var(--border-color-primary); }
.cp-budget { font-size: 0.88rem; }
.cp-meter { height: 8px; border-radius: 4px; background: rgba(0,0,0,0.08); overflow: hidden; margin: 4px 0; }
.cp-meter span { display: block; height: 100%; background: #16a34a; }
.cp-meter.high span { background: #d39b00; }
.cp-meter.over span { background: #d92d20; }
"""


def _image_url(avatar: dict[str, Any]) -> str:
    version = plain(str(avatar.get("updated_at") or ""))
    return f"/api/avatars/{plain(str(avatar.get('id')))}/image?v={version}"


def render_heading(avatar: dict[str, Any]) -> str:
    """Picture, name, status and, when it FAILED, why and what to try next."""
    name, status = avatar.get("name") or "Untitled", avatar.get("status") or ""
    picture = (f"<img src='{_image_url(avatar)}' alt='{plain(name)}' data-testid='character-image'>"
               if avatar.get("processed_image_uri") or avatar.get("reference_image_uri") else "")
    detail = ""
    if status == PROCESSING:
        detail = "<div class='cp-meta'>Runway is preparing the image; calls work once it is READY.</div>"
    elif status == "FAILED":
        reason = avatar.get("failure_reason") or "Runway did not say why."
        detail = (f"<div class='cp-meta'><b>Why:</b> {plain(reason)} <b>Try next:</b> "
                  f"{plain(failure_advice(reason))}</div>")
    return (f"<div class='cp-head' data-testid='character-heading' data-id='{plain(str(avatar.get('id')))}' "
            f"data-status='{plain(status)}'>"
            f"{picture}<div><div class='cp-name'>{plain(name)}</div>"
            f"<span class='cp-badge {plain(status)}' data-testid='status'>{plain(status)}</span>{detail}</div></div>")


def render_voice(voice: dict[str, Any] | None, describe: Callable[[str], str | None]) -> str:
    """The voice's name and, for a preset, what it sounds like when known."""
    label = voice_label(voice)
    description = (voice or {}).get("description")
    if not description and (voice or {}).get("type") == "runway-live-preset":
        description = describe(str((voice or {}).get("preset_id") or ""))
    extra = f" · {plain(description)}" if description else ""
    return f"<div class='cp-section'><h4>Voice</h4><div data-testid='voice-label'>{plain(label)}{extra}</div></div>"


def voice_player(voice_id: str, autoplay: bool = True) -> str:
    """A player for a voice's sample, which the studio serves (`/api/voices/{id}/sample`)."""
    source = f"/api/voices/{plain(voice_id)}/sample"
    return (f"<audio controls {'autoplay ' if autoplay else ''}preload='auto' src='{source}' "
            "data-testid='voice-sample' style='width:100%'></audio>")


def render_text(title: str, text: str | None, empty: str = "Not set.") -> str:
    body = f"<div class='cp-text'>{plain(text)}</div>" if text else f"<div class='cp-empty'>{plain(empty)}</div>"
    return f"<div class='cp-section'><h4>{plain(title)}</h4>{body}</div>"


def knowledge_budget(documents: list[dict[str, Any]]) -> tuple[int, float]:
    """(tokens used, share of the per-character budget) of some documents with `size`."""
    tokens = sum((d.get("size") or {}).get("tokens", 0) for d in documents)
    return tokens, tokens / KNOWLEDGE_TOKENS_PER_CHARACTER


def render_knowledge(documents: list[dict[str, Any]]) -> str:
    """The attached documents with their sizes, and the budget they use (tokens and documents)."""
    tokens, share = knowledge_budget(documents)
    if documents:
        items = "".join(
            f"<li><span>{plain(d.get('name'))}</span><span class='cp-meta'>"
            f"~{(d.get('size') or {}).get('tokens', 0):,} tokens</span></li>" for d in documents)
        listing = f"<ul class='cp-docs' data-testid='attached-documents'>{items}</ul>"
    else:
        listing = "<div class='cp-empty' data-testid='no-documents'>No documents attached yet.</div>"
    level = "over" if share > 1 else "high" if share > 0.8 else ""
    percent = "under 1%" if 0 < share < 0.01 else f"{share:.0%}"
    note = (" Over the budget: Runway may not read all of it; detach a document or shorten one."
            if share > 1 else "")
    budget = (f"<div class='cp-budget' data-testid='knowledge-budget'>Knowledge budget: ~{tokens:,} of "
              f"{KNOWLEDGE_TOKENS_PER_CHARACTER:,} tokens ({percent}) · {len(documents)} of {DOCUMENTS_MAX} "
              f"documents.{plain(note)}<div class='cp-meter {level}'><span style='width:{min(share, 1):.1%}'></span>"
              "</div></div>")
    return f"<div class='cp-section'>{listing}{budget}</div>"


def render_sessions_caption(count: int) -> str:
    if not count:
        return "<span class='cs-muted' data-testid='sessions-caption'>No sessions with this character yet: " \
               "start a test call above.</span>"
    return (f"<span class='cs-muted' data-testid='sessions-caption'>{count} session{'s' if count != 1 else ''}"
            " with this character, newest first; updates while this page is open.</span>")


SESSIONS_ID = "cp-sessions"
_PHONE_SHARES = {"created (UTC)": 44, "status": 30, "duration": 26}  # % of a phone's width


def _cells(index: int) -> str:
    table = f"#{SESSIONS_ID}"
    return (f"{table} th[data-heading='{index}'], {table} [role='gridcell'][data-col='{index}'], "
            f"{table} .sizing-body td:nth-child({index + 1})")


def _phone_css() -> str:
    """Page CSS: on a phone the character's sessions keep when, status and duration, at full width
    (the avatar column says the same on every row here; the Sessions tab has the rest)."""
    hidden = ", ".join(_cells(i) for i, c in enumerate(TABLE_COLUMNS) if c not in _PHONE_SHARES)
    shares = "\n".join(
        f"  {_cells(i)} {{ width: {_PHONE_SHARES[c]}% !important; min-width: 0 !important; "
        f"max-width: none !important; flex: 0 0 {_PHONE_SHARES[c]}% !important; }}"
        for i, c in enumerate(TABLE_COLUMNS) if c in _PHONE_SHARES)
    table = f"#{SESSIONS_ID}"
    return f"""
@media (max-width: 640px) {{
  {hidden} {{ display: none !important; }}
{shares}
  {table} table {{ table-layout: fixed; width: 100% !important; }}
  {table} .virtual-body {{ width: 100% !important; }}
}}
"""


PHONE_CSS = _phone_css()
