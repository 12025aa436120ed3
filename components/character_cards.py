"""Character cards: every custom character (thumbnail, name, voice, live status, what to try next
after a failure) with its actions, and the presets with Call.

Both are `gr.HTML` with their own template CSS and a click script; a button's action reaches
Python as a custom event carrying the character's id (`evt.id`):
`CharacterCards`: open (a click on the card or its name: the character's page), call, edit, duplicate,
ask_delete, confirm_delete, cancel_delete;
`PresetCards`: call.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.text import plain
from studio.catalog.characters import failure_advice
from studio.catalog.voices import voice_label
from studio.vocabulary import ASSET_STATUSES, PRESET_AVATARS, PROCESSING

CARDS_CSS = """
.cs-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 14px; }
.cs-card { border: 1px solid var(--border-color-primary); border-radius: 12px; overflow: hidden;
  background: var(--block-background-fill); display: flex; flex-direction: column; }
.cs-card[data-status="FAILED"] { border-color: #f3b4ab; }
.cs-thumb { aspect-ratio: 1088 / 704; background: linear-gradient(135deg, #e8e8ee, #d4d6e0); position: relative;
  display: flex; align-items: center; justify-content: center; overflow: hidden; }
.cs-thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
.cs-thumb .cs-initials { font: 700 34px/1 system-ui, sans-serif; color: rgba(255,255,255,0.95); }
.cs-thumb.preset { background: linear-gradient(135deg, var(--cs-a), var(--cs-b)); }
.cs-thumb.processing img { filter: saturate(0.4) brightness(0.95); }
.cs-body { padding: 10px 12px 12px; display: flex; flex-direction: column; gap: 6px; flex: 1; }
.cs-title { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.cs-name { font-weight: 650; font-size: 1rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cs-open { font: inherit; font-weight: 650; background: none; border: 0; padding: 0; color: inherit; cursor: pointer;
  text-align: left; text-decoration: underline; text-decoration-color: transparent; }
.cs-open:hover { text-decoration-color: currentColor; }
.cs-grid:not(.presets) .cs-card { cursor: pointer; }
.cs-grid:not(.presets) .cs-card:hover { border-color: var(--border-color-accent, #999); }
.cs-badge { font-size: 0.72rem; font-weight: 700; letter-spacing: 0.04em; padding: 2px 8px; border-radius: 999px;
  white-space: nowrap; }
.cs-badge.READY { background: #dcf5e4; color: #11522b; }
.cs-badge.PROCESSING { background: #fff1c7; color: #6b4d00; }
.cs-badge.FAILED { background: #ffe1dc; color: #8a1c0f; }
.cs-badge.PRESET { background: #e6e8ff; color: #30358f; }
.cs-meta { font-size: 0.83rem; opacity: 0.78; }
.cs-failure { font-size: 0.83rem; background: #fff4f2; color: #7a1d12; border-radius: 8px; padding: 6px 8px;
  line-height: 1.4; }
.cs-failure b { font-weight: 650; }
.cs-bar { height: 3px; border-radius: 2px; background: rgba(0,0,0,0.08); overflow: hidden; }
.cs-bar::after { content: ""; display: block; height: 100%; width: 35%; background: #d39b00;
  animation: cs-slide 1.3s ease-in-out infinite; }
.cs-actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: auto; padding-top: 4px; }
.cs-btn { font: inherit; font-size: 0.82rem; padding: 4px 10px; border-radius: 7px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color); }
.cs-btn:hover:not([disabled]) { filter: brightness(0.96); border-color: var(--border-color-accent, #999); }
.cs-btn.primary { background: var(--button-primary-background-fill, #f97316); color: var(--button-primary-text-color, #fff);
  border-color: transparent; }
.cs-btn.danger { color: #b42318; }
.cs-btn.danger-solid { background: #d92d20; color: #fff; border-color: transparent; }
.cs-btn[disabled] { opacity: 0.45; cursor: not-allowed; }
.cs-confirm { font-size: 0.83rem; background: #fff4f2; color: #7a1d12; border-radius: 8px; padding: 6px 8px;
  display: flex; flex-direction: column; gap: 6px; }
.dark & .cs-failure, .dark & .cs-confirm { background: #3a1714; color: #ffcdc6; }
.cs-empty { border: 1px dashed var(--border-color-primary); border-radius: 12px; padding: 28px; text-align: center;
  opacity: 0.85; }
.cs-grid.presets { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.cs-grid.presets .cs-thumb { aspect-ratio: 1088 / 560; }
.cs-grid.presets .cs-body { padding: 8px 10px 10px; gap: 4px; }
.cs-grid.presets .cs-name { font-size: 0.92rem; white-space: normal; line-height: 1.25; }
"""
# (`cs-slide`, the bar's animation, is in `components.notices.CSS`: keyframes can't nest in a template.)

CARDS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  const card = event.target.closest('.cs-card[data-id]');
  if (!button && card && element.contains(card) && !event.target.closest('.cs-confirm')) {
    window.scrollTo({top: 0});  // the page replaces the list: start at its top
    trigger('open', {id: card.dataset.id || ''});
    return;
  }
  if (!button || button.disabled || !element.contains(button)) return;
  const data = {id: button.dataset.id || ''};
  switch (button.dataset.action) {
    case 'open': window.scrollTo({top: 0}); trigger('open', data); break;
    case 'call': trigger('call', data); break;
    case 'edit': trigger('edit', data); break;
    case 'duplicate': trigger('duplicate', data); break;
    case 'ask_delete': trigger('ask_delete', data); break;
    case 'confirm_delete': trigger('confirm_delete', data); break;
    case 'cancel_delete': trigger('cancel_delete', data); break;
  }
});
"""

PRESET_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action="call"]');
  if (button && element.contains(button)) trigger('call', {id: button.dataset.id || ''});
});
"""

_PRESET_COLOURS = (("#4f46e5", "#db2777"), ("#0ea5e9", "#6366f1"), ("#f59e0b", "#ef4444"),
                   ("#10b981", "#0ea5e9"), ("#8b5cf6", "#ec4899"), ("#14b8a6", "#84cc16"),
                   ("#f97316", "#e11d48"), ("#6366f1", "#14b8a6"), ("#e11d48", "#f59e0b"))


class CharacterCards(gr.HTML):
    """The custom characters' cards; the value is their HTML (`render_cards`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="<div class='cs-empty'>Loading characters…</div>", css_template=CARDS_CSS,
                         js_on_load=CARDS_JS, apply_default_css=False, **kwargs)


class PresetCards(gr.HTML):
    """Runway's preset avatars, each with Call."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value=render_presets(), css_template=CARDS_CSS, js_on_load=PRESET_JS,
                         apply_default_css=False, **kwargs)


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper() or "?"


def render_cards(avatars: list[dict[str, Any]], thumbs: dict[str, str | None], armed: str | None,
                 editable: bool = True) -> str:
    """The character cards; with `editable` False (a public demo) they offer Call alone."""
    if not avatars:
        how = ("Create one with “+ New character”: a photo, a voice and a personality. "
               "It is ready to call in under a minute." if editable else "Call one of the presets below.")
        return f"<div class='cs-empty' data-testid='no-characters'><b>No characters yet.</b><br>{how}</div>"
    return "<div class='cs-grid' data-testid='character-cards'>" + "".join(
        _card(avatar, thumbs.get(avatar["id"]), armed == avatar["id"], editable) for avatar in avatars
    ) + "</div>"


def _card(avatar: dict[str, Any], thumb: str | None, armed: bool, editable: bool) -> str:
    avatar_id, name, status = avatar["id"], avatar.get("name") or "Untitled", avatar.get("status", "")
    picture = (f"<img src='{thumb}' alt='{plain(name)}'>" if thumb
               else f"<span class='cs-initials'>{plain(_initials(name))}</span>")
    documents = len(avatar.get("document_ids") or [])
    meta = f"Voice: {plain(voice_label(avatar.get('voice')))}"
    meta += f" · {documents} document{'s' if documents != 1 else ''}" if documents else ""
    parts = [
        f"<article class='cs-card' data-id='{plain(avatar_id)}' data-name='{plain(name)}' data-status='{plain(status)}'>",
        f"<div class='cs-thumb {'processing' if status == PROCESSING else ''}'>{picture}</div>",
        "<div class='cs-body'>",
        (f"<div class='cs-title'><button class='cs-name cs-open' data-action='open' data-id='{plain(avatar_id)}' "
         f"title='Open the page of {plain(name)}'>{plain(name)}</button>"
         f"<span class='cs-badge {plain(status)}' data-testid='status'>{plain(status)}</span></div>"),
        f"<div class='cs-meta'>{meta}</div>",
    ]
    if status == PROCESSING:
        parts.append("<div class='cs-meta'>Preparing the image…</div><div class='cs-bar'></div>")
    if status == "FAILED":
        reason = avatar.get("failure_reason") or "Runway did not say why."
        parts.append(f"<div class='cs-failure'><b>Why:</b> {plain(reason)}<br><b>Try next:</b> "
                     f"{plain(failure_advice(reason))}</div>")
    if armed and editable:
        parts.append(_delete_confirmation(avatar_id, name))
    parts.append(_actions(avatar_id, status == "READY", editable))
    parts.append("</div></article>")
    return "".join(parts)


def _delete_confirmation(avatar_id: str, name: str) -> str:
    return (f"<div class='cs-confirm'>Delete “{plain(name)}” for good? Calls to it will stop working."
            "<div class='cs-actions'>"
            f"<button class='cs-btn danger-solid' data-action='confirm_delete' data-id='{plain(avatar_id)}'>"
            f"Really delete {plain(name)}</button>"
            f"<button class='cs-btn' data-action='cancel_delete' data-id='{plain(avatar_id)}'>Keep</button>"
            "</div></div>")


def _actions(avatar_id: str, ready: bool, editable: bool) -> str:
    parts = [
        ("<div class='cs-actions'>"
         f"<button class='cs-btn primary' data-action='call' data-id='{plain(avatar_id)}' "
         f"{'' if ready else 'disabled'} title='{'Call this character' if ready else 'Callable once READY'}'>"
         "Call</button>")]
    if editable:
        parts.append(
            f"<button class='cs-btn' data-action='edit' data-id='{plain(avatar_id)}'>Edit</button>"
            f"<button class='cs-btn' data-action='duplicate' data-id='{plain(avatar_id)}'>Duplicate</button>"
            f"<button class='cs-btn danger' data-action='ask_delete' data-id='{plain(avatar_id)}'>Delete</button>")
    parts.append("</div>")
    return "".join(parts)


def render_presets(thumbs: dict[str, str | None] | None = None) -> str:
    """The preset cards: a portrait where one is known (`thumbs`, `data:` URIs by id), else initials."""
    cards = []
    for index, (preset_id, name) in enumerate(PRESET_AVATARS.items()):
        first, second = _PRESET_COLOURS[index % len(_PRESET_COLOURS)]
        thumb = (thumbs or {}).get(preset_id)
        picture = (f"<img src='{thumb}' alt='{plain(name)}' data-testid='portrait'>" if thumb
                   else f"<span class='cs-initials'>{plain(_initials(name))}</span>")
        cards.append(
            f"<article class='cs-card' data-id='{plain(preset_id)}' data-name='{plain(name)}'>"
            f"<div class='cs-thumb preset' style='--cs-a:{first};--cs-b:{second}'>{picture}</div>"
            f"<div class='cs-body'><div class='cs-title'><span class='cs-name' title='{plain(name)}'>{plain(name)}</span>"
            "</div>"
            f"<div class='cs-meta'><code>{plain(preset_id)}</code></div>"
            f"<div class='cs-actions'><button class='cs-btn primary' data-action='call' "
            f"data-id='{plain(preset_id)}'>Call</button></div></div></article>")
    return "<div class='cs-grid presets' data-testid='preset-cards'>" + "".join(cards) + "</div>"


def render_summary(avatars: list[dict[str, Any]]) -> str:
    """"3 characters · 1 processing" above the cards."""
    if not avatars:
        return "<span class='cs-muted'>No custom characters yet</span>"
    counts = {status: sum(1 for a in avatars if a.get("status") == status)
              for status in ASSET_STATUSES}
    bits = [f"{len(avatars)} character{'s' if len(avatars) != 1 else ''}"]
    bits += [f"{count} {status.lower()}" for status, count in counts.items() if count]
    return "<span class='cs-muted'>" + " · ".join(bits) + "</span>"
