"""Knowledge documents: plain text or Markdown a character draws on, and which characters use them.

A character lists its documents (`document_ids`, at most 50); attaching or detaching one rewrites
that list (Runway's PATCH replaces it whole), so both are checked here before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.catalog.forms import FormInvalid, text_length, validate_document
from studio.errors import StudioError
from studio.runway import RunwayGateway
from studio.vocabulary import DOCUMENTS_MAX


def document_size(content: str | None) -> dict[str, int]:
    """Characters and a rough token estimate (about 4 characters a token)."""
    characters = text_length(content or "")
    return {"characters": characters, "tokens": (characters + 3) // 4}


@dataclass
class DocumentService:
    """Documents over the gateway; sizes are read once per document version."""

    gateway: RunwayGateway
    _sizes: dict[str, dict[str, int]] = field(default_factory=dict)

    async def list_documents(self) -> list[dict[str, Any]]:
        """Documents with `size` (characters, tokens)."""
        documents = await self.gateway.list_documents()
        for document in documents:
            key = f"{document['id']}:{document.get('updated_at')}"
            if key not in self._sizes:
                try:
                    full = await self.gateway.get_document(document["id"])
                except StudioError:
                    continue
                self._sizes[key] = document_size(full.get("content"))
            document["size"] = self._sizes[key]
        return documents

    async def document_choices(self) -> list[tuple[str, str]]:
        """(name, id) of every document, for a picker (no sizes, so no reads of each document)."""
        return [(document["name"], document["id"]) for document in await self.gateway.list_documents()]

    async def get_document(self, document_id: str) -> dict[str, Any]:
        document = await self.gateway.get_document(document_id)
        document["size"] = document_size(document.get("content"))
        return document

    async def create_document(self, name: str, content: str) -> dict[str, Any]:
        errors = validate_document(name, content)
        if errors:
            raise FormInvalid(errors)
        return await self.gateway.create_document(name.strip(), content)

    async def update_document(self, document_id: str, name: str, content: str) -> None:
        errors = validate_document(name, content)
        if errors:
            raise FormInvalid(errors)
        await self.gateway.update_document(document_id, name=name.strip(), content=content)

    async def delete_document(self, document_id: str) -> None:
        """Delete it; Runway detaches it from every character that used it."""
        await self.gateway.delete_document(document_id)

    async def attach_document(self, document_id: str, avatar_id: str) -> dict[str, Any]:
        """Add a document to a character's knowledge; the character as it is now."""
        if not avatar_id:
            raise FormInvalid({"character": "Character: choose the character to attach the document to."})
        avatar = await self.gateway.get_avatar(avatar_id)
        ids = list(avatar.get("document_ids") or [])
        if document_id in ids:
            return avatar
        if len(ids) >= DOCUMENTS_MAX:
            raise FormInvalid({"character": f"Character: “{avatar.get('name')}” already uses {DOCUMENTS_MAX} "
                                            "documents, the most Runway allows. Detach one first."})
        return await self.gateway.update_avatar(avatar_id, document_ids=ids + [document_id])

    async def detach_document(self, document_id: str, avatar_id: str) -> dict[str, Any]:
        """Take a document out of a character's knowledge; the character as it is now."""
        if not avatar_id:
            raise FormInvalid({"character": "Character: choose the character to detach the document from."})
        avatar = await self.gateway.get_avatar(avatar_id)
        ids = list(avatar.get("document_ids") or [])
        if document_id not in ids:
            return avatar
        return await self.gateway.update_avatar(avatar_id, document_ids=[d for d in ids if d != document_id])
