"""``python -m simulator --port 8900``: a standalone Runway API simulator, with the
sessions' loopback LiveKit rooms at ``ws://<host>:<port>/livekit``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import Any

from .app import create_app
from .config import ROOM_PATH, SimConfig, ice_servers
from .server import bind_socket, make_server, url_for


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m simulator", description="Local Runway API simulator"
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    p.add_argument("--port", type=int, default=8900, help="port (0 picks a free one)")
    p.add_argument(
        "--ready-delay", type=float, help="seconds from provisioning to READY (default 1)"
    )
    p.add_argument(
        "--ready-jitter", type=float,
        help="each session's ready delay varies by up to this many seconds either way (default 0)",
    )
    p.add_argument(
        "--concurrency", type=int, help="live sessions before new ones queue (default 3)"
    )
    p.add_argument(
        "--daily-limit", type=int, help="session creates per UTC day before 429 (default 1000)"
    )
    p.add_argument(
        "--no-participant-timeout",
        type=float,
        help="seconds a READY session waits for a join before FAILED (default 20)",
    )
    p.add_argument("--avatar-delay", type=float, help="avatar/voice processing seconds (default 2)")
    p.add_argument("--credits", type=int, help="starting credit balance (default 10000)")
    p.add_argument(
        "--clip-queue-delay", type=float,
        help="seconds an avatar video task is PENDING once it has a slot (default 2)",
    )
    p.add_argument(
        "--clip-render-base", type=float,
        help="seconds every avatar video task is RUNNING, before its length counts (default 10)",
    )
    p.add_argument(
        "--clip-render-per-second", type=float,
        help="extra RUNNING seconds per second of clip (default 2)",
    )
    p.add_argument(
        "--clip-concurrency", type=int,
        help="avatar video tasks running at once before new ones are THROTTLED (default 2)",
    )
    p.add_argument(
        "--livekit-url",
        help="url returned by consume (default: this server's own rooms, ws://HOST:PORT/livekit)",
    )
    p.add_argument(
        "--ice-servers", type=_ice_servers, metavar="JSON",
        help='ICE servers for the rooms and their clients, e.g. a TURN server behind NAT: '
        '\'[{"urls": ["turn:turn.example.com:3478"], "username": "u", "credential": "p"}]\'',
    )
    p.add_argument(
        "--room-any-address", action="store_true",
        help="room media on every interface, from any address (default: loopback only)",
    )
    p.add_argument(
        "--state", metavar="FILE", help="persist state to FILE (JSON) and reload it at start"
    )
    p.add_argument(
        "--tier1", action="store_true", help="Runway tier 1: concurrency 1, daily limit 50"
    )
    p.add_argument("--log-level", default="warning", help="uvicorn log level")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SimConfig:
    config = SimConfig.tier1() if args.tier1 else SimConfig()
    flags = {
        "ready_delay": args.ready_delay,
        "ready_jitter": args.ready_jitter,
        "concurrency": args.concurrency,
        "daily_limit": args.daily_limit,
        "no_participant_timeout": args.no_participant_timeout,
        "avatar_delay": args.avatar_delay,
        "credit_balance": args.credits,
        "clip_queue_delay": args.clip_queue_delay,
        "clip_render_base": args.clip_render_base,
        "clip_render_per_second": args.clip_render_per_second,
        "clip_concurrency": args.clip_concurrency,
        "livekit_url": args.livekit_url,
        "ice_servers": args.ice_servers,
        "room_any_address": args.room_any_address or None,
        "state_file": args.state,
    }
    return config.updated({k: v for k, v in flags.items() if v is not None})  # explicit flags win


def _ice_servers(text: str) -> list[dict[str, Any]]:
    try:
        return ice_servers(json.loads(text))
    except ValueError as error:  # JSONDecodeError is a ValueError too
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config = config_from_args(args)
    app = create_app(config)
    sock = bind_socket(args.host, args.port)
    base_url = url_for(args.host, sock.getsockname()[1])
    print(f"Runway simulator listening on {base_url}", flush=True)
    print(f"  export RUNWAYML_BASE_URL={base_url}", flush=True)
    rooms = config.consume_url(base_url.replace("http", "ws", 1) + ROOM_PATH)
    print(f"  call rooms: {rooms}", flush=True)
    print(
        f"  concurrency={config.concurrency} daily_limit={config.daily_limit} "
        f"ready_delay={config.ready_delay}s state={config.state_file or '-'}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the normal way to stop it
        make_server(app, args.log_level).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
