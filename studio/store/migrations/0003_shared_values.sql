-- Values every replica shares: the client-id salt, and upstream listings fetched once per
-- interval for all replicas (claimed_at is the lease of the replica fetching it now).
CREATE TABLE shared_values (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    fetched_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    claimed_at DOUBLE PRECISION NOT NULL DEFAULT 0
);
