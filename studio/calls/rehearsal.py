"""Scripts for simulated calls: what a rehearsal on the local simulator says.

Offline there is no avatar to talk to, so the Call tab plays a short scripted exchange built from
the character's own start script and personality, clearly labelled as simulated.
"""

from __future__ import annotations

import re


def first_sentence(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def rehearsal_script(name: str, personality: str | None, start_script: str | None) -> list[dict[str, str]]:
    """A short, plausible exchange: the opening line, a question, an answer in character, goodbye."""
    opening = start_script.strip() if start_script and start_script.strip() else f"Hi, I'm {name}. How can I help?"
    about = first_sentence(personality) if personality and personality.strip() else f"I'm {name}, happy to help."
    return [
        {"role": "assistant", "content": opening},
        {"role": "user", "content": "Hi! Could you tell me a little about yourself?"},
        {"role": "assistant", "content": about},
        {"role": "user", "content": "Great, thank you. That's all for now."},
        {"role": "assistant", "content": "Thanks for calling. Talk soon!"},
    ]
