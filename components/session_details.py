"""The HTML parts of one session's details: its lifecycle as a table of moments, and its
transcript as chat bubbles (each a `gr.HTML` with the CSS below). Every value is upstream or
caller text, so every value is escaped."""

from __future__ import annotations

from typing import Any

import gradio as gr

from components.text import plain
from studio.history import SessionDetails, iso_utc
from studio.vocabulary import OPEN_STATUSES

CSS = """
table.timeline { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin-top: 4px;
                 border: none; }
table.timeline td, table.timeline th { padding: 3px 8px; border: none; text-align: left;
                                       border-bottom: 1px solid var(--border-color-primary); }
table.timeline th { font-weight: 500; opacity: 0.7; }
table.timeline thead, table.timeline tbody, table.timeline tr { border: none; }
table.timeline td.offset { font-variant-numeric: tabular-nums; text-align: right;
                           white-space: nowrap; }
.transcript { display: flex; flex-direction: column; gap: 6px; font-size: 0.9rem; max-height: 360px;
              overflow-y: auto; }
.transcript .line { padding: 6px 10px; border-radius: 10px; max-width: 85%; }
.transcript .user { align-self: flex-end; background: var(--color-accent-soft); }
.transcript .assistant { align-self: flex-start; background: var(--block-background-fill);
                         border: 1px solid var(--border-color-primary); }
.transcript .role { font-size: 0.72rem; opacity: 0.65; display: block; }
.empty { opacity: 0.7; font-style: italic; }
.transcript .used-tools { font-size: 0.8rem; opacity: 0.8; }
"""


def details_html(**kwargs: Any) -> gr.HTML:
    """An (empty) HTML block styled for the details; keyword arguments go to gr.HTML."""
    return gr.HTML(css_template=CSS, **kwargs)


def timeline_html(details: SessionDetails) -> str:
    if not details.timeline:
        return "<b>Lifecycle</b><p class='empty'>No lifecycle events recorded.</p>"
    rows = "".join(
        f"<tr><td class='offset'>{_offset(e['offset'])}</td>"
        f"<td>{plain(e['name'].replace('_', ' '))}</td>"
        f"<td>{plain(iso_utc(e['at'])[11:])}</td>"
        f"<td>{plain(e['detail'] or '')}</td></tr>"
        for e in details.timeline
    )
    since = "after request" if details.request_id else "after creation"
    return (f"<b>Lifecycle</b><table class='timeline'><thead><tr><th>{since}</th>"
            f"<th>event</th><th>UTC</th><th>detail</th></tr></thead><tbody>{rows}</tbody></table>")


def _offset(seconds: float | None) -> str:
    return "" if seconds is None else f"+{seconds:.2f} s"


def transcript_html(details: SessionDetails) -> str:
    if not details.transcript:
        why = ("The transcript appears once the session has completed."
               if details.status in OPEN_STATUSES
               else "No transcript: Runway keeps one only for sessions that ended cleanly.")
        return f"<b>Transcript</b><p class='empty'>{why}</p>"
    lines = "".join(
        f"<div class='line {plain(e['role'])}'>"
        f"<span class='role'>{plain(e['role'])}</span>{plain(e['content'] or '')}{_used_tools(e)}</div>"
        for e in details.transcript
    )
    count, source = len(details.transcript), details.transcript_source
    return (f"<b>Transcript</b> <small>({count} lines, from {source})</small>"
            f"<div class='transcript'>{lines}</div>")


def _used_tools(entry: dict[str, Any]) -> str:
    """A turn where the character used tools says which (Runway keeps such turns without text)."""
    names = entry.get("tools") or []
    if not names:
        return ""
    return "<span class='used-tools'>used " + ", ".join(f"<code>{plain(n)}</code>" for n in names) + "</span>"
