-- jwtauth schema version 2 (PostgreSQL): every table and index name carries
-- the jwtauth_ prefix, so none collides with an application's own
-- "sessions" or "user_auth". Rows are kept: the tables are renamed, not
-- copied. Prune gets an index on last_seen_at (the idle-timeout side of
-- its OR).
ALTER TABLE user_auth RENAME TO jwtauth_user_auth;
ALTER INDEX user_auth_pkey RENAME TO jwtauth_user_auth_pkey;
ALTER TABLE jwtauth_user_auth RENAME CONSTRAINT user_auth_token_type_check TO jwtauth_user_auth_token_type_check;

ALTER TABLE sessions RENAME TO jwtauth_sessions;
ALTER INDEX sessions_pkey RENAME TO jwtauth_sessions_pkey;
ALTER TABLE jwtauth_sessions RENAME CONSTRAINT sessions_refresh_counter_check TO jwtauth_sessions_refresh_counter_check;
ALTER INDEX sessions_user_active_idx RENAME TO jwtauth_sessions_user_active_idx;
ALTER INDEX sessions_expires_at_idx RENAME TO jwtauth_sessions_expires_at_idx;
ALTER INDEX sessions_revoked_at_idx RENAME TO jwtauth_sessions_revoked_at_idx;
CREATE INDEX jwtauth_sessions_last_seen_at_idx ON jwtauth_sessions (last_seen_at) WHERE revoked_at IS NULL;
