package sqlstore_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// rawDB opens a database of the backend without migrating it.
func rawDB(t *testing.T, name string) *sqlx.DB {
	t.Helper()
	var db *sqlx.DB
	var err error
	if name == "postgres" {
		db, err = sqlstore.OpenPostgres(context.Background(), pgtest.DSN(t))
	} else {
		db, err = sqlstore.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "jwtauth.db"))
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// schema1 builds a schema-1 database as jwtauth 1 left it: its migration
// 0001 and the version table holding 1, with rows written in schema 1's
// own SQL.
func schema1(t *testing.T, name string, db *sqlx.DB) {
	t.Helper()
	_, err := db.Exec(sqlstore.MigrationSQL(name, "0001_init.sql"))
	require.NoError(t, err)
	versionTable := `CREATE TABLE jwtauth_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`
	if name == "sqlite" {
		versionTable = `CREATE TABLE jwtauth_schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`
	}
	_, err = db.Exec(versionTable)
	require.NoError(t, err)
	_, err = db.Exec(db.Rebind(`INSERT INTO jwtauth_schema_version (version, applied_at) VALUES (1, ?)`), "2026-01-01T00:00:00.000000Z")
	require.NoError(t, err)
}

const (
	genAliceAccess  = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	genAliceRefresh = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
	genBobAccess    = "6ba7b812-9dad-11d1-80b4-00c04fd430c8"
	genBobRefresh   = "6ba7b813-9dad-11d1-80b4-00c04fd430c8"
)

// fillSchema1 writes users and sessions in schema 1's tables.
func fillSchema1(t *testing.T, db *sqlx.DB) {
	t.Helper()
	ts := func(d time.Duration) string { return now.Add(d).UTC().Format("2006-01-02T15:04:05.000000Z") }
	for _, g := range [][3]string{{"alice", "access", genAliceAccess}, {"alice", "refresh", genAliceRefresh}, {"bob", "access", genBobAccess}, {"bob", "refresh", genBobRefresh}} {
		_, err := db.Exec(db.Rebind(`INSERT INTO user_auth (user_id, token_type, generation, updated_at) VALUES (?, ?, ?, ?)`), g[0], g[1], g[2], ts(0))
		require.NoError(t, err)
	}
	rows := []struct {
		id, user, dev, ip string
		counter           int
		rotated, revoked  any
	}{
		{"s-alice-phone", "alice", "phone", "192.0.2.7", 3, ts(-time.Minute), nil},
		{"s-alice-laptop", "alice", "laptop", "2001:db8::1", 0, nil, nil},
		{"s-alice-old", "alice", "tablet", "", 9, ts(-2 * time.Hour), ts(-time.Hour)},
		{"s-bob", "bob", "phone", "198.51.100.2", 1, nil, nil},
	}
	for _, r := range rows {
		_, err := db.Exec(db.Rebind(`INSERT INTO sessions (id, user_id, device_id, device_name, ip, created_at, last_seen_at, expires_at, refresh_counter, rotated_at, revoked_at)
VALUES (?, ?, ?, 'agent', ?, ?, ?, ?, ?, ?, ?)`), r.id, r.user, r.dev, r.ip, ts(-3*time.Hour), ts(-time.Minute), ts(24*time.Hour), r.counter, r.rotated, r.revoked)
		require.NoError(t, err)
	}
}

// TestMigrateUpgradesSchema1 upgrades a real schema-1 database holding
// data: the tables are renamed, every row is kept and readable by the
// store, and the store writes to it.
func TestMigrateUpgradesSchema1(t *testing.T) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			db := rawDB(t, name)
			schema1(t, name, db)
			fillSchema1(t, db)

			require.NoError(t, sqlstore.Migrate(t.Context(), db))
			require.NoError(t, sqlstore.Migrate(t.Context(), db), "idempotent")
			assert.Equal(t, []int{1, 2, 3}, schemaVersions(t, db))
			for _, old := range []string{"user_auth", "sessions"} {
				assert.Falsef(t, tableExists(t, name, db, old), "%s is gone", old)
			}
			var n int
			require.NoError(t, db.Get(&n, `SELECT count(*) FROM jwtauth_user_auth`))
			assert.Equal(t, 4, n)
			require.NoError(t, db.Get(&n, `SELECT count(*) FROM jwtauth_sessions`))
			assert.Equal(t, 4, n, "revoked history kept too")

			st := map[string]func(*sqlx.DB, ...sqlstore.Option) *sqlstore.Store{"postgres": sqlstore.NewPostgres, "sqlite": sqlstore.NewSQLite}[name](db)
			gen, err := st.Generation(t.Context(), "alice", "access")
			require.NoError(t, err)
			assert.Equal(t, genAliceAccess, gen)
			gen, err = st.Generation(t.Context(), "bob", "refresh")
			require.NoError(t, err)
			assert.Equal(t, genBobRefresh, gen)
			s, err := st.Session(t.Context(), "s-alice-phone")
			require.NoError(t, err)
			assert.Equal(t, "alice", s.UserID)
			assert.Equal(t, "phone", s.DeviceID)
			assert.Equal(t, netip.MustParseAddr("192.0.2.7"), s.IP)
			assert.EqualValues(t, 3, s.RefreshCounter)
			assert.True(t, s.ExpiresAt.Equal(now.Add(24*time.Hour).Truncate(time.Microsecond)), "%v", s.ExpiresAt)
			old, err := st.Session(t.Context(), "s-alice-old")
			require.NoError(t, err)
			assert.False(t, old.RevokedAt.IsZero(), "revoked stays revoked")
			live, err := st.Sessions(t.Context(), "alice")
			require.NoError(t, err)
			ids := make([]string, len(live))
			for i, s := range live {
				ids[i] = s.ID
			}
			assert.ElementsMatch(t, []string{"s-alice-phone", "s-alice-laptop"}, ids)
			_, err = login(t.Context(), st, "alice", "desktop", limit3)
			require.NoError(t, err, "the upgraded tables take writes")
			gen, err = st.Generation(t.Context(), "alice", "access")
			require.NoError(t, err)
			assert.Equal(t, genAliceAccess, gen, "a login rotates nothing")
		})
	}
}

