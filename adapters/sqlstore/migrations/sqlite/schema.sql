-- jwtauth schema, current version (SQLite). A new database is created from
-- this file directly and recorded at the latest migration's version; the
-- numbered files upgrade older databases and must end in the same schema
-- (a test compares the two).
-- Times are TEXT in the fixed-width UTC form 2006-01-02T15:04:05.000000Z, so
-- that text order is time order. Generations are canonical lower-case UUIDs.

-- One generation per (user, token type). Rotating it revokes every token of
-- that type for that user.
CREATE TABLE jwtauth_user_auth (
    user_id    TEXT NOT NULL,
    token_type TEXT NOT NULL CHECK (token_type IN ('access', 'refresh')),
    generation TEXT NOT NULL CHECK (length(generation) = 36),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, token_type)
) STRICT;

-- One row per device login. No token is stored, only metadata; jkt is the
-- thumbprint of the DPoP key the session is bound to ('' when unbound).
CREATE TABLE jwtauth_sessions (
    id              TEXT    NOT NULL PRIMARY KEY,
    user_id         TEXT    NOT NULL,
    device_id       TEXT    NOT NULL DEFAULT '',
    device_name     TEXT    NOT NULL DEFAULT '',
    ip              TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    last_seen_at    TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,
    refresh_counter INTEGER NOT NULL DEFAULT 0 CHECK (refresh_counter >= 0),
    rotated_at      TEXT    NULL,
    revoked_at      TEXT    NULL,
    jkt             TEXT    NOT NULL DEFAULT ''
) STRICT;

-- A user's live sessions, oldest first (Sessions, UpdateUser): revoked
-- history is outside the index, so per-user reads stay bounded by the
-- live-session cap.
CREATE INDEX jwtauth_sessions_user_active_idx ON jwtauth_sessions (user_id, created_at) WHERE revoked_at IS NULL;
-- Prune: expires_at < ? OR revoked_at < ? OR last_seen_at < ?, one index
-- per side of the OR.
CREATE INDEX jwtauth_sessions_expires_at_idx ON jwtauth_sessions (expires_at);
CREATE INDEX jwtauth_sessions_revoked_at_idx ON jwtauth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX jwtauth_sessions_last_seen_at_idx ON jwtauth_sessions (last_seen_at) WHERE revoked_at IS NULL;
