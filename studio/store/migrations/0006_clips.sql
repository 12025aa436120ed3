-- Clips: avatar videos rendered through Runway's tasks, one row per clip, kept by the studio.
CREATE TABLE clips (
    clip_id           TEXT PRIMARY KEY,
    task_id           TEXT UNIQUE,
    group_id          TEXT,
    group_position    INTEGER,
    avatar_id         TEXT NOT NULL,
    avatar_name       TEXT NOT NULL,
    script            TEXT,
    audio_name        TEXT,
    voice             TEXT,
    voice_name        TEXT NOT NULL,
    status            TEXT NOT NULL,
    progress          DOUBLE PRECISION,
    estimated_credits DOUBLE PRECISION,
    cost_credits      DOUBLE PRECISION,
    duration          DOUBLE PRECISION,
    output_url        TEXT,
    output_expires_at DOUBLE PRECISION,
    failure           TEXT,
    failure_code      TEXT,
    cancel_pending    INTEGER NOT NULL DEFAULT 0,
    client_id         TEXT NOT NULL,
    created_at        DOUBLE PRECISION NOT NULL,
    started_at        DOUBLE PRECISION,
    ended_at          DOUBLE PRECISION,
    updated_at        DOUBLE PRECISION NOT NULL
);
CREATE INDEX clips_status ON clips(status);
CREATE INDEX clips_created ON clips(created_at);
CREATE INDEX clips_group ON clips(group_id);
