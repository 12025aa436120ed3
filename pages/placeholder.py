"""A tab that says what it will hold, until its page module exists."""

from __future__ import annotations

import gradio as gr


def build(what: str) -> None:
    gr.Markdown(f"*Coming next:* {what}")
