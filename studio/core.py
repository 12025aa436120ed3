"""The studio: one object that builds and owns every service, whole, in its constructor.

`app.py` picks the upstream (Runway or the embedded simulator), builds one `Studio`, and hands it
to the JSON routes and the pages; `open()`/`close()` run in the web server's lifespan.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from studio.actions.service import Actions
from studio.actions.store import ActionStore
from studio.calls.broker import SessionBroker
from studio.calls.guards import Guards, caller_address
from studio.calls.ledger import Ledger
from studio.calls.refresher import Refresher
from studio.catalog.characters import CharacterService
from studio.catalog.documents import DocumentService
from studio.catalog.media import MediaCache
from studio.catalog.presets import PresetMedia
from studio.catalog.voices import VoiceService
from studio.clips.service import build_clips
from studio.clock import SystemClock
from studio.config import Settings
from studio.history import History
from studio.runway import RunwayGateway, Upstream
from studio.store import Database
from studio.store.values import SharedValues


class Studio:
    def __init__(self, settings: Settings, upstream: Upstream, clock: Any = None) -> None:
        self.settings = settings
        self.upstream = upstream
        self.clock = clock or SystemClock()
        self.gateway = RunwayGateway(upstream.api_key, upstream.base_url)
        # Images and voice previews, fetched server-side; the upstream's own media skip the
        # address check (the simulator's are on loopback).
        self.media = MediaCache(trusted_origins=(upstream.base_url,), allow_private=settings.allow_private_urls)
        self.ledger = Ledger(settings.database)  # SQLite file, or the PostgreSQL replicas share
        self.guards = Guards(settings, self.ledger, self.clock)
        self.broker = SessionBroker(self.gateway, self.ledger, self.guards, self.clock,
                                    mode=self.mode, deadline=settings.session_deadline)
        # Actions: the tools each session gets, and the studio as the backend of its RPC tools.
        self.actions = Actions(ActionStore(self.ledger.db, allow_private=settings.allow_private_urls),
                               self.gateway, self.clock, allow_private=settings.allow_private_urls)
        self.broker.tools_for, self.broker.on_ready = self.actions.tools_for, self.actions.on_ready
        self.refresher = Refresher(self.gateway, self.ledger, self.broker, self.clock, settings.refresh_interval)
        # The Sessions and Usage tabs' shared caches: one upstream listing per interval, however many viewers.
        self.history = History(settings, self.ledger, self.gateway, self.clock, ttl=settings.history_ttl,
                               tool_calls=self.actions.store.calls)
        # The catalog: one service per concern; characters teach the voices what presets sound like.
        self.voices = VoiceService(self.gateway, self.media)
        self.presets = PresetMedia(self.media, upstream.preset_media)  # samples and portraits, where offered
        self.characters = CharacterService(self.gateway, self.media, self.voices.presets)
        self.documents = DocumentService(self.gateway)
        # Clips (avatar videos): one follower polls every open render, in the same database.
        self.clips = build_clips(settings, upstream.base_url, self.gateway, self.ledger.db, self.clock,
                                 characters=self.characters, documents=self.documents, voices=self.voices)
        self._salt = _client_salt(self.ledger.db, settings.data_dir)

    @property
    def mode(self) -> str:
        """"live" talks to Runway; "simulator" to the local stand-in."""
        return "simulator" if self.upstream.simulated else "live"

    async def open(self) -> None:
        """Start background work; rows a crash left without a session are closed first."""
        self.ledger.close_interrupted(self.clock.now())
        self.refresher.start()
        self.history.start()
        self.clips.open()

    async def close(self) -> None:
        await self.actions.close()
        await self.clips.close()
        await self.history.stop()
        await self.refresher.stop()
        await self.gateway.close()
        self.ledger.close()

    def caller_id(self, peer: str | None, forwarded_for: str | None) -> str:
        """The anonymised id of the caller behind a request (its peer and X-Forwarded-For)."""
        s = self.settings
        return self.client_id(caller_address(peer, forwarded_for, trust_proxy=s.trust_proxy_headers,
                                             hops=s.trusted_proxy_hops))

    def client_id(self, address: str) -> str:
        """An anonymised, stable id for a caller's address (for per-client limits and the ledger)."""
        return hashlib.sha256(self._salt + address.encode()).hexdigest()[:12]


def _client_salt(db: Database, data_dir: Path) -> bytes:
    """The deployment's secret salt for client ids, kept in the database so that every replica
    gives a caller the same id and ids survive restarts. A salt file from an earlier release
    is carried over, so ids already in the ledger keep matching."""
    legacy = data_dir / "client-id-salt"
    proposed = legacy.read_bytes() if legacy.is_file() else secrets.token_bytes(16)
    return bytes.fromhex(SharedValues(db).setdefault("client-id-salt", proposed.hex()))
