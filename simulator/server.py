"""Run the simulator with uvicorn: in a daemon thread (tests, embedding) or in the
foreground (``python -m simulator``)."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from dataclasses import dataclass

import uvicorn

from .app import SimulatorApp, create_app
from .clock import Clock
from .config import SimConfig
from .engine import Simulator

# A signalling frame larger than this is refused by uvicorn; the room refuses anything over
# its own RoomSettings.max_message_bytes (256 KB) with a proper close code first.
WS_MAX_SIZE = 4 * 1024 * 1024


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before starting uvicorn, so port 0 yields a known free port with no race.

    The explicit IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets whose
    ``proto`` is TCP, and without it Nagle + delayed ACKs cost ~40 ms per request.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def make_server(app: SimulatorApp, log_level: str = "warning") -> uvicorn.Server:
    # "auto" picks httptools/uvloop when installed (about twice the throughput) and falls
    # back to h11/asyncio, which is what requirements.txt provides. The rooms' signalling
    # needs WebSockets: the legacy "websockets" implementation on purpose, because uvicorn
    # 0.54's websockets-sansio hangs on over-long request lines and logs a false "ASGI
    # callable returned without completing handshake" after every refused upgrade. The
    # lifespan closes rooms still open at shutdown.
    warnings.filterwarnings("ignore", "The `websockets` implementation is deprecated")
    config = uvicorn.Config(
        app,
        loop="auto",
        http="auto",
        lifespan="on",
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        ws="websockets",
        ws_max_size=WS_MAX_SIZE,
    )
    return uvicorn.Server(config)


def url_for(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@dataclass
class ServerHandle:
    base_url: str
    app: SimulatorApp
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def simulator(self) -> Simulator:
        return self.app.simulator

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve_in_thread(
    config: SimConfig | None = None,
    clock: Clock | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
) -> ServerHandle:
    """Start uvicorn on a loopback port in a daemon thread and wait until it accepts."""
    app = create_app(config, clock)
    sock = bind_socket(host, port)
    server = make_server(app)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"runway-simulator:{sock.getsockname()[1]}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the simulator failed to start")
        time.sleep(0.005)
    return ServerHandle(url_for(host, sock.getsockname()[1]), app, server, thread)
