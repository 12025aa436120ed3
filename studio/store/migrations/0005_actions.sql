-- Actions: each character's tools (as sent to Runway) and how the studio answers them, the tools
-- each session was given, and every tool call made in a session.
CREATE TABLE tool_sets (
    avatar_id  TEXT NOT NULL,
    name       TEXT NOT NULL,
    position   INTEGER NOT NULL,
    definition TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    answer     TEXT,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (avatar_id, name)
);
CREATE TABLE session_tools (
    request_id TEXT PRIMARY KEY,
    session_id TEXT,
    avatar_id  TEXT NOT NULL,
    tools      TEXT NOT NULL,
    answers    TEXT NOT NULL,
    at         DOUBLE PRECISION NOT NULL
);
CREATE INDEX session_tools_session ON session_tools(session_id);
CREATE TABLE tool_calls (
    call_id    TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    tool       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    arguments  TEXT NOT NULL,
    answer     TEXT,
    error      TEXT,
    latency_ms DOUBLE PRECISION,
    at         DOUBLE PRECISION NOT NULL
);
CREATE INDEX tool_calls_session ON tool_calls(session_id, at);
CREATE INDEX tool_calls_tool ON tool_calls(tool);
