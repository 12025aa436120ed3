"""Where the studio keeps actions, beside the ledger (tables from migration 0005, on SQLite or on
the PostgreSQL every replica shares): each character's tools and how each is answered, the tools
each session was given, and every tool call. Runway keeps tools per session, not per character,
so this is what makes a character's tools last. All writes to these tables go through here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.actions.answers import default_answer, validate_answer
from studio.actions.tools import BACKEND_RPC, validate_tools
from studio.store import Database


@dataclass
class ToolEntry:
    """One tool of a character: its definition (the wire shape), on or off, and its answer."""

    tool: dict[str, Any]
    enabled: bool = True
    answer: dict[str, Any] | None = None  # backend_rpc only

    @property
    def name(self) -> str:
        return self.tool["name"]

    def as_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "enabled": self.enabled, "answer": self.answer}


@dataclass(frozen=True)
class SessionTools:
    """What one session was given: the tools sent and the answers of its backend_rpc tools."""

    request_id: str
    avatar_id: str
    tools: list[dict[str, Any]]
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_id: str | None = None

    @property
    def backend_tools(self) -> list[dict[str, Any]]:
        return [t for t in self.tools if t.get("type") == BACKEND_RPC]


def check_entries(entries: Sequence[ToolEntry], *, allow_private: bool = False) -> list[ToolEntry]:
    """Entries with valid tools and answers (defaults filled in), or `ToolsInvalid`."""
    tools = validate_tools([e.tool for e in entries])
    checked = []
    for entry, tool in zip(entries, tools):
        answer = None
        if tool["type"] == BACKEND_RPC:
            answer = validate_answer(entry.answer or default_answer(tool), tool, allow_private=allow_private)
        checked.append(ToolEntry(tool, bool(entry.enabled), answer))
    return checked


class ActionStore:
    def __init__(self, db: Database, *, allow_private: bool = False) -> None:
        self.db, self.allow_private = db, allow_private

    # Tool sets ------------------------------------------------------------------------------------

    def tools(self, avatar_id: str) -> list[ToolEntry]:
        rows = self.db.query("SELECT definition, enabled, answer FROM tool_sets WHERE avatar_id = ?"
                             " ORDER BY position", (avatar_id,))
        return [ToolEntry(json.loads(r["definition"]), bool(r["enabled"]),
                          json.loads(r["answer"]) if r["answer"] else None) for r in rows]

    def save_tools(self, avatar_id: str, entries: Sequence[ToolEntry], at: float) -> list[ToolEntry]:
        """Replace a character's tools as a whole, after checking every one (`ToolsInvalid`)."""
        checked = check_entries(entries, allow_private=self.allow_private)
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM tool_sets WHERE avatar_id = ?", (avatar_id,))
            for position, entry in enumerate(checked):
                tx.execute(
                    "INSERT INTO tool_sets (avatar_id, name, position, definition, enabled, answer, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (avatar_id, entry.name, position, json.dumps(entry.tool), int(entry.enabled),
                     json.dumps(entry.answer) if entry.answer else None, at))
        return checked

    def session_tools_for(self, avatar_id: str, switched_off: Iterable[str] = ()) -> SessionTools:
        """The enabled tools a new session of this character gets, less those switched off."""
        off = set(switched_off)
        chosen = [e for e in self.tools(avatar_id) if e.enabled and e.name not in off]
        return SessionTools("", avatar_id, [e.tool for e in chosen],
                            {e.name: e.answer for e in chosen if e.answer})

    # Sessions -------------------------------------------------------------------------------------

    def record_session_tools(self, request_id: str, given: SessionTools, at: float) -> None:
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO session_tools (request_id, avatar_id, tools, answers, at)"
                       " VALUES (?, ?, ?, ?, ?)",
                       (request_id, given.avatar_id, json.dumps(given.tools), json.dumps(given.answers), at))

    def attach_session(self, request_id: str, session_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE session_tools SET session_id = ? WHERE request_id = ?", (session_id, request_id))

    def session_tools(self, any_id: str) -> SessionTools | None:
        """The tools a session was given, by request id or session id."""
        rows = self.db.query("SELECT * FROM session_tools WHERE request_id = ? OR session_id = ?",
                             (any_id, any_id))
        if not rows:
            return None
        r = rows[0]
        return SessionTools(r["request_id"], r["avatar_id"], json.loads(r["tools"]),
                            json.loads(r["answers"]), r["session_id"])

    # Tool calls -----------------------------------------------------------------------------------

    def record_call(
        self, session_id: str, tool: str, kind: str, arguments: Mapping[str, Any], *, at: float,
        answer: Any = None, error: str | None = None, latency_ms: float | None = None,
    ) -> str:
        call_id = uuid.uuid4().hex
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO tool_calls (call_id, session_id, tool, kind, arguments, answer, error,"
                " latency_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (call_id, session_id, tool, kind, json.dumps(dict(arguments)),
                 None if answer is None else json.dumps(answer), error, latency_ms, at))
        return call_id

    def calls(self, session_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """A session's tool calls, oldest first."""
        rows = self.db.query("SELECT * FROM tool_calls WHERE session_id = ? ORDER BY at, call_id LIMIT ?",
                             (session_id, limit))
        return [_call(r) for r in rows]

    def latest_call_at(self, session_id: str) -> tuple[int, float]:
        """How many calls a session has and when the newest was (a cheap "anything new?")."""
        rows = self.db.query("SELECT COUNT(*) AS n, MAX(at) AS newest FROM tool_calls WHERE session_id = ?",
                             (session_id,))
        return int(rows[0]["n"]), float(rows[0]["newest"] or 0.0)

    def sessions_that_called(self, tool: str) -> set[str]:
        """Session ids with at least one call of `tool` (the Sessions tab's filter)."""
        return {r["session_id"] for r in self.db.query(
            "SELECT DISTINCT session_id FROM tool_calls WHERE tool = ?", (tool,))}


def _call(row: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(row)
    data["arguments"] = json.loads(data["arguments"])
    data["answer"] = json.loads(data["answer"]) if data["answer"] is not None else None
    return data
