"""Cursor pagination and newest-first ordering shared by the list endpoints."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from ..validation import invalid_field


def newest_first(records: Any) -> list[Any]:
    """Newest first; among equal timestamps the later insertion comes first."""
    items = list(records)
    items.reverse()
    items.sort(key=lambda r: r.created_at, reverse=True)
    return items


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        offset = int(number)
        if prefix != "offset" or offset < 0:
            raise ValueError(text)
        return offset
    except (ValueError, UnicodeDecodeError):
        raise invalid_field("query", "cursor", "Invalid cursor") from None


def paginate(
    items: list[Any], limit: int, cursor: str | None, render_item: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    offset = decode_cursor(cursor) if cursor else 0
    page = items[offset : offset + limit]
    has_more = offset + limit < len(items)
    return {
        "data": [render_item(r) for r in page],
        "hasMore": has_more,
        "nextCursor": encode_cursor(offset + limit) if has_more else None,
    }

