"""Knowledge documents and custom voices."""

from __future__ import annotations

from typing import Any

from ..catalog import RUNWAY_URI_SCHEME
from ..errors import not_found
from . import media, render
from .core import SimulatorCore, new_id
from .paging import newest_first, paginate
from .records import Document, Voice


class LibraryOps(SimulatorCore):
    def _used_by(self, document_id: str, base: str) -> list[dict[str, Any]]:
        return [
            {"id": a.id, "name": a.name, "imageUrl": render.avatar_processed_uri(a, base)}
            for a in self.avatars.values()
            if document_id in a.document_ids
        ]

    def _document(self, document_id: str) -> Document:
        d = self.documents.get(document_id)
        if d is None:
            raise not_found("Document", document_id)
        return d

    def create_document(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._txn() as now:
            d = Document(
                id=new_id(),
                name=body["name"],
                content=body["content"],
                created_at=now,
                updated_at=now,
            )
            self.documents[d.id] = d
            self._dirty = True
            return render.document(d, [], with_content=True)

    def get_document(self, document_id: str, base: str) -> dict[str, Any]:
        with self._txn():
            d = self._document(document_id)
            return render.document(d, self._used_by(d.id, base), with_content=True)

    def list_documents(
        self, limit: int, cursor: str | None, sort: str, order: str, base: str
    ) -> dict[str, Any]:
        with self._txn():
            attr = "created_at" if sort == "createdAt" else "updated_at"
            items = list(self.documents.values())
            if order == "desc":
                items.reverse()  # newest insertion first among equal timestamps
            items.sort(key=lambda d: getattr(d, attr), reverse=(order == "desc"))
            return paginate(
                items,
                limit,
                cursor,
                lambda d: render.document(d, self._used_by(d.id, base), with_content=False),
            )

    def update_document(self, document_id: str, body: dict[str, Any]) -> None:
        with self._txn() as now:
            d = self._document(document_id)
            d.name = body.get("name", d.name)
            d.content = body.get("content", d.content)
            d.updated_at = now
            self._dirty = True

    def delete_document(self, document_id: str) -> None:
        with self._txn():
            self._document(document_id)
            del self.documents[document_id]
            for a in self.avatars.values():  # deleting a document detaches it everywhere
                if document_id in a.document_ids:
                    a.document_ids = [d for d in a.document_ids if d != document_id]
            self._dirty = True

    # ------------------------------------------------------------------ voices

    def _voice(self, voice_id: str) -> Voice:
        v = self.voices.get(voice_id)
        if v is None or v.deleted:
            raise not_found("Voice", voice_id)
        return v

    def create_voice(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._txn() as now:
            source = body["from"]
            if source["type"] == "audio" and source["audio"].startswith(RUNWAY_URI_SCHEME):
                self._resolve_upload(source["audio"], now, "from.audio")
            v = Voice(
                id=new_id(),
                name=body["name"],
                description=body.get("description"),
                source=source,
                created_at=now,
                processing_until=now + self._config.avatar_delay,
            )
            if self.voice_failures:
                v.pending_failure = self.voice_failures.popleft()
            self.voices[v.id] = v
            self._dirty = True
            return {"id": v.id}

    def get_voice(self, voice_id: str, base: str) -> dict[str, Any]:
        with self._txn():
            return render.voice(self._voice(voice_id), base)

    def list_voices(self, limit: int, cursor: str | None, base: str) -> dict[str, Any]:
        with self._txn():
            items = newest_first(v for v in self.voices.values() if not v.deleted)
            return paginate(items, limit, cursor, lambda v: render.voice(v, base))

    def update_voice(self, voice_id: str, body: dict[str, Any], base: str) -> dict[str, Any]:
        with self._txn():
            v = self._voice(voice_id)
            if "name" in body:
                v.name = body["name"]
            if "description" in body:
                v.description = body["description"]
            self._dirty = True
            return render.voice(v, base)

    def delete_voice(self, voice_id: str) -> None:
        with self._txn():
            # Kept as a tombstone so avatars using it can show ``deleted: true``.
            self._voice(voice_id).deleted = True
            self._dirty = True

    def voice_preview(self, prompt: str, base: str) -> dict[str, Any]:
        with self._txn():
            file_id = self._store_file(media.WAV, media.preview_wav(prompt))
            self._dirty = True
            return {"durationSecs": 1.0, "url": render.file_url(base, file_id)}
