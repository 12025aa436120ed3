"""Simulator settings. Every behaviour the reference marks as a guess is a field here."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LIVEKIT_URL = "wss://livekit.simulator.invalid"  # a bare Simulator, with no room served
ROOM_PATH = "/livekit"  # where the app serves the sessions' rooms: ws://<host>:<port>/livekit
RUNWAY_VERSION = "2024-11-06"
ICE_SERVER_KEYS = frozenset({"urls", "username", "credential"})


@dataclass
class SimConfig:
    # Timing (seconds of clock time).
    ready_delay: float = 1.0  # NOT_READY (with a slot) -> READY
    # Real provisioning varies (~0.7–2 s): each session's delay is ready_delay ± up to this much,
    # drawn deterministically from its id so runs repeat. 0 = exactly ready_delay.
    ready_jitter: float = 0.0
    no_participant_timeout: float = 20.0  # READY/consumed without a join -> FAILED
    avatar_delay: float = 2.0  # avatar and custom-voice processing time
    # Tier limits; None means "no limit" (shown as null in GET /v1/organization).
    concurrency: int | None = 3  # live sessions before new ones queue
    daily_limit: int | None = 1000  # session creates per UTC day before 429
    max_monthly_credit_spend: int = 10_000
    # Credits and billing (third-party measurements: 2 at consume, 2 per 6 s running).
    credit_balance: int = 10_000
    consume_credits: int = 2
    running_credits: int = 2
    billing_interval: float = 6.0
    # Consume credentials.
    livekit_url: str | None = None  # None -> the simulator's own room at ws://<host>/livekit
    # The room (read when the app is built): ICE servers handed to clients and used by the room
    # itself, e.g. a TURN server behind NAT ({"urls": [...], "username", "credential"}); and
    # whether media may use every interface and any remote address (default: loopback only).
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    room_any_address: bool = False
    # Persistence.
    state_file: str | None = None
    # Auth: with api_key set only that key is accepted; otherwise any key_<128 hex>.
    api_key: str | None = None
    require_version_header: bool = True
    # Status codes for behaviour the reference could only guess.
    version_error_status: int = 400
    consume_conflict_status: int = 409  # second consume
    consume_not_ready_status: int = 409  # consume on a session that is not READY
    delete_terminal_status: int = 404  # DELETE on COMPLETED/FAILED/CANCELLED
    insufficient_credits_status: int = 400
    unknown_avatar_status: int = 400  # session create with an unknown avatarId
    avatar_not_ready_status: int = 400  # session create with a PROCESSING/FAILED avatar
    unknown_reference_status: int = 400  # unknown documentIds / voice id / runway:// URI
    daily_limit_status: int = 429
    # Uploads.
    upload_ttl: float = 24 * 3600.0
    min_upload_bytes: int = 512
    max_upload_bytes: int = 200 * 1024 * 1024
    # Avatar videos (clips, POST /v1/avatar_videos). Runway publishes no timings or price
    # for them: every value below is a guess. A task is PENDING for clip_queue_delay once
    # it has a slot (THROTTLED before, while clip_concurrency tasks hold one), then RUNNING
    # for clip_render_base + clip_render_per_second x the clip's seconds.
    clip_queue_delay: float = 2.0
    clip_render_base: float = 10.0
    clip_render_per_second: float = 2.0
    clip_concurrency: int | None = 2
    clip_credits_per_second: float = 0.5  # charged at create, rounded up, at least 1
    clip_output_ttl: float = 24 * 3600.0  # output URLs expire ("within 24-48 hours")
    clip_max_audio_seconds: float = 300.0  # longest audio accepted as speech
    clip_max_audio_bytes: int = 16 * 1024 * 1024  # largest audio fetched from a loopback URL
    clip_width: int = 544  # the processed image's size
    clip_height: int = 352
    clip_fps: int = 25
    # Realism knobs.
    first_poll_queued: bool = True  # first GET of every session shows queued: true
    # Session tools (actions). Runway documents client events only for avatars with a preset
    # voice; with this on, a custom-voice avatar's client events are refused (never sent).
    client_events_need_preset_voice: bool = True
    rpc_payload_wrapped: bool = True  # RPC payload {"args": {...}}; False: the bare args object
    rpc_ack_timeout: float = 7.0  # no RpcAck within this many seconds -> 1501
    rpc_missing_backend_waits: bool = True  # no backend: time out as LiveKit; False: 1401 at once
    client_event_echo: bool = True  # follow each client event with its {"status": "event_sent"}
    tool_failure_speech: bool = True  # the character says a tool failed; False: it stays silent
    tool_keyword_matching: bool = True  # typed user turns trigger tools by their keywords
    connect_backend_not_live_status: int = 409  # connect_backend before READY or after the end
    extra: dict[str, Any] = field(default_factory=dict)  # reserved, kept in snapshots

    @classmethod
    def tier1(cls, **overrides: Any) -> SimConfig:
        """Runway's tier 1: one live session, 50 creates a day."""
        return cls(**{"concurrency": 1, "daily_limit": 50, **overrides})

    def consume_url(self, room_url: str | None) -> str:
        """The url consume hands out: the configured one, else the served room's."""
        return self.livekit_url or room_url or DEFAULT_LIVEKIT_URL

    def to_dict(self) -> dict[str, Any]:
        return {to_camel(k): v for k, v in dataclasses.asdict(self).items()}

    def updated(self, changes: dict[str, Any]) -> SimConfig:
        """A copy with ``changes`` applied; keys may be camelCase or snake_case.

        Raises ValueError for unknown fields or values of the wrong type.
        """
        known = {f.name: f for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for key, value in changes.items():
            name = to_snake(key)
            if name not in known:
                raise ValueError(f"Unknown config field: {key}")
            values[name] = _coerce(name, value, getattr(self, name))
        return dataclasses.replace(self, **values)


_FLOAT_FIELDS = {
    "ready_delay",
    "ready_jitter",
    "no_participant_timeout",
    "avatar_delay",
    "billing_interval",
    "upload_ttl",
    "rpc_ack_timeout",
    "clip_queue_delay",
    "clip_render_base",
    "clip_render_per_second",
    "clip_credits_per_second",
    "clip_output_ttl",
    "clip_max_audio_seconds",
}
_OPTIONAL_INT_FIELDS = {"concurrency", "daily_limit", "clip_concurrency"}
_OPTIONAL_STR_FIELDS = {"livekit_url", "state_file", "api_key"}
_BOUNDED_INT_FIELDS = {  # name -> (lowest, highest)
    "clip_width": (16, 1920),
    "clip_height": (16, 1920),
    "clip_fps": (1, 60),
    "clip_max_audio_bytes": (1, 1 << 31),
}


def _coerce(name: str, value: Any, current: Any) -> Any:
    if name in _FLOAT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a non-negative number")
        return float(value)
    if name in _OPTIONAL_INT_FIELDS:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer or null")
        return value
    if name in _BOUNDED_INT_FIELDS:
        low, high = _BOUNDED_INT_FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}")
        return value
    if name in _OPTIONAL_STR_FIELDS:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string or null")
        return value
    if name == "ice_servers":
        return ice_servers(value)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a boolean")
        return value
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer")
        return value
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{name} must be an object")
        return value
    return value


def ice_servers(value: Any) -> list[dict[str, Any]]:
    """A checked list of RTCIceServer-shaped entries (raises ValueError, like every setting)."""
    if not isinstance(value, list):
        raise ValueError("ice_servers must be a list of objects")  # noqa: TRY004
    checked = []
    for entry in value:
        if not isinstance(entry, dict) or not set(entry) <= ICE_SERVER_KEYS:
            raise ValueError("each ICE server is an object with urls, username and credential")
        urls = [entry["urls"]] if isinstance(entry.get("urls"), str) else entry.get("urls")
        valid = isinstance(urls, list) and urls and all(isinstance(u, str) and u for u in urls)
        if not valid:
            raise ValueError("an ICE server needs urls: a string or a list of strings")
        extra = {k: entry[k] for k in ("username", "credential") if k in entry}
        if not all(isinstance(v, str) for v in extra.values()):
            raise ValueError("an ICE server's username and credential are strings")
        checked.append({"urls": list(urls), **extra})
    return checked


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
