-- jwtauth schema version 2 (SQLite): every table and index name carries the
-- jwtauth_ prefix, so none collides with an application's own "sessions"
-- or "user_auth". Rows are kept: the tables are renamed, not copied
-- (SQLite cannot rename an index: they are dropped and created again).
-- Prune gets an index on last_seen_at (the idle-timeout side of its OR).
ALTER TABLE user_auth RENAME TO jwtauth_user_auth;
ALTER TABLE sessions RENAME TO jwtauth_sessions;
DROP INDEX sessions_user_active_idx;
DROP INDEX sessions_expires_at_idx;
DROP INDEX sessions_revoked_at_idx;
CREATE INDEX jwtauth_sessions_user_active_idx ON jwtauth_sessions (user_id, created_at) WHERE revoked_at IS NULL;
CREATE INDEX jwtauth_sessions_expires_at_idx ON jwtauth_sessions (expires_at);
CREATE INDEX jwtauth_sessions_revoked_at_idx ON jwtauth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX jwtauth_sessions_last_seen_at_idx ON jwtauth_sessions (last_seen_at) WHERE revoked_at IS NULL;
