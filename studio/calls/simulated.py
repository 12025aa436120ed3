"""Simulated calls on the local simulator: with no LiveKit offline, the studio drives the
simulator's control plane to join and leave, so sessions really go READY → RUNNING → COMPLETED."""

from __future__ import annotations

import httpx

from studio.errors import StudioError


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
