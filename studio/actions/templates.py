"""Ready tools a product team reaches for first: each a valid definition plus how it is answered."""

from __future__ import annotations

import copy
from typing import Any

from studio.actions.answers import FIXED, TEMPLATE
from studio.actions.tools import BACKEND_RPC, CLIENT_EVENT


def _text(name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "name": name, "description": description, "required": True, **extra}


TEMPLATES: dict[str, dict[str, Any]] = {
    "show_product": {
        "label": "Show a product (client event)",
        "tool": {
            "type": CLIENT_EVENT, "name": "show_product",
            "description": "Show the visitor a product card when they ask about a product or "
                           "want to see one.",
            "parameters": [
                _text("product", "The product's name, as the visitor said it."),
                _text("color", "The colour the visitor asked for, if any.", required=False),
            ],
        },
    },
    "open_link": {
        "label": "Open a link (client event)",
        "tool": {
            "type": CLIENT_EVENT, "name": "open_link",
            "description": "Offer the visitor a link to a page (pricing, docs, sign-up) when they "
                           "ask where to find something.",
            "parameters": [
                _text("url", "The full https:// address of the page."),
                _text("label", "A short title for the link.", required=False),
            ],
        },
    },
    "book_slot": {
        "label": "Book a slot (backend RPC)",
        "tool": {
            "type": BACKEND_RPC, "name": "book_slot",
            "description": "Book an appointment when the visitor asks to book, reserve or "
                           "schedule a time.",
            "parameters": [
                _text("day", "The day the visitor wants.",
                      enum=["monday", "tuesday", "wednesday", "thursday", "friday"]),
                _text("time", "The time of day, such as 10am or 15:30.", required=False),
            ],
            "timeoutSeconds": 5,
        },
        "answer": {"kind": TEMPLATE, "reply": {"booked": True, "day": "{day}", "time": "{time}",
                                               "confirmation": "BK-{day}"}},
    },
    "look_up_order": {
        "label": "Look up an order (backend RPC)",
        "tool": {
            "type": BACKEND_RPC, "name": "look_up_order",
            "description": "Look up the status of an order when the visitor asks where their "
                           "order or delivery is.",
            "parameters": [_text("order_id", "The order number the visitor gives.")],
            "timeoutSeconds": 4,
        },
        "answer": {"kind": FIXED, "reply": {"status": "shipped", "arrives": "tomorrow"}},
    },
}


def template(key: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A fresh copy of a template's tool and answer (None for client events)."""
    chosen = TEMPLATES[key]
    return copy.deepcopy(chosen["tool"]), copy.deepcopy(chosen.get("answer"))
