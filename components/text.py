"""Text from outside the studio (Runway, the simulator, people) shown as text, never as markup.

Gradio renders toasts (`gr.Warning`, `gr.Info`, `gr.Error`) and `gr.HTML` as HTML, and `gr.Markdown`
as Markdown (raw HTML included, only sanitised): a failure reason such as
`<img src=x onerror=…>` or `[link](javascript:…)` must reach people as the characters it is.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

import gradio as gr

# CommonMark shows any backslash-escaped ASCII punctuation character as that character.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_BACKTICKS = re.compile(r"`+")
# What may stay as is in a link target; the rest (parentheses, spaces, <, >, \) is %-encoded.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~-._"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def plain(value: Any) -> str:
    """`value` for HTML (toasts, `gr.HTML`, attributes): every character shown literally."""
    return html.escape(_text(value), quote=True)


def md_escape(value: Any) -> str:
    """`value` for Markdown, on one line: no emphasis, links, headings, lists or HTML."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(_text(value).split()))


def md_code(value: Any) -> str:
    """`value` as a Markdown code span (ids), verbatim even when it holds backticks."""
    text = " ".join(_text(value).split())
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_link(label: str, url: Any) -> str:
    """A Markdown link to an http(s) URL from upstream; any other URL is shown as text."""
    target = _text(url).strip()
    if not target.lower().startswith(("https://", "http://")):
        return md_escape(target)
    return f"[{md_escape(label)}]({quote(target, safe=_URL_SAFE)})"


def error_note(message: str | None) -> Any:
    """The small warning under a form field (hidden while there is nothing to say)."""
    return gr.Markdown(value=f"⚠ {md_escape(message)}" if message else "", visible=bool(message))
