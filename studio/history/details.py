"""One session in full, for the details panel: its ledger row and events, Runway's conversation
(either may be missing), merged into `SessionDetails` (a pure function of what it is given)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.history.words import (
    CONVERSATION_STATUS,
    ELSEWHERE,
    STUDIO,
    avatar_label,
    clock_duration,
    conversation_avatar_id,
    epoch,
    failure_text,
)
from studio.vocabulary import IN_PROGRESS, OPEN, REQUESTED, WAITING, status_label

# What the details' Cancel may end: a studio session with a Runway session that has not ended
# (a request Runway has not answered yet has nothing to cancel).
CANCELLABLE = (frozenset(OPEN) - {REQUESTED}) | {WAITING}  # a caller in line can be let go
LEDGER_TRANSCRIPT, RUNWAY_TRANSCRIPT = "the studio's ledger", "Runway's conversations API"


@dataclass
class SessionDetails:
    key: str
    origin: str
    avatar: str
    status: str                  # canonical
    label: str                   # as shown in the table
    can_cancel: bool
    created: float | None
    failure: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)  # {at, offset, name, detail}
    overrides: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] = field(default_factory=list)  # {role, content, timestamp}
    transcript_source: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    recording_url: str | None = None
    recording_fetched_at: float | None = None
    duration: str = ""
    request_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class _Facts:
    """What the details' heading says, from the ledger row or else the conversation."""

    status: str
    queued: bool
    created: float | None
    avatar_id: str | None
    origin: str
    failure_code: str | None
    failure: str | None
    seconds: float | None


def _row_facts(row: dict[str, Any], now: float) -> _Facts:
    seconds = row.get("duration")
    if seconds is None and row.get("running_at"):
        seconds = (row.get("ended_at") or now) - row["running_at"]
    return _Facts(row["status"], bool(row.get("queued")), row.get("requested_at"),
                  row.get("avatar_id"), STUDIO, row.get("failure_code"), row.get("failure"), seconds)


def _conversation_facts(conversation: dict[str, Any]) -> _Facts:
    return _Facts(
        CONVERSATION_STATUS.get(conversation.get("status"), IN_PROGRESS), False,
        epoch(conversation.get("created_at")),
        conversation_avatar_id(conversation.get("avatar") or {}), ELSEWHERE,
        conversation.get("failure_code"), conversation.get("failure"), conversation.get("duration"),
    )


def session_details(
    row: dict[str, Any] | None,
    events: Sequence[dict[str, Any]],
    conversation: dict[str, Any] | None,
    now: float,
    *,
    fetched_at: float | None = None,
    answered: Sequence[dict[str, Any]] = (),
) -> SessionDetails:
    """Everything the details panel shows of one session (a ledger row, a conversation, or both).

    `answered`: the tool calls the studio itself recorded (its RPC backend's answers), shown when
    Runway's conversation has no record of them (yet, or at all)."""
    if row is None and conversation is None:
        raise ValueError("a session needs a ledger row or a conversation")
    conversation = conversation or {}
    facts = _row_facts(row, now) if row is not None else _conversation_facts(conversation)
    transcript, source = _transcript(row, conversation)
    return SessionDetails(
        key=(row and (row.get("session_id") or row["request_id"])) or conversation["id"],
        origin=facts.origin,
        avatar=avatar_label(facts.avatar_id, (conversation.get("avatar") or {}).get("name")),
        status=facts.status,
        label=status_label(facts.status, facts.queued),
        can_cancel=row is not None and facts.status in CANCELLABLE,
        created=facts.created,
        failure=failure_text(facts.failure_code, facts.failure),
        timeline=_timeline(events, facts.created) or _conversation_timeline(conversation,
                                                                            facts.created),
        overrides=(dict(row.get("overrides") or {}) if row is not None
                   else _conversation_overrides(conversation)),
        transcript=transcript,
        transcript_source=source,
        tools=list(conversation.get("tools") or []),
        tool_calls=[
            call | {"at": entry.get("timestamp")}
            for entry in (conversation.get("transcript") or row and row.get("transcript") or [])
            for call in _tool_calls(entry)
        ] or [_answered_call(call) for call in answered],
        recording_url=conversation.get("recording_url"),
        recording_fetched_at=fetched_at if conversation.get("recording_url") else None,
        duration=clock_duration(facts.seconds),
        request_id=row.get("request_id") if row else None,
        session_id=(row.get("session_id") if row else conversation.get("id")),
    )


def _timeline(events: Sequence[dict[str, Any]], created: float | None) -> list[dict[str, Any]]:
    return [
        {"at": e["at"], "offset": (e["at"] - created) if created else None, "name": e["name"],
         "detail": e.get("detail") or ""}
        for e in events
    ]


def _conversation_timeline(
    conversation: dict[str, Any], created: float | None,
) -> list[dict[str, Any]]:
    moments = [("created", conversation.get("created_at")),
               ("started", conversation.get("started_at")), ("ended", conversation.get("ended_at"))]
    out = []
    for name, value in moments:
        at = epoch(value)
        if at is not None:
            offset = at - created if created else None
            out.append({"at": at, "offset": offset, "name": name, "detail": ""})
    return out


def _conversation_overrides(conversation: dict[str, Any]) -> dict[str, Any]:
    if conversation.get("max_duration"):
        return {"maxDuration": conversation["max_duration"]}
    return {}


def _transcript(
    row: dict[str, Any] | None, conversation: dict[str, Any],
) -> tuple[list[dict[str, Any]], str]:
    """The transcript and where it came from: the ledger's (the browser's report) first."""
    if row is not None and row.get("transcript"):
        return [_entry(e) for e in row["transcript"]], LEDGER_TRANSCRIPT
    if conversation.get("transcript"):
        return [_entry(e) for e in conversation["transcript"]], RUNWAY_TRANSCRIPT
    return [], ""


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    stamp = entry.get("timestamp")
    out = {"role": entry.get("role") or "", "content": entry.get("content") or "",
           "timestamp": stamp.isoformat() if hasattr(stamp, "isoformat") else stamp}
    called = [c.get("name") for c in entry.get("tool_calls") or entry.get("toolCalls") or []]
    if called:  # a turn where the character used tools (its content is often empty)
        out["tools"] = called
    return out


def _answered_call(call: dict[str, Any]) -> dict[str, Any]:
    """A tool call from the studio's own record, in the shape of Runway's."""
    return {"name": call.get("tool"), "arguments": call.get("arguments") or {},
            "result": call.get("answer"), "error": call.get("error"),
            "duration_ms": call.get("latency_ms"), "at": call.get("at")}


def _tool_calls(entry: dict[str, Any]) -> list[dict[str, Any]]:
    calls = entry.get("tool_calls") or entry.get("toolCalls") or []
    answers = entry.get("tool_results") or entry.get("toolResults") or []
    results = {r.get("id") or r.get("name"): r for r in answers}
    out = []
    for call in calls:
        result = results.get(call.get("id") or call.get("name")) or {}
        duration = result.get("duration_ms", result.get("durationMs"))
        out.append({"name": call.get("name"), "arguments": call.get("arguments") or {},
                    "result": result.get("result"), "error": result.get("error"),
                    "duration_ms": duration})
    return out