// TestMigrateFreshAndUpgradedAgree: a new database (created from the
// current schema) and an upgraded schema-1 one have the same tables,
// columns and indexes.
func TestMigrateFreshAndUpgradedAgree(t *testing.T) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			fresh := rawDB(t, name)
			require.NoError(t, sqlstore.Migrate(t.Context(), fresh))
			upgraded := rawDB(t, name)
			schema1(t, name, upgraded)
			require.NoError(t, sqlstore.Migrate(t.Context(), upgraded))
			assert.Equal(t, describe(t, name, fresh), describe(t, name, upgraded))
			assert.Equal(t, schemaVersions(t, fresh), schemaVersions(t, upgraded))
		})
	}
}

// TestMigrateBesideApplicationTables: an application's own "sessions" and
// "user_auth" tables in the same database are left alone.
func TestMigrateBesideApplicationTables(t *testing.T) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			db := rawDB(t, name)
			_, err := db.Exec(`CREATE TABLE sessions (token TEXT PRIMARY KEY, data TEXT)`)
			require.NoError(t, err)
			_, err = db.Exec(`CREATE TABLE user_auth (login TEXT PRIMARY KEY)`)
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO sessions (token, data) VALUES ('app', 'kept')`)
			require.NoError(t, err)
			require.NoError(t, sqlstore.Migrate(t.Context(), db))
			var data string
			require.NoError(t, db.Get(&data, `SELECT data FROM sessions WHERE token = 'app'`))
			assert.Equal(t, "kept", data)
			st := map[string]func(*sqlx.DB, ...sqlstore.Option) *sqlstore.Store{"postgres": sqlstore.NewPostgres, "sqlite": sqlstore.NewSQLite}[name](db)
			_, err = login(t.Context(), st, "alice", "phone", limit3)
			require.NoError(t, err)
		})
	}
}

func tableExists(t *testing.T, name string, db *sqlx.DB, table string) bool {
	t.Helper()
	var n int
	q := `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	if name == "sqlite" {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	}
	require.NoError(t, db.Get(&n, q, table))
	return n > 0
}

// describe lists the jwtauth tables' columns and indexes.
func describe(t *testing.T, name string, db *sqlx.DB) []string {
	t.Helper()
	var out []string
	if name == "postgres" {
		require.NoError(t, db.Select(&out, `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
FROM information_schema.columns WHERE table_schema = current_schema() AND table_name LIKE 'jwtauth%'`))
		var idx []string
		require.NoError(t, db.Select(&idx, `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename LIKE 'jwtauth%'`))
		var cons []string
		require.NoError(t, db.Select(&cons, `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text LIKE 'jwtauth%'`))
		out = append(append(out, idx...), cons...)
	} else {
		var tables []string
		require.NoError(t, db.Select(&tables, `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'jwtauth%'`))
		for _, tb := range tables {
			var cols []string
			require.NoError(t, db.Select(&cols, `SELECT name || ' ' || type || ' ' || "notnull" || ' ' || COALESCE(dflt_value, '') || ' ' || pk FROM pragma_table_info(?)`, tb))
			for _, c := range cols {
				out = append(out, tb+"."+c)
			}
		}
		var idx []string
		require.NoError(t, db.Select(&idx, `SELECT name || ' ' || tbl_name || ' ' || COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'jwtauth%'`))
		out = append(out, idx...)
	}
	slices.Sort(out)
	require.NotEmpty(t, out)
	return out
}
