package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
)

func schemaVersions(t *testing.T, db *sqlx.DB) []int {
	t.Helper()
	var v []int
	require.NoError(t, db.Select(&v, `SELECT version FROM jwtauth_schema_version ORDER BY version`))
	return v
}

func TestMigrateIsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t) // migrated once
		require.NoError(t, sqlstore.Migrate(t.Context(), db))
		require.NoError(t, sqlstore.Migrate(t.Context(), db))
		assert.Equal(t, []int{1, 2, 3}, schemaVersions(t, db))
		st := b.newStore(db)
		_, err := login(t.Context(), st, "alice", "phone", limit3)
		require.NoError(t, err)
	})
}

// TestMigrateConcurrently migrates a fresh database from 5 pools at once,
// as 5 processes starting together would.
func TestMigrateConcurrently(t *testing.T) {
	const migrators = 5
	tests := []struct {
		name string
		open func(t *testing.T) func() *sqlx.DB // returns an opener of new pools on one fresh database
	}{
		{"postgres", func(t *testing.T) func() *sqlx.DB {
			dsn := pgtest.DSN(t)
			return func() *sqlx.DB {
				db, err := sqlstore.OpenPostgres(context.Background(), dsn)
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
		}},
		{"sqlite", func(t *testing.T) func() *sqlx.DB {
			path := filepath.Join(t.TempDir(), "jwtauth.db")
			return func() *sqlx.DB {
				db, err := sqlstore.OpenSQLite(context.Background(), path)
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := tt.open(t)
			dbs := make([]*sqlx.DB, migrators)
			for i := range dbs {
				dbs[i] = open()
			}
			var wg sync.WaitGroup
			errs := make(chan error, migrators)
			for _, db := range dbs {
				wg.Go(func() { errs <- sqlstore.Migrate(t.Context(), db) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				assert.NoError(t, err)
			}
			assert.Equal(t, []int{1, 2, 3}, schemaVersions(t, dbs[0]))
		})
	}
}

func TestMigrateUnknownDriver(t *testing.T) {
	err := sqlstore.Migrate(t.Context(), sqlx.NewDb(nil, "mysql"))
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
}

func TestMigratedSchema(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		for _, table := range []string{"jwtauth_user_auth", "jwtauth_sessions", "jwtauth_schema_version"} {
			var n int
			require.NoError(t, db.Get(&n, `SELECT count(*) FROM `+table), table)
		}
	})
}
