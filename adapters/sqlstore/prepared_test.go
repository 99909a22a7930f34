package sqlstore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
)

func TestPreparedStatements(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (*sqlx.DB, *Store)
	}{
		{"postgres", func(t *testing.T) (*sqlx.DB, *Store) {
			db, err := OpenPostgres(ctx, pgtest.DSN(t))
			require.NoError(t, err)
			return db, NewPostgres(db)
		}},
		{"sqlite", func(t *testing.T) (*sqlx.DB, *Store) {
			db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "jwtauth.db"))
			require.NoError(t, err)
			return db, NewSQLite(db)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, st := tc.open(t)
			t.Cleanup(func() { _ = db.Close() })
			assert.Nil(t, st.prepared(ctx), "nothing to prepare against before Migrate")
			require.NoError(t, Migrate(ctx, db))

			m := st.prepared(ctx)
			require.Len(t, m, len(st.preparedQueries()))
			// The single-id revoke, as revoke writes it, is among them.
			q, _, err := sqlx.In(revokeSessions, "at", "user", []string{"id"})
			require.NoError(t, err)
			assert.Contains(t, m, st.dialect.rebind(q))
			assert.Equal(t, m, st.prepared(ctx), "prepared once")

			// A store whose statements are prepared still works.
			_, err = st.Generation(ctx, "alice", "access")
			require.NoError(t, err)
		})
	}
}
