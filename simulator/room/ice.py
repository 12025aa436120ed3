"""ICE on loopback: which local addresses aiortc gathers on, which remote candidates the
room accepts, and the JSON ``candidateInit`` format LiveKit's trickle messages carry.

aioice gathers host candidates on every interface *except* 127.0.0.1, which is the
opposite of what a loopback room needs, and it has no option for it: ``use_addresses``
replaces its module-level ``get_host_addresses`` (process-wide, reversible).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import aioice.ice
from aiortc import RTCConfiguration, RTCIceCandidate, RTCIceServer
from aiortc.sdp import candidate_from_sdp, candidate_to_sdp

log = logging.getLogger("simulator.room")

_ORIGINAL: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses
MAX_CANDIDATE_JSON = 4096


def use_addresses(addresses: Sequence[str] | None) -> None:
    """Make aiortc gather host candidates on exactly ``addresses`` (None: aioice's default)."""
    if addresses is None:
        aioice.ice.get_host_addresses = _ORIGINAL
        return
    chosen = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            a for a in chosen if (use_ipv6 if ipaddress.ip_address(a).version == 6 else use_ipv4)
        ]

    aioice.ice.get_host_addresses = host_addresses


def rtc_configuration(servers: Sequence[dict[str, Any]]) -> RTCConfiguration:
    """The room's own peer-connection config: the same ICE servers its clients get, so a
    TURN relay works from both ends (a deployment behind NAT); none on loopback."""
    return RTCConfiguration(
        iceServers=[
            RTCIceServer(
                urls=s.get("urls", []), username=s.get("username"), credential=s.get("credential")
            )
            for s in servers
        ]
    )


class RemoteFilter:
    """Accepts remote candidates whose address lies in the configured networks."""

    def __init__(self, networks: Sequence[str] | None) -> None:
        self._networks = None if networks is None else [ipaddress.ip_network(n) for n in networks]

    def allows(self, host: str) -> bool:
        if self._networks is None:
            return not host.endswith(".local")  # never resolve mDNS names (multicast)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def clean_sdp(self, sdp: str) -> str:
        """Drop ``a=candidate`` lines the room would not accept from a trickle either."""
        kept = []
        for line in sdp.splitlines():
            if line.startswith("a=candidate:"):
                try:
                    candidate = candidate_from_sdp(line[len("a=") :].split(":", 1)[1])
                except (ValueError, IndexError):
                    continue
                if not self.allows(candidate.ip):
                    continue
            kept.append(line)
        return "\r\n".join(kept) + "\r\n"


def parse_candidate_init(text: str) -> RTCIceCandidate | None:
    """The candidate in a trickle's ``candidateInit`` JSON; None for end-of-candidates.

    Raises ValueError on anything malformed.
    """
    if len(text) > MAX_CANDIDATE_JSON:
        raise ValueError("candidate too long")
    data: Any = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("candidateInit is not an object")  # noqa: TRY004 - one error type
    line = data.get("candidate")
    if not isinstance(line, str):
        raise ValueError("candidate is not a string")  # noqa: TRY004 - one error type
    if not line:
        return None
    line = line.removeprefix("a=")
    if not line.startswith("candidate:"):
        raise ValueError("not a candidate line")
    candidate = candidate_from_sdp(line.split(":", 1)[1])
    mid = data.get("sdpMid")
    index = data.get("sdpMLineIndex")
    candidate.sdpMid = mid if isinstance(mid, str) else None
    candidate.sdpMLineIndex = index if isinstance(index, int) else None
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        candidate.sdpMLineIndex = 0
    return candidate


def candidate_init(candidate: RTCIceCandidate) -> str:
    return json.dumps(
        {
            "candidate": "candidate:" + candidate_to_sdp(candidate),
            "sdpMid": candidate.sdpMid,
            "sdpMLineIndex": candidate.sdpMLineIndex,
        }
    )


def sdp_candidates(sdp: str) -> list[RTCIceCandidate]:
    """The candidates of the first m-section of ``sdp`` (the BUNDLE transport)."""
    found: list[RTCIceCandidate] = []
    mid: str | None = None
    index = -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
            if index > 0:
                break
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :].strip()
        elif line.startswith("a=candidate:") and index == 0:
            candidate = candidate_from_sdp(line[len("a=candidate:") :])
            found.append(candidate)
    for candidate in found:
        candidate.sdpMid = mid
        candidate.sdpMLineIndex = 0
    return found
