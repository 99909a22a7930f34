package sqlstore_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/ports"
	"github.com/jwtauth/jwtauth/ports/porttest"
)

// openPostgres returns a migrated pool on a fresh database of its own.
func openPostgres(tb testing.TB) *sqlx.DB {
	tb.Helper()
	db, err := sqlstore.OpenPostgres(context.Background(), pgtest.DSN(tb))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	require.NoError(tb, sqlstore.Migrate(context.Background(), db))
	return db
}

// openSQLite returns a migrated database in a file of its own.
func openSQLite(tb testing.TB) *sqlx.DB {
	tb.Helper()
	db, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "jwtauth.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	require.NoError(tb, sqlstore.Migrate(context.Background(), db))
	return db
}

// backend is one database the store runs on.
type backend struct {
	name     string
	open     func(tb testing.TB) *sqlx.DB
	newStore func(db *sqlx.DB, opts ...sqlstore.Option) *sqlstore.Store
}

var backends = []backend{
	{"postgres", openPostgres, sqlstore.NewPostgres},
	{"sqlite", openSQLite, sqlstore.NewSQLite},
}

// eachBackend runs f as a subtest per backend.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func TestStoreSuite(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		porttest.StoreSuite(t, func(t *testing.T, pub ports.Publisher) ports.Store {
			return b.newStore(b.open(t), sqlstore.WithPublisher(pub))
		})
	})
}

var now = time.Date(2031, 3, 4, 5, 6, 7, 891234567, time.UTC)

func session(userID, deviceID string) domain.Session {
	return domain.Session{
		ID:         domain.NewID(),
		UserID:     userID,
		DeviceID:   deviceID,
		DeviceName: "test agent",
		IP:         netip.MustParseAddr("192.0.2.7"),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(24 * time.Hour),
	}
}

func change(c ports.UserChange) func(domain.UserAuth) (ports.UserChange, error) {
	return func(domain.UserAuth) (ports.UserChange, error) { return c, nil }
}

func TestUpdateUserRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.newStore(b.open(t))
		ctx := t.Context()
		bobs := session("bob", "phone")
		require.NoError(t, st.UpdateUser(ctx, "bob", change(ports.UserChange{Put: []domain.Session{bobs}})))

		hijack := bobs
		hijack.UserID = "alice"
		foreign := session("bob", "laptop")
		noID := session("alice", "x")
		noID.ID = ""
		huge := session("alice", "x")
		huge.RefreshCounter = 1 << 63

		tests := []struct {
			name    string
			userID  string
			fn      func(domain.UserAuth) (ports.UserChange, error)
			wantErr error
		}{
			{"empty user id", "", change(ports.UserChange{}), domain.ErrInvalidArgument},
			{"nil fn", "alice", nil, domain.ErrInvalidArgument},
			{"session of another user", "alice", change(ports.UserChange{Put: []domain.Session{foreign}}), domain.ErrInvalidArgument},
			{"id owned by another user", "alice", change(ports.UserChange{Put: []domain.Session{hijack}}), domain.ErrInvalidArgument},
			{"session without id", "alice", change(ports.UserChange{Put: []domain.Session{noID}}), domain.ErrInvalidArgument},
			{"counter too large", "alice", change(ports.UserChange{Put: []domain.Session{huge}}), domain.ErrInvalidArgument},
			{"malformed generation", "alice", change(ports.UserChange{NewAccessGeneration: "not-a-uuid"}), domain.ErrInvalidArgument},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := st.UpdateUser(ctx, tt.userID, tt.fn)
				require.ErrorIs(t, err, tt.wantErr)
				got, err := st.Session(ctx, bobs.ID)
				require.NoError(t, err)
				assert.Equal(t, "bob", got.UserID, "bob's session untouched")
				gen, err := st.Generation(ctx, "alice", domain.Access)
				require.NoError(t, err)
				assert.Empty(t, gen, "nothing written for alice")
			})
		}
	})
}

