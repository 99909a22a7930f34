package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// deadDSN points at a port nothing listens on.
const deadDSN = "postgres://postgres@127.0.0.1:1/jwtauth?sslmode=disable&connect_timeout=2"

// assertAllUnavailable calls every Store method and Migrate and checks
// that each fails with domain.ErrUnavailable without calling fn.
func assertAllUnavailable(t *testing.T, db *sqlx.DB, st ports.Store) {
	t.Helper()
	ctx := t.Context()
	_, err := st.Generation(ctx, "alice", domain.Access)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "Generation")
	_, err = st.Session(ctx, "sid")
	assert.ErrorIs(t, err, domain.ErrUnavailable, "Session")
	assert.NotErrorIs(t, err, domain.ErrSessionNotFound, "Session must not claim not found")
	_, err = st.Sessions(ctx, "alice")
	assert.ErrorIs(t, err, domain.ErrUnavailable, "Sessions")
	_, err = st.Prune(ctx, now, now)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "Prune")
	called := false
	err = st.UpdateUser(ctx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
		called = true
		return ports.UserChange{}, nil
	})
	assert.ErrorIs(t, err, domain.ErrUnavailable, "UpdateUser")
	assert.False(t, called, "fn not called")
	assert.ErrorIs(t, sqlstore.Migrate(ctx, db), domain.ErrUnavailable, "Migrate")
}

func TestClosedPool(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		st := b.newStore(db)
		require.NoError(t, db.Close())
		assertAllUnavailable(t, db, st)
	})
}

func TestPostgresDeadPort(t *testing.T) {
	db, err := sqlx.Open("postgres", deadDSN)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	assertAllUnavailable(t, db, sqlstore.NewPostgres(db))

	_, err = sqlstore.OpenPostgres(t.Context(), deadDSN)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "OpenPostgres checks the server answers")
}

func TestOpenSQLiteFailures(t *testing.T) {
	_, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "x.db"))
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	_, err = sqlstore.OpenSQLite(t.Context(), "")
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
}

func TestOpenSQLiteMemory(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(ctx, ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, sqlstore.Migrate(ctx, db))
	st := sqlstore.NewSQLite(db)
	_, err = login(ctx, st, "alice", "phone", limit3)
	require.NoError(t, err)
	live, err := st.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, live, 1)
}

func TestOpenSQLitePragmas(t *testing.T) {
	db := openSQLite(t)
	var mode string
	var timeout, fk int
	require.NoError(t, db.Get(&mode, `PRAGMA journal_mode`))
	require.NoError(t, db.Get(&timeout, `PRAGMA busy_timeout`))
	require.NoError(t, db.Get(&fk, `PRAGMA foreign_keys`))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 10000, timeout)
	assert.Equal(t, 1, fk)
}
