"""What every page receives: the studio and the few UI pieces that tabs share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from studio.core import Studio


@dataclass
class PageContext:
    studio: Studio
    tabs: gr.Tabs | None = None
    tab_objects: dict[str, gr.Tab] = field(default_factory=dict)
    # Components other tabs may update (e.g. Characters' "Call" shortcut selects the Call tab's avatar).
    shared: dict[str, Any] = field(default_factory=dict)
    # Callbacks run after every tab is built, for events that cross tabs.
    after_build: list[Callable[[], None]] = field(default_factory=list)
