package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/jwtauth/jwtauth/adapters/internal/notify"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// DefaultChannel is the PostgreSQL NOTIFY channel invalidations are sent on
// unless WithChannel says otherwise.
const DefaultChannel = "jwtauth_invalidate"

// publishTimeout bounds the Publisher call made after a commit. The call
// does not inherit the caller's cancellation: the change is already made.
const publishTimeout = 5 * time.Second

// revokeChunk is how many session ids one UPDATE ... IN (...) revokes, well
// below the bind parameter limits of both databases.
const revokeChunk = 500

// Store is a ports.Store on PostgreSQL or SQLite through sqlx. It is safe
// for concurrent use. Make one with NewPostgres or NewSQLite on a database
// that Migrate has prepared.
type Store struct {
	db      *sqlx.DB
	dialect *dialect
	q       queries
	pub     ports.Publisher
	channel string
	now     func() time.Time
	timeout time.Duration
	stmts   preparedStatements
	// writers, on SQLite, queues this process's UpdateUser calls, one per
	// user at a time, and makes those queued together in one transaction
	// (group commit). Without it the write lock's busy handler would let
	// one busy user's writers win again and again while another's back
	// off for up to 100 ms at a time, and every update would pay a
	// commit of its own.
	writers *writeQueue
}

var _ ports.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithPublisher makes the Store call p with the invalidation keys (see
// ports.GenerationKey, ports.SessionKey) of every change after it commits.
// Optional. Default: none. A nil p means none. On PostgreSQL the keys are
// also sent with NOTIFY (see WithChannel); a Publisher is for buses that do
// not listen to PostgreSQL, such as an in-process one.
func WithPublisher(p ports.Publisher) Option {
	return func(s *Store) { s.pub = p }
}

// WithChannel sets the PostgreSQL NOTIFY channel on which UpdateUser
// announces invalidations, inside the transaction so that they are
// delivered exactly when the change commits. Each notification's payload is
// keys separated by "\n"; a change whose keys exceed about 7900 bytes is
// sent as several notifications. Optional. Default DefaultChannel. "" turns
// NOTIFY off. Ignored on SQLite.
func WithChannel(name string) Option {
	return func(s *Store) { s.channel = name }
}

// WithClock sets the clock used for updated_at columns and for revocations
// whose UserChange.RevokedAt is zero. Optional. Default time.Now. A nil now
// means time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// WithTimeout bounds every call of the Store, waiting for a pooled
// connection included: past d the call returns an error wrapping
// domain.ErrUnavailable and context.DeadlineExceeded, and a transaction
// under way rolls back (database/sql rolls back a transaction whose
// context ends, and never sends COMMIT after). Optional. Default 0: only
// the caller's context bounds a call. The publishing after a commit has
// its own bound.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) { s.timeout = max(d, 0) }
}

// bound returns ctx limited by the Store's timeout.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// NewPostgres returns a Store on db, a PostgreSQL pool (see OpenPostgres).
// UpdateUser locks the user's jwtauth_user_auth rows with SELECT ... FOR UPDATE, so
// updates of different users run in parallel. The store prepares its
// frequent statements on first use (one round trip each instead of two),
// which poolers in transaction mode before PgBouncer 1.21 do not support.
func NewPostgres(db *sqlx.DB, opts ...Option) *Store { return newStore(db, postgres, opts) }

// NewSQLite returns a Store on db, a SQLite database (see OpenSQLite).
// UpdateUser runs in a write transaction, so updates serialize across the
// whole database (SQLite has a single writer). Within the process they
// queue, one per user at a time, and those queued together share one
// transaction and its commit, each within a savepoint of its own (group
// commit): one user's stream of updates cannot starve another's, and the
// other's update rides along with the busy user's next one instead of
// waiting for it. db needs a busy timeout (OpenSQLite sets 10 s); without
// one, writes outside the queue (Prune, other processes) make updates fail
// with SQLITE_BUSY instead of waiting.
func NewSQLite(db *sqlx.DB, opts ...Option) *Store { return newStore(db, sqlite, opts) }

func newStore(db *sqlx.DB, d *dialect, opts []Option) *Store {
	s := &Store{db: db, dialect: d, channel: DefaultChannel, now: time.Now}
	if d == sqlite {
		s.writers = newWriteQueue(s.runBatch)
	}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	s.q = newQueries(d)
	return s
}

// queries are the store's statements in the dialect's placeholder style.
type queries struct {
	generation, session, sessions, prune              string
	ensureGenerations, lockGenerations, setGeneration string
	putSession, notify                                string
}

