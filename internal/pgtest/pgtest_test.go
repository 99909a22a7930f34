package pgtest

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func dbExists(t *testing.T, name string) bool {
	t.Helper()
	db, err := adminDB(DefaultURL)
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(),
		`SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n))
	return n == 1
}

func TestDSNGivesEachTestItsOwnDatabase(t *testing.T) {
	t.Setenv(EnvURL, "")
	var names []string
	for range 2 {
		t.Run("sub", func(t *testing.T) {
			db := Open(t)
			var name string
			require.NoError(t, db.Get(&name, `SELECT current_database()`))
			assert.Regexp(t, `^jwtauth_test_[0-9a-f]{16}$`, name)
			var tables int
			require.NoError(t, db.Get(&tables, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`))
			assert.Zero(t, tables, "database must be empty")
			_, err := db.Exec(`CREATE TABLE t (x int)`)
			require.NoError(t, err)
			names = append(names, name)
		})
	}
	require.Len(t, names, 2)
	assert.NotEqual(t, names[0], names[1])
	for _, n := range names {
		assert.False(t, dbExists(t, n), "database %s must be dropped after its test", n)
	}
}

func TestDSNParallel(t *testing.T) {
	t.Setenv(EnvURL, "")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			// Each goroutine's database lives until the end of this test.
			_ = DSN(t)
		})
	}
	wg.Wait()
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ name, base, want string }{
		{"url", "postgres://u:p@h:5432/test?sslmode=disable", "postgres://u:p@h:5432/x?sslmode=disable"},
		{"url without path", "postgresql://h", "postgresql://h/x"},
		{"key value", "host=h user=u dbname=test", "host=h user=u dbname=test dbname=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, withDatabase(tt.base, "x"))
		})
	}
}

// recordingTB records Skip and Fatal instead of ending the real test.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Skip(args ...any) {
	r.skipped = args[0].(string)
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.fatal = args[0].(string)
	runtime.Goexit()
}

func runDSN(tb *recordingTB) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		DSN(tb)
	}()
	<-done
}

func TestDSNUnreachable(t *testing.T) {
	t.Setenv(EnvURL, "postgres://nobody:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=1")

	t.Setenv("CI", "")
	rec := &recordingTB{TB: t}
	runDSN(rec)
	assert.Empty(t, rec.fatal)
	assert.Contains(t, rec.skipped, "pg_ctlcluster --skip-systemctl-redirect")
	assert.Contains(t, rec.skipped, EnvURL)
	assert.NotContains(t, rec.skipped, "secret", "password must not be printed")

	t.Setenv("CI", "true")
	rec = &recordingTB{TB: t}
	runDSN(rec)
	assert.Empty(t, rec.skipped)
	assert.Contains(t, rec.fatal, "pg_ctlcluster --skip-systemctl-redirect")
}
