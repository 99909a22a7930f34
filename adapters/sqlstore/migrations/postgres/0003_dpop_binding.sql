-- jwtauth schema version 3 (PostgreSQL): a session records the thumbprint of
-- the DPoP key (RFC 9449) it is bound to; '' for the unbound sessions
-- that exist before it.
ALTER TABLE jwtauth_sessions ADD COLUMN jkt text NOT NULL DEFAULT '';
