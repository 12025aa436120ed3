"""The ASGI application: a FastAPI app whose outermost layer (the "gateway") counts
requests, fires injected faults and runs Runway's header checks before routing to the
/v1 routes (api/), the control plane (control/) and, under /livekit, the sessions'
loopback LiveKit rooms (room/). Nothing in the simulator imports this module back:
handlers reach the app only through ``request.app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from .api import V1_ROUTES, check_request
from .clock import Clock
from .config import ROOM_PATH, SimConfig
from .control import CONTROL_PREFIX, CONTROL_ROUTES, FaultBook, fire
from .engine import Simulator
from .http import ERROR_HANDLERS, route_path, send_json
from .room import RoomServer, RoomSettings

LOOPBACK_ADDRESSES = ("127.0.0.1",)
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")

_TEMPLATE_CACHE_LIMIT = 4096


class SimulatorApp(FastAPI):
    """FastAPI, with the gateway running before Starlette's middleware stack so that it
    still holds uvicorn's raw ``send`` (needed to drop connections)."""

    def __init__(self, simulator: Simulator, rooms: RoomServer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.simulator = simulator
        self.rooms = rooms
        self.faults = FaultBook()
        self._templates: dict[str, str] = {}

    def template_for(self, scope: Scope, method: str, path: str) -> str:
        """The route template (``/v1/avatars/{id}``) a request matches, cached by path."""
        key = f"{method} {path}"
        cached = self._templates.get(key)
        if cached is None:
            cached = f"{method} <unmatched>"
            for route in self.router.routes:
                match, _ = route.matches(scope)
                if match is not Match.NONE:
                    cached = f"{method} {getattr(route, 'path', path)}"
                    if match is Match.FULL:
                        break
            if len(self._templates) >= _TEMPLATE_CACHE_LIMIT:
                self._templates.clear()
            self._templates[key] = cached
        return cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        method: str = scope["method"]
        path = route_path(scope)
        if not path.startswith(CONTROL_PREFIX):
            # The control plane is not counted, so reading state never skews the counts.
            self.simulator.count_request(self.template_for(scope, method, path))
            fault = self.faults.take(method, path)
            if fault is not None and await fire(fault, send):
                return
            error = check_request(scope, method, path, self.simulator.config)
            if error is not None:
                await send_json(send, error.status, error.body, error.headers)
                return
        await super().__call__(scope, receive, send)


def room_settings(config: SimConfig) -> RoomSettings:
    """The rooms' settings from the simulator's: ICE servers, and loopback-only media or not."""
    return RoomSettings(
        ice_servers=tuple(config.ice_servers),
        host_addresses=None if config.room_any_address else LOOPBACK_ADDRESSES,
        remote_networks=None if config.room_any_address else LOOPBACK_NETWORKS,
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await app.state.rooms.aclose()  # rooms still open at shutdown end without hooks


def create_app(config: SimConfig | None = None, clock: Clock | None = None) -> SimulatorApp:
    """The simulator as a FastAPI app; ``app.state.simulator`` is the Simulator and
    ``app.state.rooms`` the RoomServer whose rooms consume hands out (ws://<host>/livekit)."""
    simulator = Simulator(config or SimConfig(), clock)
    rooms = RoomServer(simulator, room_settings(simulator.config))
    simulator.attach_rooms(rooms)
    app = SimulatorApp(
        simulator,
        rooms,
        lifespan=_lifespan,
        title="Runway API simulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        # Per-request OpenTelemetry probing costs ~30 us; a simulator needs none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.simulator = app.simulator
    app.state.rooms = rooms
    app.state.faults = app.faults
    for exception, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(exception, handler)
    app.router.routes.extend(V1_ROUTES)
    app.router.routes.extend(CONTROL_ROUTES)
    app.router.routes.append(Mount(ROOM_PATH, routes=rooms.routes()))
    return app
