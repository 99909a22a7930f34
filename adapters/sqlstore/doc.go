// Package sqlstore is jwtauth's ports.Store on PostgreSQL (lib/pq) and
// SQLite (modernc.org/sqlite, pure Go), one sqlx code base for both.
//
// Open a database with OpenPostgres or OpenSQLite, create the tables with
// Migrate (idempotent, safe from several processes at once), then make a
// Store with NewPostgres or NewSQLite.
//
// # Schema
//
// Schema 2: jwtauth_user_auth (one generation UUID per user and token
// type), jwtauth_sessions (one row per device login; never a token) and
// jwtauth_schema_version. A new database is created from the current
// schema (migrations/<dialect>/schema.sql) in one step; older ones are
// upgraded by the numbered migrations (migrations/<dialect>/NNNN_name.sql):
// 0002 renames schema 1's user_auth and sessions, keeping every row. Times are stored in UTC at microsecond precision
// (timestamptz on PostgreSQL, fixed-width text on SQLite); IP addresses as
// text, "" for none.
//
// # Locking
//
// UpdateUser runs in one transaction. On PostgreSQL it creates the user's
// jwtauth_user_auth rows if missing (INSERT ... ON CONFLICT DO NOTHING) and locks
// them with SELECT ... FOR UPDATE, so updates of one user serialize while
// updates of different users run in parallel. On SQLite the transaction
// takes the database's single write lock (BEGIN IMMEDIATE), so all updates
// serialize; within a process they queue, one per user at a time, and
// those queued together share one transaction, each in a savepoint of its
// own, so that they pay for one commit (group commit) and fail alone.
//
// A session id never moves to another user and a revoked session stays
// revoked: a UserChange.Put built from a stale read cannot revive it.
//
// # Invalidations
//
// On PostgreSQL, UpdateUser sends the keys of rotated generations, revoked
// sessions and put sessions (ports.GenerationKey, ports.SessionKey) with
// pg_notify on the channel set by WithChannel (default DefaultChannel), in
// the same transaction, so listeners hear of a change exactly when it
// commits. A payload is keys separated by "\n", at most about 7900 bytes;
// larger changes are sent as several notifications. A Publisher given with
// WithPublisher is called after the commit on either database.
//
// # Errors
//
// Every database failure wraps domain.ErrUnavailable (and, when the
// context ended, its error too), so callers fail closed. Session reports an
// unknown id as domain.ErrSessionNotFound; UpdateUser returns fn's error
// as is.
package sqlstore
