-- jwtauth schema, current version (PostgreSQL). A new database is created
-- from this file directly and recorded at the latest migration's version;
-- the numbered files upgrade older databases and must end in the same
-- schema (a test compares the two).

-- One generation per (user, token type). Rotating it revokes every token of
-- that type for that user.
CREATE TABLE jwtauth_user_auth (
    user_id    text        NOT NULL,
    token_type text        NOT NULL,
    generation uuid        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jwtauth_user_auth_pkey PRIMARY KEY (user_id, token_type),
    CONSTRAINT jwtauth_user_auth_token_type_check CHECK (token_type IN ('access', 'refresh'))
);

-- One row per device login. No token is stored, only metadata; jkt is the
-- thumbprint of the DPoP key the session is bound to ('' when unbound).
CREATE TABLE jwtauth_sessions (
    id              text        NOT NULL,
    user_id         text        NOT NULL,
    device_id       text        NOT NULL DEFAULT '',
    device_name     text        NOT NULL DEFAULT '',
    ip              text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    refresh_counter bigint      NOT NULL DEFAULT 0,
    rotated_at      timestamptz NULL,
    revoked_at      timestamptz NULL,
    jkt             text        NOT NULL DEFAULT '',
    CONSTRAINT jwtauth_sessions_pkey PRIMARY KEY (id),
    CONSTRAINT jwtauth_sessions_refresh_counter_check CHECK (refresh_counter >= 0)
);

-- A user's live sessions, oldest first (Sessions, UpdateUser): revoked
-- history is outside the index, so per-user reads stay bounded by the
-- live-session cap.
CREATE INDEX jwtauth_sessions_user_active_idx ON jwtauth_sessions (user_id, created_at) WHERE revoked_at IS NULL;
-- Prune: expires_at < $1 OR revoked_at < $1 OR last_seen_at < $2, one
-- index per side of the OR.
CREATE INDEX jwtauth_sessions_expires_at_idx ON jwtauth_sessions (expires_at);
CREATE INDEX jwtauth_sessions_revoked_at_idx ON jwtauth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX jwtauth_sessions_last_seen_at_idx ON jwtauth_sessions (last_seen_at) WHERE revoked_at IS NULL;