// revokeSessions has an IN (?) that sqlx.In expands; it is rebound after.
const revokeSessions = `UPDATE jwtauth_sessions SET revoked_at = ?
WHERE user_id = ? AND revoked_at IS NULL AND id IN (?)
RETURNING id`

func newQueries(d *dialect) queries {
	return queries{
		generation: d.rebind(`SELECT generation FROM jwtauth_user_auth WHERE user_id = ? AND token_type = ?`),
		session:    d.rebind(`SELECT ` + sessionColumns + ` FROM jwtauth_sessions WHERE id = ?`),
		sessions: d.rebind(`SELECT ` + sessionColumns + ` FROM jwtauth_sessions
WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id`),
		prune: d.rebind(`DELETE FROM jwtauth_sessions WHERE id IN (
SELECT id FROM jwtauth_sessions WHERE expires_at < ? OR revoked_at < ? OR last_seen_at < ? LIMIT ` + strconv.Itoa(pruneBatch) + `)`),
		ensureGenerations: d.rebind(`INSERT INTO jwtauth_user_auth (user_id, token_type, generation, updated_at)
VALUES (?, ?, ?, ?), (?, ?, ?, ?)
ON CONFLICT (user_id, token_type) DO NOTHING`),
		lockGenerations: d.rebind(`SELECT token_type, generation FROM jwtauth_user_auth
WHERE user_id = ? ORDER BY token_type` + d.lockUser),
		setGeneration: d.rebind(`UPDATE jwtauth_user_auth SET generation = ?, updated_at = ?
WHERE user_id = ? AND token_type = ?`),
		// A session id never moves to another user, a revoked session
		// stays revoked (a Put built from a stale read cannot revive it),
		// and its DPoP key never changes.
		putSession: d.rebind(`INSERT INTO jwtauth_sessions (` + sessionColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    device_id = excluded.device_id,
    device_name = excluded.device_name,
    ip = excluded.ip,
    created_at = excluded.created_at,
    last_seen_at = excluded.last_seen_at,
    expires_at = excluded.expires_at,
    refresh_counter = excluded.refresh_counter,
    rotated_at = excluded.rotated_at,
    revoked_at = COALESCE(jwtauth_sessions.revoked_at, excluded.revoked_at)
WHERE jwtauth_sessions.user_id = excluded.user_id`),
		notify: d.rebind(`SELECT pg_notify(?, ?)`),
	}
}

// unavailable wraps a database error in domain.ErrUnavailable. When ctx
// has ended, its error joins the chain too, since drivers report a
// cancelled statement in their own words.
func unavailable(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", err, cerr)
	}
	return fmt.Errorf("%w: sqlstore: %s: %w", domain.ErrUnavailable, op, err)
}

// Generation implements ports.Store.
func (s *Store) Generation(ctx context.Context, userID string, typ domain.TokenType) (string, error) {
	if typ != domain.Access && typ != domain.Refresh {
		return "", fmt.Errorf("%w: token type %q", domain.ErrInvalidArgument, typ)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var gen string
	err := s.pool(ctx).GetContext(ctx, &gen, s.q.generation, userID, string(typ))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", unavailable(ctx, "read generation", err)
	}
	return gen, nil
}

// Session implements ports.Store.
func (s *Store) Session(ctx context.Context, sessionID string) (domain.Session, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var r sessionRow
	err := s.pool(ctx).GetContext(ctx, &r, s.q.session, sessionID)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.Session{}, unavailable(ctx, "read session", err)
	}
	return r.session(), nil
}

// Sessions implements ports.Store.
func (s *Store) Sessions(ctx context.Context, userID string) ([]domain.Session, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.liveSessions(ctx, s.pool(ctx), userID)
}

func (s *Store) liveSessions(ctx context.Context, q runner, userID string) ([]domain.Session, error) {
	var rows []sessionRow
	if err := q.SelectContext(ctx, &rows, s.q.sessions, userID); err != nil {
		return nil, unavailable(ctx, "read sessions", err)
	}
	out := make([]domain.Session, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}

// Prune implements ports.Store.
func (s *Store) Prune(ctx context.Context, before, idleBefore time.Time) (int64, error) {
	t, idle := timeArg(before), timeArg(idleBefore)
	var total int64
	for {
		n, err := s.pruneBatch(ctx, t, idle)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// pruneBatch is how many sessions one Prune statement deletes: each runs
// under its own deadline and holds SQLite's write lock only briefly, so a
// large backlog is worked off batch by batch.
const pruneBatch = 1000

// pruneBatch deletes up to pruneBatch ended sessions.
func (s *Store) pruneBatch(ctx context.Context, before, idleBefore any) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, s.q.prune, before, before, idleBefore)
	if err != nil {
		return 0, unavailable(ctx, "prune sessions", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, unavailable(ctx, "prune sessions", err)
	}
	return n, nil
}

// UpdateUser implements ports.Store. On PostgreSQL it locks the user's two
// jwtauth_user_auth rows (SELECT ... FOR UPDATE) and sends the invalidation keys
// with pg_notify in the same transaction; on SQLite it holds the write
// lock, in a transaction it may share with other users' updates (see
// NewSQLite), and fn runs on the store's goroutine (a panic of fn is
// raised again in the caller's). After the commit it calls the Publisher,
// if any; should that fail, the change stays committed and the error
// wraps domain.ErrUnavailable.
//
// Errors: fn's error as is; domain.ErrInvalidArgument for an empty userID,
// a nil fn, a malformed generation, a Put session that has no id, belongs
// to another user or carries a counter above MaxInt64, or (with NOTIFY on)
// a changed user or session id that cannot travel in a NOTIFY payload
// (holding a newline or NUL, say);
// domain.ErrUnavailable when the database fails. fn must not call the
// Store: it runs inside a transaction that holds a pooled connection.
func (s *Store) UpdateUser(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) error {
	if userID == "" {
		return fmt.Errorf("%w: sqlstore: empty user id", domain.ErrInvalidArgument)
	}
	if fn == nil {
		return fmt.Errorf("%w: sqlstore: nil update function", domain.ErrInvalidArgument)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	update := s.updateTx
	if s.writers != nil {
		update = s.updateQueued
	}
	keys, err := update(ctx, userID, fn)
	if err != nil {
		return err
	}
	if s.pub == nil || len(keys) == 0 {
		return nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.pub.Publish(pctx, keys...); err != nil {
		return fmt.Errorf("%w: sqlstore: change committed but publishing its invalidations failed: %w", domain.ErrUnavailable, err)
	}
	return nil
}

// updateQueued makes UpdateUser's change through the write queue, with
// userID's turn held.
func (s *Store) updateQueued(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) ([]string, error) {
	release, err := s.writers.turn(ctx, userID)
	if err != nil {
		return nil, unavailable(ctx, "wait for the write lock", err)
	}
	defer release()
	return s.writers.update(ctx, userID, fn)
}

// updateTx makes UpdateUser's change in a transaction of its own and
// returns the invalidation keys of the change.
func (s *Store) updateTx(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) ([]string, error) {
	stmts := s.prepared(ctx) // before the transaction takes a connection
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, unavailable(ctx, "begin", err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	keys, err := s.updateUser(ctx, inTx(tx, stmts), userID, fn)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, unavailable(ctx, "commit", err)
	}
	return keys, nil
}

// updateUser runs UpdateUser's transaction body and returns the
// invalidation keys of the change.
func (s *Store) updateUser(ctx context.Context, tx runner, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) ([]string, error) {
	ensure := func() error {
		ts := timeArg(s.now())
		if _, err := tx.ExecContext(ctx, s.q.ensureGenerations,
			userID, string(domain.Access), domain.NewGeneration(), ts,
			userID, string(domain.Refresh), domain.NewGeneration(), ts,
		); err != nil {
			return unavailable(ctx, "create generations", err)
		}
		return nil
	}
	var gens []generationRow
	lock := func() error {
		gens = nil
		if err := tx.SelectContext(ctx, &gens, s.q.lockGenerations, userID); err != nil {
			return unavailable(ctx, "lock user", err)
		}
		return nil
	}
	// SQLite: a write first takes the write lock even in a deferred
	// transaction, before anything is read. PostgreSQL: lock the rows
	// first and create them only when missing, which saves a statement
	// on every update but a user's first; two first updates of one user
	// still serialize, the second INSERT waiting for the first to end.
	if !s.dialect.lockFirst {
		if err := ensure(); err != nil {
			return nil, err
		}
	}
	if err := lock(); err != nil {
		return nil, err
	}
	if len(gens) < 2 && s.dialect.lockFirst {
		if err := ensure(); err != nil {
			return nil, err
		}
		if err := lock(); err != nil {
			return nil, err
		}
	}
	state := domain.UserAuth{UserID: userID}
	for _, g := range gens {
		switch domain.TokenType(g.TokenType) {
		case domain.Access:
			state.AccessGeneration = g.Generation
		case domain.Refresh:
			state.RefreshGeneration = g.Generation
		}
	}
	if state.AccessGeneration == "" || state.RefreshGeneration == "" {
		return nil, unavailable(ctx, "lock user", errors.New("generation rows missing"))
	}
	sessions, err := s.liveSessions(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	state.Sessions = sessions

	// Read once the lock is held, so that a change stamps the time it was
	// made, not the time it began waiting.
	now := s.now()
	change, err := fn(state)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, tx, userID, change, now)
}

// apply writes change inside tx and, on PostgreSQL, queues its NOTIFY.
func (s *Store) apply(ctx context.Context, tx runner, userID string, change ports.UserChange, now time.Time) ([]string, error) {
	if err := validate(userID, change); err != nil {
		return nil, err
	}
	var keys []string
	for _, g := range []struct {
		typ domain.TokenType
		gen string
	}{{domain.Access, change.NewAccessGeneration}, {domain.Refresh, change.NewRefreshGeneration}} {
		if g.gen == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q.setGeneration, strings.ToLower(g.gen), timeArg(now), userID, string(g.typ)); err != nil {
			return nil, unavailable(ctx, "rotate generation", err)
		}
		keys = append(keys, ports.GenerationKey(userID, g.typ))
	}
	for _, sess := range change.Put {
		args, err := sessionArgs(sess)
		if err != nil {
			return nil, err
		}
		res, err := tx.ExecContext(ctx, s.q.putSession, args...)
		if err != nil {
			return nil, unavailable(ctx, "put session", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, unavailable(ctx, "put session", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: sqlstore: session %q belongs to another user", domain.ErrInvalidArgument, sess.ID)
		}
		// Announced too: instances may cache the old row, or its absence.
		keys = append(keys, ports.SessionKey(sess.ID))
	}
	revoked, err := s.revoke(ctx, tx, userID, change, now)
	if err != nil {
		return nil, err
	}
	keys = dedupe(append(keys, revoked...))
	if s.dialect.notify && s.channel != "" {
		// A key the listeners could not get back whole (a user or session
		// id holding a newline, say) would evict nothing there.
		payloads, err := notify.Payloads(keys)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: cannot announce the change: %w", err)
		}
		for _, payload := range payloads {
			if _, err := tx.ExecContext(ctx, s.q.notify, s.channel, payload); err != nil {
				return nil, unavailable(ctx, "notify", err)
			}
		}
	}
	return keys, nil
}

// revoke marks the change's sessions of userID revoked and returns the
// keys of those it revoked (already revoked and foreign ones are left).
func (s *Store) revoke(ctx context.Context, tx runner, userID string, change ports.UserChange, now time.Time) ([]string, error) {
	ids := make([]string, 0, len(change.Revoke))
	for _, id := range change.Revoke {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	at := change.RevokedAt
	if at.IsZero() {
		at = now
	}
	var keys []string
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), revokeChunk)]
		ids = ids[len(chunk):]
		q, args, err := sqlx.In(revokeSessions, timeArg(at), userID, chunk)
		if err != nil {
			return nil, unavailable(ctx, "revoke sessions", err)
		}
		var done []string
		if err := tx.SelectContext(ctx, &done, s.dialect.rebind(q), args...); err != nil {
			return nil, unavailable(ctx, "revoke sessions", err)
		}
		for _, id := range done {
			keys = append(keys, ports.SessionKey(id))
		}
	}
	return keys, nil
}

// validate rejects a change the store must not write.
func validate(userID string, c ports.UserChange) error {
	for _, g := range []string{c.NewAccessGeneration, c.NewRefreshGeneration} {
		if g != "" && !isUUID(g) {
			return fmt.Errorf("%w: sqlstore: generation %q is not a UUID", domain.ErrInvalidArgument, g)
		}
	}
	for _, sess := range c.Put {
		if sess.ID == "" {
			return fmt.Errorf("%w: sqlstore: session without id", domain.ErrInvalidArgument)
		}
		if sess.UserID != userID {
			return fmt.Errorf("%w: sqlstore: session %q of user %q put for user %q", domain.ErrInvalidArgument, sess.ID, sess.UserID, userID)
		}
	}
	return nil
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// dedupe removes repeated keys, keeping the first of each.
func dedupe(keys []string) []string {
	seen := make(map[string]struct{}, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, k)
	}
	return out
}
