"""Which Runway the studio talks to: Runway itself when a key is set, else the embedded simulator.

The simulator runs as a real loopback server, not an in-process transport, because the SDK's
upload step posts to the returned `uploadUrl` with a separate plain HTTP client. The studio then
talks to it through exactly the same code path as to Runway.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from studio.config import Settings, SimulatorSettings
from studio.runway import Upstream

log = logging.getLogger(__name__)


def connect_upstream(settings: Settings, clock: Any = None) -> tuple[Upstream, Callable[[], None]]:
    """The upstream to use and how to stop it (the embedded simulator, started here if needed)."""
    if settings.api_secret:
        return Upstream(settings.api_secret, settings.base_url, simulated=False), lambda: None
    handle = start_embedded(settings.simulator, clock=clock)
    log.info("No RUNWAYML_API_SECRET: using the embedded simulator at %s", handle.base_url)
    from simulator.control.presets import PRESETS_PREFIX  # voice samples and portraits of presets

    return (Upstream(simulator_api_key(), handle.base_url, simulated=True,
                     preset_media=handle.base_url + PRESETS_PREFIX), handle.stop)


def simulator_api_key() -> str:
    """A well-formed key for the local simulator, fresh for each process."""
    return "key_" + secrets.token_hex(64)


def start_embedded(settings: SimulatorSettings, clock: Any = None) -> Any:
    """Start the simulator on a free loopback port; returns its handle (`base_url`, `stop()`)."""
    import simulator  # imported here: live mode never loads it

    config = simulator.SimConfig(
        ready_delay=settings.ready_delay,
        concurrency=settings.concurrency,
        daily_limit=settings.daily_limit,
        no_participant_timeout=settings.no_participant_timeout,
        avatar_delay=settings.avatar_delay,
        state_file=str(settings.state_file) if settings.state_file else None,
        **({"livekit_url": settings.livekit_url} if settings.livekit_url else {}),
    )
    if settings.state_file:
        settings.state_file.parent.mkdir(parents=True, exist_ok=True)
    return simulator.serve_in_thread(config, clock=clock)
