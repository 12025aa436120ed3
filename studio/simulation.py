"""The embedded Runway simulator: started on loopback when no API key is set.

It runs as a real loopback server, not an in-process transport, because the SDK's upload step
posts to the returned `uploadUrl` with a separate plain HTTP client. The studio then talks to it
through exactly the same code path as to Runway. Simulated calls (no LiveKit offline) drive its
control plane to join and leave, so sessions really go READY → RUNNING → COMPLETED.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from studio.config import SimulatorSettings
from studio.errors import StudioError


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


class SimulatedCalls:
    """Join and leave simulated sessions through the simulator's control plane."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=10.0)

    async def close(self) -> None:
        await self._http.aclose()

    async def join(self, session_id: str) -> None:
        await self._post(f"/_simulator/sessions/{session_id}/join", None)

    async def leave(self, session_id: str, transcript: list[dict[str, str]] | None) -> None:
        body = {"transcript": transcript} if transcript else None
        await self._post(f"/_simulator/sessions/{session_id}/leave", body)

    async def _post(self, path: str, body: dict | None) -> None:
        try:
            answer = await self._http.post(path, json=body)
        except httpx.HTTPError as error:
            raise StudioError("upstream_unreachable", f"The local simulator did not answer ({error}).", 502) from error
        if answer.status_code >= 400:
            message = _error_text(answer) or f"status {answer.status_code}"
            raise StudioError("simulation_refused", f"The simulator refused: {message}", 409)


def _error_text(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", ""))
    except ValueError:
        return ""
