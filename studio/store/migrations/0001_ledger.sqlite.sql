-- The ledger: one row per session request, and its append-only timeline.
CREATE TABLE sessions (
    request_id     TEXT PRIMARY KEY,
    session_id     TEXT UNIQUE,
    avatar_id      TEXT NOT NULL,
    status         TEXT NOT NULL,
    queued         INTEGER NOT NULL DEFAULT 0,
    failure        TEXT,
    failure_code   TEXT,
    duration       INTEGER,
    max_duration   INTEGER,
    overrides      TEXT NOT NULL DEFAULT '{}',
    mode           TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    requested_at   REAL NOT NULL,
    created_at     REAL,
    ready_at       REAL,
    consumed_at    REAL,
    connected_at   REAL,
    first_frame_at REAL,
    running_at     REAL,
    ended_at       REAL,
    transcript     TEXT,
    updated_at     REAL NOT NULL
);
CREATE INDEX sessions_status ON sessions(status);
CREATE INDEX sessions_requested ON sessions(requested_at);
CREATE INDEX sessions_client ON sessions(client_id, requested_at);
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES sessions(request_id),
    name       TEXT NOT NULL,
    at         REAL NOT NULL,
    detail     TEXT
);
CREATE INDEX events_request ON events(request_id, at);
