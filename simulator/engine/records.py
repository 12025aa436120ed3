"""The records the engine keeps (sessions, avatars, documents, voices, uploads, files,
charges) and their status values. Times are epoch floats from the injected clock; wire
rendering lives in render.py, transitions in core.py and the resource modules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

from ..catalog import MODEL

# Session statuses
NOT_READY, READY, RUNNING = "NOT_READY", "READY", "RUNNING"
COMPLETED, FAILED, CANCELLED = "COMPLETED", "FAILED", "CANCELLED"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})

# Avatar / voice statuses
PROCESSING = "PROCESSING"

# Task statuses (avatar videos); RUNNING, FAILED and CANCELLED are shared with sessions
PENDING, THROTTLED, SUCCEEDED = "PENDING", "THROTTLED", "SUCCEEDED"
TASK_TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})

# What reference-image analysis found (ImageRef.outcome)
IMAGE_OK = "ok"
IMAGE_NO_FACE = "no_face"
IMAGE_UNREADABLE = "unreadable"


@dataclass
class Session:
    id: str
    created_at: float
    avatar: dict[str, Any]  # {"type": "runway-preset", "presetId"} | {"type": "custom", "avatarId"}
    avatar_name: str  # snapshot for conversations (the avatar may be deleted later)
    max_duration: int
    personality: str | None = None
    start_script: str | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    status: str = NOT_READY
    slot_at: float | None = None  # when it got a concurrency slot (provisioning started)
    ready_at: float | None = None
    expires_at: float | None = None
    session_key: str | None = None
    consumed_at: float | None = None
    livekit_token: str | None = None
    joined_at: float | None = None
    ended_at: float | None = None
    duration: int | None = None  # measured seconds between join and end
    failure: str | None = None
    failure_code: str | None = None
    provisioning_failure: list[str] | None = None  # [failureCode, failure] assigned at create
    polled: bool = False  # the first GET shows queued: true
    billed_ticks: int = 0  # full billing intervals already charged while RUNNING
    credits_charged: int = 0
    transcript: list[dict[str, Any]] = field(default_factory=list)
    conversation_deleted: bool = False
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # what the character called
    backend_connects: int = 0  # connect_backend calls answered

    @property
    def queued(self) -> bool:
        return self.status == NOT_READY and self.slot_at is None

    @property
    def holds_slot(self) -> bool:
        return (self.status == NOT_READY and self.slot_at is not None) or self.status in (
            READY,
            RUNNING,
        )

    @property
    def consumed(self) -> bool:
        return self.consumed_at is not None


@dataclass
class ImageRef:
    """Where an avatar's reference image came from and what processing will make of it."""

    url: str | None = None  # https reference images are echoed as-is
    thumbnail_file: str | None = None  # served at /_files/<id>
    processed_file: str | None = None
    outcome: str = IMAGE_OK


@dataclass
class Avatar:
    id: str
    name: str
    personality: str
    voice: dict[str, Any]  # {"type": "runway-live-preset", "presetId"} | {"type": "custom", "id"}
    image: ImageRef
    created_at: float
    updated_at: float
    start_script: str | None = None
    document_ids: list[str] = field(default_factory=list)
    image_processing: str = "optimize"
    status: str = PROCESSING
    processing_until: float | None = None
    pending_failure: str | None = None  # failureReason applied when processing ends
    failure_reason: str | None = None
    processed_once: bool = False  # processedImageUri is null until first processed


@dataclass
class Document:
    id: str
    name: str
    content: str
    created_at: float
    updated_at: float
    type: str = "text"


@dataclass
class Voice:
    id: str
    name: str
    description: str | None
    source: dict[str, Any]
    created_at: float
    status: str = PROCESSING
    processing_until: float | None = None
    pending_failure: str | None = None
    failure_reason: str | None = None
    preview_file: str | None = None
    deleted: bool = False


@dataclass
class Upload:
    id: str
    filename: str
    created_at: float
    expires_at: float
    key: str
    policy: str
    uploaded_at: float | None = None
    size: int | None = None
    content_type: str | None = None
    image: ImageRef | None = None  # analysis of the uploaded bytes, if any
    audio_file: str | None = None  # FileBlob id of the bytes, kept for audio uploads only


@dataclass
class Task:
    """An avatar video task: the clip is measured at create (its speech is prepared
    then), so its length and cost are known from the start."""

    id: str
    created_at: float
    avatar: dict[str, Any]  # as in the request
    speech_type: str  # "text" | "audio"
    text: str | None  # the script (text speech)
    voice: str | None  # the voice the script is said with (preset id or custom voice id)
    audio_file: str | None  # FileBlob id of the audio (audio speech)
    seconds: float  # the clip's length
    credits: int  # charged at create, refunded when cancelled before running or failed
    status: str = PENDING  # THROTTLED while over the tier's concurrency
    slot_at: float | None = None  # when it got a concurrency slot (PENDING from then)
    started_at: float | None = None  # RUNNING since
    ended_at: float | None = None
    charged: int = 0  # what remains charged (cost.credits once terminal)
    failure: str | None = None
    failure_code: str | None = None
    pending_failure: list[str] | None = None  # [failureCode, failure] applied at the end
    name: str = ""  # the character shown (a generated portrait is drawn from it)
    image_file: str | None = None  # FileBlob id of its processed image, if it has one
    usage_model: str = MODEL

    @property
    def holds_slot(self) -> bool:
        return self.status in (PENDING, RUNNING)


@dataclass
class FileBlob:
    id: str
    content_type: str
    data: bytes


@dataclass
class Charge:
    at: float
    amount: int
    session_id: str
    model: str = MODEL


R = TypeVar("R")


def to_plain(record: Any) -> dict[str, Any]:
    return asdict(record)


def from_plain(cls: type[R], data: dict[str, Any]) -> R:
    """Rebuild a record, tolerating fields added or removed since it was saved."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in data.items() if k in names}
    if cls in (Avatar, Upload) and isinstance(values.get("image"), dict):
        values["image"] = ImageRef(**values["image"])
    return cls(**values)
