-- jwtauth schema version 1 (PostgreSQL).

-- One generation per (user, token type). Rotating it revokes every token of
-- that type for that user.
CREATE TABLE user_auth (
    user_id    text        NOT NULL,
    token_type text        NOT NULL CHECK (token_type IN ('access', 'refresh')),
    generation uuid        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, token_type)
);

-- One row per device login. No token is stored, only metadata.
CREATE TABLE sessions (
    id              text        PRIMARY KEY,
    user_id         text        NOT NULL,
    device_id       text        NOT NULL DEFAULT '',
    device_name     text        NOT NULL DEFAULT '',
    ip              text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    refresh_counter bigint      NOT NULL DEFAULT 0 CHECK (refresh_counter >= 0),
    rotated_at      timestamptz NULL,
    revoked_at      timestamptz NULL
);

-- A user's live sessions, oldest first (Sessions, UpdateUser).
CREATE INDEX sessions_user_active_idx ON sessions (user_id, created_at) WHERE revoked_at IS NULL;
-- Prune: expires_at < $1 OR revoked_at < $1, one index per side of the OR.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
