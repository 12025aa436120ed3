-- The ledger: one row per session request, and its append-only timeline (PostgreSQL types).
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
    requested_at   DOUBLE PRECISION NOT NULL,
    created_at     DOUBLE PRECISION,
    ready_at       DOUBLE PRECISION,
    consumed_at    DOUBLE PRECISION,
    connected_at   DOUBLE PRECISION,
    first_frame_at DOUBLE PRECISION,
    running_at     DOUBLE PRECISION,
    ended_at       DOUBLE PRECISION,
    transcript     TEXT,
    updated_at     DOUBLE PRECISION NOT NULL
);
CREATE INDEX sessions_status ON sessions(status);
CREATE INDEX sessions_requested ON sessions(requested_at);
CREATE INDEX sessions_client ON sessions(client_id, requested_at);
CREATE TABLE events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES sessions(request_id),
    name       TEXT NOT NULL,
    at         DOUBLE PRECISION NOT NULL,
    detail     TEXT
);
CREATE INDEX events_request ON events(request_id, at);
