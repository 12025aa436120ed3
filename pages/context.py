"""What every page receives: the studio and the few UI pieces that tabs share.

It also holds the one rule of a public demo (`settings.public_demo`): visitors call any character
and see their own calls, but change nothing. Write handlers are wrapped with `owner_only`, so they
refuse on the server (every Gradio event is reachable through its API, whatever the page hides),
and session views ask `visitor` whose calls a request may see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gradio as gr

from studio.core import Studio

Handler = TypeVar("Handler", bound=Callable[..., Any])

PUBLIC_DEMO_REFUSAL = (
    "This is a public demo: characters, documents and voices can't be changed here. The owner can "
    "open editing by setting STUDIO_AUTH (sign-in) or STUDIO_PUBLIC_DEMO=false."
)


@dataclass
class PageContext:
    studio: Studio
    tabs: gr.Tabs | None = None
    tab_objects: dict[str, gr.Tab] = field(default_factory=dict)
    # Signals between tabs, made before any tab (`app.build_ui`): each grows by one whenever
    # characters, or documents and their attachments, change, and tabs that show them listen.
    characters_changed: gr.State | None = None
    documents_changed: gr.State | None = None
    # The Call tab's character picker, which the Characters tab's "Call" shortcuts set.
    call_avatar: gr.Dropdown | None = None
    # Callbacks run after every tab is built, for events that cross tabs.
    after_build: list[Callable[[], None]] = field(default_factory=list)

    @property
    def public_demo(self) -> bool:
        return self.studio.settings.public_demo

    def owner_only(self, handler: Handler) -> Handler:
        """`handler` as is, or in a public demo one that refuses with plain words."""
        if not self.public_demo:
            return handler

        @functools.wraps(handler)  # Gradio reads the wrapped signature (inputs, gr.EventData)
        async def refuse(*_: Any, **__: Any) -> Any:
            raise gr.Error(PUBLIC_DEMO_REFUSAL, title="Public demo", print_exception=False)

        return refuse  # type: ignore[return-value]

    def visitor(self, request: gr.Request | None) -> str | None:
        """Whose calls `request` may see: in a public demo its caller's id, otherwise None (all)."""
        if not self.public_demo:
            return None
        client = request.client if request is not None else None
        forwarded = request.headers.get("x-forwarded-for") if request is not None else None
        return self.studio.caller_id(client.host if client else None, forwarded)