func TestTimesComeBackUTC(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.newStore(b.open(t))
		s := session("alice", "phone")
		s.CreatedAt = s.CreatedAt.In(time.FixedZone("X", -7*3600))
		require.NoError(t, st.UpdateUser(t.Context(), "alice", change(ports.UserChange{Put: []domain.Session{s}})))
		got, err := st.Session(t.Context(), s.ID)
		require.NoError(t, err)
		assert.Equal(t, time.UTC, got.CreatedAt.Location())
		assert.Equal(t, now.Truncate(time.Microsecond), got.CreatedAt)
	})
}

func TestGenerationRejectsUnknownTokenType(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.newStore(b.open(t))
		_, err := st.Generation(t.Context(), "alice", domain.TokenType("id"))
		assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	})
}

func TestContextCancelled(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.newStore(b.open(t))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		called := false
		err := st.UpdateUser(ctx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
			called = true
			return ports.UserChange{}, nil
		})
		assert.ErrorIs(t, err, domain.ErrUnavailable)
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, called, "fn not called")

		_, err = st.Generation(ctx, "alice", domain.Access)
		assert.ErrorIs(t, err, context.Canceled)
		_, err = st.Session(ctx, "x")
		assert.ErrorIs(t, err, domain.ErrUnavailable)
		_, err = st.Sessions(ctx, "alice")
		assert.ErrorIs(t, err, domain.ErrUnavailable)
		_, err = st.Prune(ctx, now, time.Time{})
		assert.ErrorIs(t, err, domain.ErrUnavailable)
	})
}

func TestPublisherFailureAfterCommit(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		errBus := errors.New("bus down")
		spy := &porttest.PublisherSpy{Err: errBus}
		st := b.newStore(b.open(t), sqlstore.WithPublisher(spy))
		gen := domain.NewGeneration()
		err := st.UpdateUser(t.Context(), "alice", change(ports.UserChange{NewAccessGeneration: gen}))
		require.ErrorIs(t, err, domain.ErrUnavailable)
		require.ErrorIs(t, err, errBus)
		got, err := st.Generation(t.Context(), "alice", domain.Access)
		require.NoError(t, err)
		assert.Equal(t, gen, got, "the change is committed anyway")
		assert.Equal(t, []string{ports.GenerationKey("alice", domain.Access)}, spy.Keys())
	})
}

func TestWithClock(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		st := b.newStore(b.open(t), sqlstore.WithClock(func() time.Time { return now }))
		s := session("alice", "phone")
		require.NoError(t, st.UpdateUser(t.Context(), "alice", change(ports.UserChange{Put: []domain.Session{s}})))
		require.NoError(t, st.UpdateUser(t.Context(), "alice", change(ports.UserChange{Revoke: []string{s.ID}})))
		got, err := st.Session(t.Context(), s.ID)
		require.NoError(t, err)
		assert.Equal(t, now.Truncate(time.Microsecond), got.RevokedAt, "zero RevokedAt means the store's clock")
	})
}

// Prune works off a backlog larger than one batch, each batch under its own
// deadline, and leaves live sessions alone.
func TestPruneInBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		ctx := context.Background()
		old := time.Now().Add(-48 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		future := time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
		const ended = 2500
		_, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO jwtauth_sessions (id, user_id, created_at, last_seen_at, expires_at)
SELECT 'ended-' || n, 'alice', ?, ?, ? FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ?) SELECT n FROM c) AS s`),
			old, old, old, ended)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO jwtauth_sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ('live', 'alice', ?, ?, ?)`),
			old, future, future)
		require.NoError(t, err)

		st := b.newStore(db, sqlstore.WithTimeout(2*time.Second))
		n, err := st.Prune(ctx, time.Now(), time.Now().Add(-72*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, int64(ended), n)
		var left []string
		require.NoError(t, db.SelectContext(ctx, &left, `SELECT id FROM jwtauth_sessions`))
		assert.Equal(t, []string{"live"}, left)
	})
}
