"""The studio: one object that owns the settings, the Runway gateway, the ledger and the workers.

`app.py` builds one `Studio`, the routes and pages receive it, and its `open()`/`close()` run in
the web server's lifespan.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from studio.clock import SystemClock
from studio.config import Settings
from studio.guards import Guards, caller_address
from studio.history import History
from studio.ledger import Ledger
from studio.media import MediaCache
from studio.refresher import Refresher
from studio.runway import RunwayGateway
from studio.sessions import SessionBroker
from studio.simulation import SimulatedCalls, simulator_api_key, start_embedded

log = logging.getLogger(__name__)


class Studio:
    def __init__(self, settings: Settings, clock: Any = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.ledger = Ledger(settings.ledger_path)
        self.guards = Guards(settings, self.ledger, self.clock)
        self.simulator: Any = None  # the embedded simulator's handle, in simulator mode
        self.simulated_calls: SimulatedCalls | None = None
        self.gateway: RunwayGateway | None = None
        self.broker: SessionBroker | None = None
        self.refresher: Refresher | None = None
        self.history: History | None = None  # the Sessions and Usage tabs' shared caches
        self.media = MediaCache(allow_private=settings.allow_private_urls)  # images, voice previews
        self._salt = _client_salt(settings)

    @property
    def mode(self) -> str:
        return self.settings.mode

    def connect(self) -> None:
        """Create the gateway (starting the embedded simulator first when there is no key)."""
        if self.gateway is not None:
            return
        if self.settings.api_secret:
            key, base_url = self.settings.api_secret, self.settings.base_url
        else:
            self.simulator = start_embedded(self.settings.simulator, clock=self.clock)
            key, base_url = simulator_api_key(), self.simulator.base_url
            self.simulated_calls = SimulatedCalls(base_url)
            log.info("No RUNWAYML_API_SECRET: using the embedded simulator at %s", base_url)
        self.gateway = RunwayGateway(key, base_url)
        # Media the upstream hands out (the simulator's are on loopback) skip the address check.
        self.media.trust(base_url)
        self.broker = SessionBroker(self.gateway, self.ledger, self.guards, self.clock,
                                    mode=self.mode, deadline=self.settings.session_deadline)
        self.refresher = Refresher(self.gateway, self.ledger, self.broker, self.clock,
                                   self.settings.refresh_interval)
        # One conversations listing per STUDIO_HISTORY_TTL, however many viewers.
        self.history = History(self.settings, self.ledger, self.gateway, self.clock,
                               ttl=self.settings.history_ttl)

    async def open(self) -> None:
        """Start background work; rows a crash left without a session are closed first."""
        self.connect()
        self.ledger.close_interrupted(self.clock.now())
        self.refresher.start()
        self.history.start()

    async def close(self) -> None:
        if self.history:
            await self.history.stop()
        if self.refresher:
            await self.refresher.stop()
        if self.simulated_calls:
            await self.simulated_calls.close()
        if self.gateway:
            await self.gateway.close()
        if self.simulator:
            self.simulator.stop()
        self.ledger.close()

    def caller_id(self, peer: str | None, forwarded_for: str | None) -> str:
        """The anonymised id of the caller behind a request (its peer and X-Forwarded-For)."""
        s = self.settings
        return self.client_id(caller_address(peer, forwarded_for, trust_proxy=s.trust_proxy_headers,
                                             hops=s.trusted_proxy_hops))

    def client_id(self, address: str) -> str:
        """An anonymised, stable id for a caller's address (for per-client limits and the ledger)."""
        return hashlib.sha256(self._salt + address.encode()).hexdigest()[:12]


def _client_salt(settings: Settings) -> bytes:
    """A per-deployment secret salt kept beside the ledger, so client ids survive restarts."""
    path = settings.data_dir / "client-id-salt"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        salt = secrets.token_bytes(16)
        path.write_bytes(salt)
        return salt
